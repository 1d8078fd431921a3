"""Per-conversation ticket locks: in memory for one process, a file or Redis for several.

Rasa processes one conversation's messages one at a time, in ticket order, through a
lock store. Its `RedisLockStore` reads a lock, changes it in Python and writes it back in
separate commands, so two server processes issuing tickets at once can draw the same
number (two messages of one visitor processed together, events duplicated or lost) or
undo each other's release (a visitor stuck for the lock's lifetime). Here every change
is one optimistic Redis transaction (WATCH/MULTI/EXEC), a lock with no tickets is deleted
in the same step, and waiters poll at a pace set by their place in the queue instead of
Rasa's fixed one second, so fifty queued messages take seconds rather than a minute.

`LOCK_STORE_URL` selects where locks live: a `redis://` or `rediss://` URL (several hosts),
a `sqlite:///path` file (several server processes on one host: the default of `make run`
with RASA_WORKERS above one), or nothing (memory: one process).
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncGenerator, Callable, Dict, Tuple, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from practice.settings import get_settings
from practice.store.shared_file import SharedSQLite, shared_file_of

logger = logging.getLogger(__name__)

T = TypeVar("T")
Change = Callable[[TicketLock], T]

KEY_PREFIX = "practice:lock:"
# The next in line checks this often; the k-th in line k times less often, up to the cap.
POLL_SECONDS = 0.02
MAX_POLL_SECONDS = 0.5


def _holds(lock: TicketLock, number: int) -> bool:
    """True while ticket `number` is in the queue and has not expired."""
    return any(t.number == number and not t.has_expired() for t in lock.tickets)


def apply_change(
    lock: TicketLock | None, conversation_id: str, change: Change[T], create: bool
) -> Tuple[TicketLock | None, T | None]:
    """Apply `change` to a conversation's lock (a new one when missing and `create`).

    Returns the lock to store, or None when it has no tickets left (or there was none to
    change) and must be deleted, and what `change` returned.
    """
    if lock is None:
        if not create:
            return None, None
        lock = TicketLock(conversation_id)
    result = change(lock)
    return (lock if lock.tickets else None), result


class MemoryTickets:
    """Locks in a dict: every change is atomic because one event loop runs them."""

    def __init__(self) -> None:
        """Start with no locks."""
        self.locks: Dict[str, TicketLock] = {}

    def get(self, conversation_id: str) -> TicketLock | None:
        """The lock of the conversation, if any."""
        return self.locks.get(conversation_id)

    def update(self, conversation_id: str, change: Change[T], create: bool) -> T | None:
        """Apply `change` to the lock; keep it while it has tickets, drop it when empty."""
        lock, result = apply_change(self.locks.get(conversation_id), conversation_id, change, create)
        if lock is not None:
            self.locks[conversation_id] = lock
        else:
            self.locks.pop(conversation_id, None)
        return result

    def delete(self, conversation_id: str) -> None:
        """Forget the conversation's lock."""
        self.locks.pop(conversation_id, None)


class RedisTickets:
    """Locks in Redis, each change one WATCH/MULTI/EXEC transaction retried on conflict."""

    def __init__(self, url: str, lifetime: float, socket_timeout: float = 5.0) -> None:
        """Connect lazily to the Redis server at `url`."""
        import redis

        self.red = redis.Redis.from_url(url, socket_timeout=socket_timeout)
        # A lock whose holders all crashed disappears on its own a little after its tickets.
        self.key_ttl = int(lifetime) + 60

    def _key(self, conversation_id: str) -> str:
        return KEY_PREFIX + conversation_id

    def get(self, conversation_id: str) -> TicketLock | None:
        """The lock of the conversation, if any."""
        raw = self.red.get(self._key(conversation_id))
        return TicketLock.from_dict(json.loads(raw)) if raw else None

    def update(self, conversation_id: str, change: Change[T], create: bool) -> T | None:
        """Apply `change` atomically; a concurrent writer makes the transaction retry."""
        key = self._key(conversation_id)

        def transaction(pipe: Any) -> T | None:
            raw = pipe.get(key)
            stored = TicketLock.from_dict(json.loads(raw)) if raw else None
            lock, result = apply_change(stored, conversation_id, change, create)
            pipe.multi()
            if lock is not None:
                pipe.set(key, lock.dumps(), ex=self.key_ttl)
            elif stored is not None:
                pipe.delete(key)
            return result

        return self.red.transaction(transaction, key, value_from_callable=True)

    def delete(self, conversation_id: str) -> None:
        """Forget the conversation's lock."""
        self.red.delete(self._key(conversation_id))


class SQLiteTickets:
    """Locks in a SQLite file shared by the server processes of one host.

    Every change is one write transaction, so only one process changes locks at a time;
    a lock left behind by a crash holds only expired tickets (practice/store/shared_file.py).
    """

    def __init__(self, path: Path) -> None:
        """Keep locks in the file at `path`."""
        self.file = SharedSQLite(
            path,
            ["CREATE TABLE IF NOT EXISTS locks (conversation_id TEXT PRIMARY KEY, lock TEXT NOT NULL)"],
        )

    def get(self, conversation_id: str) -> TicketLock | None:
        """The lock of the conversation, if any."""
        return self._read(self.file.db, conversation_id)

    @staticmethod
    def _read(db: Any, conversation_id: str) -> TicketLock | None:
        row = db.execute("SELECT lock FROM locks WHERE conversation_id = ?", (conversation_id,)).fetchone()
        return TicketLock.from_dict(json.loads(row[0])) if row else None

    def update(self, conversation_id: str, change: Change[T], create: bool) -> T | None:
        """Apply `change` inside one write transaction; other processes wait their turn."""
        with self.file.transaction() as db:
            lock, result = apply_change(self._read(db, conversation_id), conversation_id, change, create)
            if lock is not None:
                db.execute(
                    "INSERT OR REPLACE INTO locks (conversation_id, lock) VALUES (?, ?)",
                    (conversation_id, lock.dumps()),
                )
            else:
                db.execute("DELETE FROM locks WHERE conversation_id = ?", (conversation_id,))
            return result

    def delete(self, conversation_id: str) -> None:
        """Forget the conversation's lock."""
        self.file.db.execute("DELETE FROM locks WHERE conversation_id = ?", (conversation_id,))


def tickets_backend(url: str | None, lifetime: float) -> MemoryTickets | RedisTickets | SQLiteTickets:
    """Where the locks of `url` live: Redis, a SQLite file, or (no URL) this process's memory."""
    if not url:
        return MemoryTickets()
    shared_file = shared_file_of(url)
    if shared_file is not None:
        return SQLiteTickets(shared_file)
    return RedisTickets(url, lifetime)


class PracticeLockStore(LockStore):
    """Rasa lock store with atomic ticket changes, in memory, a SQLite file or Redis."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        url: str | None = None,
        lifetime: float = LOCK_LIFETIME,
    ) -> None:
        """Keep locks where `url` says (default: the `LOCK_STORE_URL` setting), else in memory."""
        url = url if url is not None else get_settings().lock_store_url
        self.lifetime = lifetime
        self.backend = tickets_backend(url, lifetime)
        logger.info("Conversation locks kept in %s.", type(self.backend).__name__)
        super().__init__()

    # Storage primitives Rasa's base class expects.
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """The lock of the conversation, if any."""
        return self.backend.get(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        """Forget the conversation's lock."""
        self.backend.delete(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        """Replace the conversation's lock (not used by this class's own steps)."""
        tickets = lock.tickets

        def replace(current: TicketLock) -> None:
            current.tickets = tickets

        self.backend.update(lock.conversation_id, replace, create=True)

    # Every read-modify-write step of the base class, made atomic.
    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Append a ticket to the conversation's queue and return its number."""
        try:
            ticket = self.backend.update(conversation_id, lambda lock: lock.issue_ticket(lock_lifetime), create=True)
        except Exception as error:
            raise LockError(f"Could not issue a ticket: {type(error).__name__}: {error}") from error
        if ticket is None:  # `create=True` always leaves a lock to issue from
            raise LockError("Could not issue a ticket: no lock was created")
        return ticket

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets."""
        self.backend.update(conversation_id, lambda lock: lock.remove_expired_tickets(), False)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Remove the ticket; the lock goes when no ticket is left."""
        self.backend.update(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number), create=False)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Release the ticket (the same single step as `finish_serving`)."""
        self.finish_serving(conversation_id, ticket_number)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = POLL_SECONDS,
    ) -> AsyncGenerator[TicketLock, None]:
        """Hold the conversation's lock: wait for this ticket's turn, release on exit."""
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        try:
            yield await self._wait_for_turn(conversation_id, ticket, wait_time_in_seconds)
        finally:
            try:
                self.cleanup(conversation_id, ticket)
            except Exception as error:  # the ticket expires on its own
                logger.error("Could not release a conversation lock: %s", type(error).__name__)

    async def _wait_for_turn(self, conversation_id: str, ticket: int, poll_seconds: float) -> TicketLock:
        while True:
            try:
                lock = self.get_lock(conversation_id)
            except Exception as error:
                raise LockError(f"Lock store unavailable: {type(error).__name__}") from error
            # `now_serving` ignores expired tickets, so a crashed holder only delays.
            if lock is None or not _holds(lock, ticket):
                raise LockError(f"Ticket {ticket} of a conversation expired while waiting.")
            if not lock.is_locked(ticket):
                # A turn is CPU-bound and rarely suspends: yield once so the event loop
                # takes in other requests first, or a burst for one visitor would hold
                # every other visitor until the whole burst is done.
                await asyncio.sleep(0)
                return lock
            ahead = max(1, ticket - (lock.now_serving or 0))
            await asyncio.sleep(min(poll_seconds * ahead, MAX_POLL_SECONDS))
