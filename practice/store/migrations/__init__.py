"""Versioned migrations of the project's own tables (Alembic), run at every start.

The console, the NLU inbox and retraining keep their tables next to Rasa's `events` in the
one database of DATABASE_URL. Their schema is the chain of revisions in `versions/`; every
process that opens the database calls `upgrade` first, which brings it to the newest
revision (the head) and does nothing when it is there already. Rasa's `events` table is
Rasa's: no revision creates, alters or drops it.

A database made before these migrations (the project's tables, no `alembic_version`) is
taken over by the first revision, which creates only what it lacks (docs/CONSOLE.md,
"Changing the database"). Alembic is configured here, in code; there is no alembic.ini.
Staff run it by hand with `python -m practice.store.migrations upgrade`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional, Tuple

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from practice.store.events import EVENTS_TABLE

SCRIPTS = Path(__file__).resolve().parent
VERSIONS = SCRIPTS / "versions"
VERSION_TABLE = "alembic_version"
# Every table the project owns is named console_*; anything else in the database (Rasa's
# `events`, another application's tables) is not ours to create, change or drop.
OWN_PREFIX = "console_"
# Any constant: the PostgreSQL advisory lock two processes starting at once queue on.
_LOCK_KEY = 72_017


def config(connection: Optional[Connection] = None) -> Config:
    """Alembic's configuration in code: the scripts here, revisions named `0002_<slug>.py`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    # A new revision is written in the house style (`make lint` checks it like any module).
    cfg.set_section_option("post_write_hooks", "hooks", "ruff_fix, ruff_format")
    for name, options in (("ruff_fix", "check --fix"), ("ruff_format", "format")):
        cfg.set_section_option("post_write_hooks", f"{name}.type", "module")
        cfg.set_section_option("post_write_hooks", f"{name}.module", "ruff")
        cfg.set_section_option("post_write_hooks", f"{name}.options", f"{options} REVISION_SCRIPT_FILENAME")
    cfg.attributes["connection"] = connection
    return cfg


def include_object(obj: Any, name: Optional[str], type_: str, reflected: bool, compare_to: Any) -> bool:
    """Compare and migrate only the project's tables (never Rasa's `events`)."""
    if type_ == "table":
        return bool(name) and name != EVENTS_TABLE and str(name).startswith(OWN_PREFIX)
    return True


def head() -> str:
    """The newest revision in `versions/`."""
    found = ScriptDirectory.from_config(config()).get_current_head()
    if found is None:
        raise RuntimeError(f"no revision in {VERSIONS}")
    return found


def current(engine: Engine) -> Optional[str]:
    """The revision the database is at (None before the first upgrade)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the project's tables to `revision`, in one transaction that other starts wait for."""
    migrator = _migration_engine(engine)
    try:
        with migrator.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            command.upgrade(config(connection), revision)
    finally:
        if migrator is not engine:
            migrator.dispose()


def _migration_engine(engine: Engine) -> Engine:
    """The engine to migrate with: on a SQLite file, one whose transactions hold the write lock
    from their start (`BEGIN IMMEDIATE`), so DDL is transactional there too and a second
    process waits for the first instead of creating a table twice."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return engine
    migrator = sa.create_engine(url, future=True, poolclass=sa.pool.NullPool, connect_args={"timeout": 30})

    @sa.event.listens_for(migrator, "connect")
    def _manual_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # pysqlite's own BEGIN would skip DDL

    @sa.event.listens_for(migrator, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return migrator


def forget(engine: Engine) -> None:
    """Drop the version table, so the next upgrade takes the database over as an earlier
    release left it (tests and benchmarks that drop the project's tables call this too)."""
    sa.Table(VERSION_TABLE, sa.MetaData()).drop(engine, checkfirst=True)


def history() -> List[Tuple[str, str]]:
    """Every revision, oldest first: (id, what it does)."""
    scripts = reversed(list(ScriptDirectory.from_config(config()).walk_revisions()))
    return [(script.revision, script.doc) for script in scripts]
