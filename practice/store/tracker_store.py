"""Rasa's SQL tracker store, configured by the one `DATABASE_URL` setting."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any, Dict

import sqlalchemy as sa
import sqlalchemy.orm
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.engine.url import make_url

from practice.settings import get_settings
from practice.store.shared_file import use_write_ahead_log


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

    engine: sa.engine.Engine  # made by Rasa's __init__, replaced below

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
            engine_kwargs.update(poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False})
        self.engine = sa.create_engine(engine_url, pool_pre_ping=True, **engine_kwargs)
        if sqlite_file:
            sa.event.listen(self.engine, "connect", _sqlite_write_ahead_log)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self._latest_session_query = _data_query(self.SQLEvent.__table__, latest_session=True)
        self._all_sessions_query = _data_query(self.SQLEvent.__table__, latest_session=False)
        self._insert_events = self.SQLEvent.__table__.insert()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session's tracker, remembering how many of its events are stored."""
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            _remember_stored(tracker, len(tracker.events))
        return tracker

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        """Rasa's query (`_event_query`), built once, reading only the `data` column.

        The same rows in the same order give the same tracker; building an ORM object per
        stored event was a sixth of the time spent loading a tracker, and building the ORM
        query on every load another third of it (docs/BENCHMARKS.md).
        """
        query = self._all_sessions_query if fetch_events_from_all_sessions else self._latest_session_query
        with self.session_scope() as session:
            events = [json.loads(data) for (data,) in session.execute(query, {"sender_id": sender_id})]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events, the rows Rasa writes, in one multi-row INSERT.

        Rasa adds an ORM object per event and flushes them one by one through SQLAlchemy's
        unit of work; a plain INSERT of the same rows costs a fraction of that. Afterwards
        all of the tracker's events count as stored.
        """
        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = [_event_row(tracker.sender_id, e) for e in self._additional_events(session, tracker)]
            if rows:
                session.execute(self._insert_events, rows)
            session.commit()
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


def _data_query(events: sa.Table, latest_session: bool) -> sa.sql.Select:
    """The `data` column of the rows Rasa's `SQLTrackerStore._event_query` selects, in its order.

    The sender is the bound parameter `sender_id`; built once, the statement is compiled
    once too (SQLAlchemy caches it), where the ORM query was rebuilt on every load.
    """
    sender = sa.bindparam("sender_id")
    query = sa.select(events.c.data).where(events.c.sender_id == sender)
    if latest_session:
        # From the latest `SessionStarted` on, or every event when there is none.
        session_start = (
            sa.select(sa.func.max(events.c.timestamp).label("session_start"))
            .where(events.c.sender_id == sender, events.c.type_name == SessionStarted.type_name)
            .subquery()
        )
        query = query.where(
            sa.or_(
                events.c.timestamp >= session_start.c.session_start,
                session_start.c.session_start.is_(None),
            )
        )
    return query.order_by(events.c.id)


def _event_row(sender_id: str, event: Event) -> Dict[str, Any]:
    """The `events` row Rasa's `SQLTrackerStore.save` writes for `event`."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


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
    use_write_ahead_log(dbapi_connection)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
