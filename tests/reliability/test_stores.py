"""The lock store and the strict tracker store, without a Rasa server."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Iterator, List

import pytest
from rasa.core.agent import Agent
from rasa.core.lock_store import LockError
from rasa.core.tracker_store import InMemoryTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import OperationalError

from practice.rasa_runtime import install
from practice.settings import load_settings
from practice.store.lock_store import PracticeLockStore
from practice.store.strict import ConversationStoreUnavailable, StrictTrackerStore
from practice.store.tracker_store import ConfiguredSQLTrackerStore
from tests.reliability.services import RedisServer


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server for this module."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


@pytest.fixture(params=["redis", "sqlite"])
def shared_lock_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty lock store that several server processes share: Redis, or a SQLite file."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'locks.db'}"
    url = request.getfixturevalue("redis_url")
    PracticeLockStore(url=url).backend.red.flushdb()
    return url


@pytest.fixture(params=["memory", "redis", "sqlite"])
def lock_store(request: pytest.FixtureRequest, tmp_path: Path) -> PracticeLockStore:
    """The lock store on each backend."""
    if request.param == "memory":
        return PracticeLockStore(url="")
    if request.param == "sqlite":
        return PracticeLockStore(url=f"sqlite:///{tmp_path / 'locks.db'}")
    store = PracticeLockStore(url=request.getfixturevalue("redis_url"))
    store.backend.red.flushdb()
    return store


async def test_one_conversation_is_served_one_at_a_time_in_ticket_order(
    lock_store: PracticeLockStore,
) -> None:
    log: List[str] = []

    async def turn(index: int) -> None:
        async with lock_store.lock("visitor"):
            log.append(f"start {index}")
            await asyncio.sleep(0.001)
            log.append(f"end {index}")

    # Tasks ask for their ticket in creation order, the way requests arrive.
    await asyncio.gather(*(turn(i) for i in range(50)))

    expected = [entry for i in range(50) for entry in (f"start {i}", f"end {i}")]
    assert log == expected
    assert lock_store.get_lock("visitor") is None  # released and removed when done


async def test_conversations_do_not_wait_for_each_other(lock_store: PracticeLockStore) -> None:
    inside = asyncio.Event()
    release = asyncio.Event()

    async def slow_turn() -> None:
        async with lock_store.lock("first"):
            inside.set()
            await release.wait()

    holder = asyncio.create_task(slow_turn())
    await inside.wait()
    # A second conversation gets its lock at once while the first is still busy.
    async with lock_store.lock("second"):
        assert not holder.done()
    release.set()
    await holder


async def test_an_expired_ticket_stops_waiting_with_a_lock_error() -> None:
    store = PracticeLockStore(url="")
    async with store.lock("visitor", lock_lifetime=60):
        with pytest.raises(LockError):
            # Our ticket's lifetime ends while the first holder is still busy.
            async with store.lock("visitor", lock_lifetime=0.05):
                pass


def test_two_processes_never_draw_the_same_ticket(shared_lock_url: str) -> None:
    # Four lock store instances with their own connections stand for four server
    # processes. Rasa's own RedisLockStore draws duplicate numbers in this test.
    stores = [PracticeLockStore(url=shared_lock_url) for _ in range(4)]
    drawn: List[int] = []
    guard = threading.Lock()

    def draw(store: PracticeLockStore) -> None:
        for _ in range(100):
            ticket = store.issue_ticket("shared", 60)
            with guard:
                drawn.append(ticket)

    threads = [threading.Thread(target=draw, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(drawn) == list(range(400))


def test_concurrent_releases_are_not_lost(shared_lock_url: str) -> None:
    stores = [PracticeLockStore(url=shared_lock_url) for _ in range(4)]
    tickets = [stores[0].issue_ticket("shared", 60) for _ in range(400)]

    def release(store: PracticeLockStore, mine: List[int]) -> None:
        for ticket in mine:
            store.cleanup("shared", ticket)

    threads = [threading.Thread(target=release, args=(s, tickets[i::4])) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert stores[0].get_lock("shared") is None


async def test_redis_down_is_a_lock_error(tmp_path: Path) -> None:
    server = RedisServer(tmp_path).start()
    store = PracticeLockStore(url=server.url)
    server.stop()
    with pytest.raises(LockError):
        async with store.lock("visitor"):
            pass


class BrokenStore(TrackerStore):
    """A tracker store whose database is down."""

    def __init__(self) -> None:
        super().__init__(Domain.empty())

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        raise OperationalError("SELECT ...", {"data": "SECRET-VISITOR-TEXT"}, Exception("down"))

    async def save(self, tracker: DialogueStateTracker) -> None:
        raise OperationalError("INSERT ...", {"data": "SECRET-VISITOR-TEXT"}, Exception("down"))


async def test_strict_store_raises_and_logs_without_visitor_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = StrictTrackerStore(BrokenStore())
    tracker = DialogueStateTracker.from_events("visitor-1", [UserUttered("SECRET-VISITOR-TEXT")])
    with caplog.at_level(logging.ERROR):
        with pytest.raises(ConversationStoreUnavailable):
            await store.save(tracker)
        with pytest.raises(ConversationStoreUnavailable):
            await store.get_or_create_tracker("visitor-1")
    assert "Conversation store unavailable" in caplog.text
    assert "SECRET-VISITOR-TEXT" not in caplog.text


def test_the_runtime_caps_the_action_timeout_and_drops_the_memory_fallback() -> None:
    import rasa.core.actions.action as remote_actions

    original_timeout = remote_actions.DEFAULT_REQUEST_TIMEOUT
    original_factory = Agent.__dict__["_create_tracker_store"]
    try:
        install(load_settings({"ACTION_TIMEOUT_SECONDS": "2.5"}))
        assert remote_actions.DEFAULT_REQUEST_TIMEOUT == 2.5
        wrapped = Agent._create_tracker_store(BrokenStore(), Domain.empty())
        assert isinstance(wrapped, StrictTrackerStore)
        # No store configured at all stays in memory, as asked.
        assert isinstance(Agent._create_tracker_store(None, Domain.empty()), InMemoryTrackerStore)
    finally:
        remote_actions.DEFAULT_REQUEST_TIMEOUT = original_timeout
        Agent._create_tracker_store = original_factory


async def test_strict_store_passes_sql_through(tmp_path: Path) -> None:
    inner = ConfiguredSQLTrackerStore(Domain.empty(), database_url=f"sqlite:///{tmp_path}/t.db")
    store = StrictTrackerStore(inner)
    tracker = DialogueStateTracker.from_events("visitor-2", [UserUttered("hello")])
    await store.save(tracker)
    again = await store.retrieve("visitor-2")
    assert again is not None and [e.text for e in again.events] == ["hello"]
    assert list(await store.keys()) == ["visitor-2"]
