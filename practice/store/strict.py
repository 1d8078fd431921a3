"""A tracker store that fails loudly instead of falling back to memory.

Rasa wraps every tracker store in `FailSafeTrackerStore`: when the database is down it
logs an error, starts a blank conversation and keeps the new messages in memory only,
where a restart loses them and the other server processes never see them
(RasaHQ/rasa#3243, #6125). For a practice that promises to keep what visitors say, a
clear "try again" (HTTP 503 from the channels) is better than a reply from a bot that
forgot the conversation and a message that never reaches the database.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable

from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)


class ConversationStoreUnavailable(ConnectionError):
    """The conversation database could not be read or written; nothing was kept.

    A `ConnectionError`, so the channels answer it as they answer any store outage: 503.
    """


def describe_error(error: BaseException) -> str:
    """The error's class and first line, without SQL parameters (they hold visitor text)."""
    original = getattr(error, "orig", None) or error
    first_line = (str(original).strip().splitlines() or [""])[0][:200]
    return f"{type(error).__name__}: {first_line}"


class StrictTrackerStore(TrackerStore):
    """Delegates to the configured store and turns its failures into one clear error."""

    def __init__(self, tracker_store: TrackerStore) -> None:
        """Wrap `tracker_store`; its domain and event broker are shared."""
        self._tracker_store = tracker_store
        super().__init__(tracker_store.domain, tracker_store.event_broker)

    @property
    def inner(self) -> TrackerStore:
        """The wrapped store."""
        return self._tracker_store

    @property
    def domain(self) -> Domain:
        """The wrapped store's domain."""
        return self._tracker_store.domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        self._tracker_store.domain = domain or Domain.empty()

    def _unavailable(self, operation: str, sender_id: str, error: Exception) -> Exception:
        logger.error(
            "Conversation store unavailable: %s of conversation %s failed (%s); "
            "the channel answers 503 and nothing is kept in memory.",
            operation,
            sender_id,
            describe_error(error),
        )
        return ConversationStoreUnavailable(f"{operation} failed: {describe_error(error)}")

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session of the conversation, or None if there is none."""
        try:
            return await self._tracker_store.retrieve(sender_id)
        except Exception as error:
            raise self._unavailable("reading", sender_id, error) from error

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        """Every session of the conversation, or None if there is none."""
        try:
            return await self._tracker_store.retrieve_full_tracker(sender_id)
        except Exception as error:
            raise self._unavailable("reading", sender_id, error) from error

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the conversation's new events, or raise `ConversationStoreUnavailable`."""
        try:
            await self._tracker_store.save(tracker)
        except Exception as error:
            raise self._unavailable("saving", tracker.sender_id, error) from error

    async def keys(self) -> Iterable[str]:
        """Every conversation id."""
        try:
            return await self._tracker_store.keys()
        except Exception as error:
            raise self._unavailable("listing", "*", error) from error

    def __getattr__(self, name: str) -> Any:
        """Anything else (engine, sessions) comes from the wrapped store."""
        if name == "_tracker_store":
            raise AttributeError(name)
        return getattr(self._tracker_store, name)


def strict_tracker_store(store: TrackerStore | None, domain: Domain) -> TrackerStore:
    """Replacement for `Agent._create_tracker_store`: wrap strictly, never in memory."""
    from rasa.core.tracker_store import InMemoryTrackerStore

    if store is None:
        # No store configured at all (unit tests, `rasa shell`): memory is what was asked.
        return InMemoryTrackerStore(domain)
    store.domain = domain
    return store if isinstance(store, StrictTrackerStore) else StrictTrackerStore(store)
