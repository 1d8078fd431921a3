"""The one way the project opens its database (DATABASE_URL): SQLite file or PostgreSQL.

The console, the NLU inbox and retraining, the accounts command and retention all read and
write the conversations' database through an engine made here. Rasa's own tracker store
(practice/store/tracker_store.py) keeps the engine Rasa builds, with its pool settings.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any, ContextManager, Dict, Union

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

# A change runs in its own transaction on an engine, or inside the caller's on a connection
# (`audit.audited` writes a change and its audit entry in one transaction).
Bind = Union[Engine, Connection]


def transaction(bind: Bind) -> ContextManager[Connection]:
    """A transaction of its own on an engine; the caller's on a connection."""
    return bind.begin() if isinstance(bind, Engine) else nullcontext(bind)


def create_engine(database_url: str) -> Engine:
    """An engine on the conversations' database, pooled for the console's worker threads."""
    url = sa.engine.make_url(database_url)
    kwargs: Dict[str, Any] = {"future": True}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            # The console may start before Rasa creates the conversations file's folder.
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # Sanic hands queries to worker threads; each gets its own pooled connection.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        kwargs["poolclass"] = sa.pool.QueuePool
        kwargs["pool_size"] = 4
    elif url.get_backend_name() == "postgresql":
        kwargs["executemany_mode"] = "values_plus_batch"
        kwargs["pool_pre_ping"] = True
    engine = sa.create_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # A bigger page cache and memory-mapped reads keep full scans of the summary fast.
    cursor.execute("PRAGMA cache_size = -65536")
    cursor.execute("PRAGMA mmap_size = 268435456")
    cursor.execute("PRAGMA temp_store = MEMORY")
    cursor.close()
