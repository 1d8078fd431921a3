"""The schema migrations (practice/store/migrations) on SQLite and on a real PostgreSQL.

From an empty database the newest revision gives exactly the tables the code declares; a
database made before the migrations (by the first release, or by the release just before
them) is taken over with its rows; a change to the code's tables without a revision is seen.
"""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from practice.console import db, summary
from practice.retrain import store
from practice.settings import PROJECT_ROOT
from practice.store import migrations
from practice.store.database import create_engine
from practice.store.migrations.models import project_metadata

from .conftest import Seeder, database_url, scenarios
from .release_1 import db as release_db
from .release_1 import store as release_store
from .release_1 import summary as release_summary

Empty = Tuple[str, Seeder, sa.engine.Engine]
PROJECT_TABLES = set(project_metadata().tables)
# Staff's and coaches' own records: no release may lose a row of these.
KEPT_TABLES = (
    "console_accounts",
    "console_sessions",
    "console_reviews",
    "console_tags",
    "console_conversation_tags",
    "console_notes",
    "console_audit",
    "console_audit_conversations",
    "console_annotations",
)


@pytest.fixture(params=["sqlite", "postgresql"])
def bare(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.engine.Engine]:
    """A database of each kind without a single table."""
    pg = request.getfixturevalue("pg_scratch_url") if request.param == "postgresql" else ""
    engine = create_engine(database_url(request.param, tmp_path, pg))
    assert sa.inspect(engine).get_table_names() == []
    yield engine
    engine.dispose()


def differences(engine: sa.engine.Engine, metadata: sa.MetaData | None = None) -> List[Any]:
    """What Alembic's autogenerate would change to make the database match the code."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": migrations.include_object})
        return list(compare_metadata(context, metadata if metadata is not None else project_metadata()))


def rows(engine: sa.engine.Engine, names: Any) -> Dict[str, List[Tuple[Any, ...]]]:
    """Every row of the named tables, in primary-key order."""
    found: Dict[str, List[Tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for name in names:
            table = sa.Table(name, sa.MetaData(), autoload_with=connection)
            ordered = connection.execute(sa.select(table).order_by(*table.primary_key.columns))
            found[name] = [tuple(row) for row in ordered]
    return found


def test_an_empty_database_gets_exactly_the_tables_the_code_declares(bare: sa.engine.Engine) -> None:
    assert migrations.current(bare) is None
    migrations.upgrade(bare)
    assert migrations.current(bare) == migrations.head()
    # Rasa's `events` is Rasa's: the migrations never create it.
    assert set(sa.inspect(bare).get_table_names()) == PROJECT_TABLES | {migrations.VERSION_TABLE}
    assert differences(bare) == []
    migrations.upgrade(bare)  # at the head: nothing to do
    assert differences(bare) == []


def test_a_change_to_the_code_without_a_revision_is_seen(bare: sa.engine.Engine) -> None:
    migrations.upgrade(bare)
    changed = project_metadata()
    changed.tables["console_notes"].append_column(sa.Column("pinned", sa.Boolean))
    sa.Index("ix_console_reviews_by", changed.tables["console_reviews"].c.reviewed_by)
    found = {change[0] for change in differences(bare, changed)}
    assert found == {"add_column", "add_index"}


def test_two_starts_at_once_upgrade_once(bare: sa.engine.Engine) -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for done in [pool.submit(migrations.upgrade, bare) for _ in range(2)]:
            done.result()
    assert migrations.current(bare) == migrations.head()
    assert differences(bare) == []


def _staff_records(tables: Dict[str, sa.Table], annotations: sa.Table, sender: str) -> Dict[sa.Table, Dict[str, Any]]:
    """One row in each of the tables staff's work lives in."""
    return {
        tables["console_accounts"]: dict(
            id=7, username="sam", password_hash="argon2", role="coach", active=True, created_at=1.0, failed_logins=2
        ),
        tables["console_sessions"]: dict(
            token_hash="a" * 64, account_id=7, csrf_token="c" * 64, created_at=1.0, expires_at=2.0
        ),
        tables["console_reviews"]: dict(sender_id=sender, reviewed_by="sam", reviewed_at=3.0),
        tables["console_tags"]: dict(id=3, name="follow-up", created_by="sam", created_at=4.0),
        tables["console_conversation_tags"]: dict(sender_id=sender, tag_id=3, added_by="sam", added_at=5.0),
        tables["console_notes"]: dict(sender_id=sender, text="called back", updated_by="sam", updated_at=6.0),
        tables["console_audit"]: dict(
            id=11, at=7.0, username="sam", action="export", sender_id=None, detail="json", conversations=1
        ),
        tables["console_audit_conversations"]: dict(audit_id=11, sender_id=sender),
        annotations: dict(
            id=5,
            key="k" * 40,
            text="What is leaky gut?",
            action="confirm",
            intent="ask_what_is_leaky_gut",
            predicted_intent="ask_what_is_leaky_gut",
            predicted_confidence=0.91,
            annotated_by="sam",
            annotated_at=8.0,
        ),
    }


def _insert(engine: sa.engine.Engine, records: Dict[sa.Table, Dict[str, Any]]) -> None:
    with engine.begin() as connection:
        for table, values in records.items():
            connection.execute(table.insert().values(**values))


def _console_start(engine: sa.engine.Engine) -> None:
    """What the console and the NLU inbox do when they first open the database."""
    db.ensure_schema(engine)
    store._migrated.discard(str(engine.url))
    store.ensure_schema(engine)


def test_a_database_the_first_release_made_keeps_its_rows(empty: Empty) -> None:
    _, seeder, engine = empty
    seeder.seed(scenarios())
    project_metadata().drop_all(engine)
    migrations.forget(engine)
    release_db.ensure_schema(engine)
    release_store.ensure_schema(engine)
    release_summary.refresh(engine)
    release_store.sync_inbox(engine, settle_seconds=0)
    sender = scenarios()[0].sender_id
    _insert(engine, _staff_records(release_db.metadata.tables, release_store.annotations, sender))
    kept = rows(engine, KEPT_TABLES)
    assert all(kept.values())
    events_before = rows(engine, ["events"])
    assert differences(engine), "the first release's tables differ from the newest revision"

    _console_start(engine)

    assert migrations.current(engine) == migrations.head()
    assert differences(engine) == []
    assert rows(engine, KEPT_TABLES) == kept
    assert rows(engine, ["events"]) == events_before
    # The derived tables are read again from `events` under the current rules.
    summary.refresh(engine)
    store.sync_inbox(engine, settle_seconds=0)
    derived = rows(engine, ["console_conversations", "console_inbox"])
    assert sender in {row[0] for row in derived["console_conversations"]}
    assert "What is leaky gut?" in {row[2] for row in derived["console_inbox"]}


def test_a_database_the_release_before_migrations_made_keeps_every_row(empty: Empty) -> None:
    _, seeder, engine = empty
    seeder.seed(scenarios())
    summary.refresh(engine)
    store._migrated.discard(str(engine.url))  # as that release's first sync: the inbox's version recorded
    store.sync_inbox(engine, settle_seconds=0)
    _insert(engine, _staff_records(db.metadata.tables, store.annotations_table, scenarios()[0].sender_id))
    # That release made these same tables with create_all and kept no version.
    migrations.forget(engine)
    before = rows(engine, sorted(PROJECT_TABLES))
    assert before["console_conversations"] and before["console_inbox"]

    _console_start(engine)

    assert migrations.current(engine) == migrations.head()
    assert differences(engine) == []
    assert rows(engine, sorted(PROJECT_TABLES)) == before


def test_staff_upgrade_command(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'conversations.db'}"}

    def run(*args: str) -> str:
        command = [sys.executable, "-m", "practice.store.migrations", *args]
        done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    head = migrations.head()
    assert f"database at revision none; newest {head}" in run("current")
    assert f"database at revision {head} (was none)" in run("upgrade")
    assert f"database at revision {head}; newest {head}" in run("current")
    assert f"the code's tables match revision {head}" in run("check")
