"""Rasa's SQL tracker store, configured by the one `DATABASE_URL` setting."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Dict

import sqlalchemy as sa
import sqlalchemy.orm
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine.url import make_url

from practice.settings import get_settings


def sql_store_arguments(database_url: str) -> Dict[str, Any]:
    """Split a SQLAlchemy URL into the arguments `SQLTrackerStore` takes."""
    url = make_url(database_url)
    dialect = url.drivername
    if dialect.startswith("sqlite"):
        if url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        return {"dialect": dialect, "db": url.database or "conversations.db"}
    return {
        "dialect": dialect,
        "host": url.host,
        "port": url.port,
        "db": url.database,
        "username": url.username,
        "password": url.password,
        "query": dict(url.query),
    }


class ConfiguredSQLTrackerStore(SQLTrackerStore):
    """SQL tracker store whose database comes from the practice's settings."""

    def __init__(
        self,
        domain: Domain | None = None,
        event_broker: EventBroker | None = None,
        database_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Connect to `database_url`, or to the configured `DATABASE_URL`."""
        url = database_url or get_settings().database_url
        super().__init__(domain=domain, event_broker=event_broker, **sql_store_arguments(url))
        # Test pooled connections before use, so the first message after a database
        # restart gets a fresh connection instead of a 503 (docs/RELIABILITY.md).
        engine_url = self.engine.url
        self.engine.dispose()
        engine_kwargs = create_engine_kwargs(engine_url)
        sqlite_file = engine_url.get_backend_name() == "sqlite" and engine_url.database not in (
            None,
            "",
            ":memory:",
        )
        if sqlite_file:
            # SQLAlchemy 1.4 opens and closes a SQLite file per session; closing the last
            # connection checkpoints the write-ahead log (an fsync). Keep a few open.
            engine_kwargs.update(
                poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False}
            )
        self.engine = sa.create_engine(engine_url, pool_pre_ping=True, **engine_kwargs)
        if sqlite_file:
            sa.event.listen(self.engine, "connect", _sqlite_write_ahead_log)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session's tracker, remembering how many of its events are stored."""
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            _remember_stored(tracker, len(tracker.events))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events; afterwards all of them count as stored."""
        await super().save(tracker)
        _remember_stored(tracker, len(tracker.events))

    def _additional_events(self, session: sa.orm.Session, tracker: DialogueStateTracker) -> Any:
        """The events not stored yet: known for a tracker this store loaded or saved.

        Rasa counts the stored events of the latest session with a query on every save
        (a tenth of the server's time per message: docs/BENCHMARKS.md). A tracker that came
        from `retrieve` or went through `save` here already says how many are stored: the
        conversation lock keeps anyone else from adding to it in between. Any other tracker
        (a new conversation, a full-history export) is counted as Rasa does.
        """
        stored = tracker.__dict__.get(_STORED_EVENTS)
        if stored is None or stored[0] != tracker.sender_id:
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored[1], len(tracker.events))


# Set on a tracker by this store: (sender id, number of its events already in the database).
_STORED_EVENTS = "_practice_stored_events"


def _remember_stored(tracker: DialogueStateTracker, count: int) -> None:
    tracker.__dict__[_STORED_EVENTS] = (tracker.sender_id, count)


def _sqlite_write_ahead_log(dbapi_connection: Any, _record: Any) -> None:
    """WAL with synchronous=NORMAL on every SQLite connection.

    Rasa commits on the event loop, so every turn waited for SQLite's default rollback
    journal to fsync (13 ms a commit here, a third of the server's time under load:
    docs/BENCHMARKS.md). In WAL mode a commit appends to the log; with NORMAL it is durable
    across crashes and restarts of the server, and only the last commits before a power
    loss of the machine may be lost. The console reads without blocking the writer, too.
    PostgreSQL (production) is unaffected.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
