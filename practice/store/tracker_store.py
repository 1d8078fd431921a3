"""Rasa's SQL tracker store, configured by the one `DATABASE_URL` setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import sqlalchemy as sa
import sqlalchemy.orm
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
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
        self.engine = sa.create_engine(
            engine_url, pool_pre_ping=True, **create_engine_kwargs(engine_url)
        )
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
