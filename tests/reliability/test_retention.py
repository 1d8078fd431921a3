"""The retention command deletes whole conversations everywhere the database holds them,
by age (default 90 days) or by sender id, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain

from practice.settings import PROJECT_ROOT
from practice.store.retention import conversation_tables
from practice.store.tracker_store import ConfiguredSQLTrackerStore
from tests.reliability.services import PostgresServer

DAY = 86400.0
NOW = time.time()
# sender id -> age in days of its last event
CONVERSATIONS = {"old-a" * 4: 200, "old-b" * 4: 91, "recent" * 4: 89, "today" * 4: 0, "erase-me" * 3: 1}


def console_tables(metadata: sa.MetaData) -> None:
    """Tables shaped like the console's: per-conversation rows, a parent/child pair, a
    table without sender ids that must be left alone."""
    sa.Table(
        "console_conversations",
        metadata,
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("first_message", sa.Text),
    )
    sa.Table(
        "console_notes", metadata, sa.Column("sender_id", sa.String(255), primary_key=True), sa.Column("text", sa.Text)
    )
    sa.Table("console_tags", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(64)))
    sa.Table(
        "console_conversation_tags",
        metadata,
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("tag_id", sa.Integer, sa.ForeignKey("console_tags.id"), primary_key=True),
    )
    sa.Table(
        "console_audit",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(255)),
        sa.Column("action", sa.String(32)),
    )
    sa.Table(
        "console_audit_conversations",
        metadata,
        sa.Column("audit_id", sa.Integer, sa.ForeignKey("console_audit.id"), primary_key=True),
        sa.Column("sender_id", sa.String(255), primary_key=True),
    )


def seed(database_url: str) -> None:
    """Conversations of different ages, in `events` and in every console table."""
    ConfiguredSQLTrackerStore(Domain.empty(), database_url=database_url).engine.dispose()
    engine = sa.create_engine(database_url)
    metadata = sa.MetaData()
    console_tables(metadata)
    metadata.create_all(engine)
    tables = metadata.tables
    with engine.begin() as connection:
        connection.execute(tables["console_tags"].insert(), [{"id": 1, "name": "follow-up"}])
        export_id = connection.execute(
            tables["console_audit"].insert(), {"sender_id": None, "action": "export"}
        ).inserted_primary_key[0]
        for sender, age in CONVERSATIONS.items():
            for offset in (3.0, 0.0):  # a few days of conversation, ending `age` days ago
                connection.execute(
                    sa.text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', :t, :d)"),
                    {"s": sender, "t": NOW - (age + offset) * DAY, "d": f'{{"text": "{sender}"}}'},
                )
            connection.execute(tables["console_conversations"].insert(), {"sender_id": sender, "first_message": "hi"})
            connection.execute(tables["console_notes"].insert(), {"sender_id": sender, "text": "n"})
            connection.execute(tables["console_conversation_tags"].insert(), {"sender_id": sender, "tag_id": 1})
            connection.execute(tables["console_audit"].insert(), {"sender_id": sender, "action": "view"})
            connection.execute(
                tables["console_audit_conversations"].insert(), {"audit_id": export_id, "sender_id": sender}
            )
    engine.dispose()


def senders_by_table(database_url: str) -> Dict[str, List[str]]:
    """Which conversations each table still holds."""
    engine = sa.create_engine(database_url)
    result = {}
    with engine.connect() as connection:
        for table in (
            "events",
            "console_conversations",
            "console_notes",
            "console_conversation_tags",
            "console_audit",
            "console_audit_conversations",
        ):
            rows = connection.execute(sa.text(f"SELECT DISTINCT sender_id FROM {table} WHERE sender_id IS NOT NULL"))
            result[table] = sorted(row[0] for row in rows)
        result["console_tags"] = [str(n) for (n,) in connection.execute(sa.text("SELECT count(*) FROM console_tags"))]
    engine.dispose()
    return result


def retention(database_url: str, *args: str) -> str:
    """Run the command as an operator would and return what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "practice.store.retention", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'conversations.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"retention_{int(time.time() * 1000) % 10**9}"
    return server.database_url(name)


def test_idle_conversations_go_everywhere_and_the_rest_stay(database_url: str) -> None:
    seed(database_url)
    dry = retention(database_url, "--dry-run")
    assert "Would delete 2 conversation(s): 4 event row(s)" in dry
    assert senders_by_table(database_url)["events"] == sorted(CONVERSATIONS)

    printed = retention(database_url)  # the default: 90 days

    assert "Deleted 2 conversation(s): 4 event row(s), 10 console row(s)" in printed
    kept = sorted(s for s, age in CONVERSATIONS.items() if age < 90)
    for table, senders in senders_by_table(database_url).items():
        if table != "console_tags":
            assert senders == kept, table
    assert senders_by_table(database_url)["console_tags"] == ["1"]  # shared rows stay
    for sender in CONVERSATIONS:
        assert sender not in printed  # the output names no conversation


def test_one_conversation_by_sender_id(database_url: str) -> None:
    seed(database_url)
    erase = "erase-me" * 3
    printed = retention(database_url, "--sender", erase)
    assert "Deleted 1 conversation(s): 2 event row(s)" in printed
    for table, senders in senders_by_table(database_url).items():
        if table != "console_tags":
            assert senders == sorted(s for s in CONVERSATIONS if s != erase), table


def test_a_shorter_period(database_url: str) -> None:
    seed(database_url)
    retention(database_url, "--days", "30")
    assert senders_by_table(database_url)["events"] == sorted(["today" * 4, "erase-me" * 3])


def test_an_empty_database_is_fine(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert "nothing to delete" in retention(url)


def test_every_console_table_naming_a_conversation_is_covered(tmp_path: Path) -> None:
    from practice.console.db import ensure_schema
    from practice.store.database import create_engine
    from practice.store.migrations.models import project_metadata

    url = f"sqlite:///{tmp_path / 'console.db'}"
    engine = create_engine(url)
    ensure_schema(engine)
    engine.dispose()
    with_senders = {t.name for t in project_metadata().sorted_tables if "sender_id" in t.c}
    assert {"console_conversations", "console_notes", "console_reviews"} <= with_senders
    covered = {t.name for t in conversation_tables(sa.create_engine(url))}
    assert with_senders | {"events"} == covered
