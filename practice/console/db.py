"""The console's tables, and the engine that reaches them next to Rasa's `events` table."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from practice.store import migrations
from practice.store.events import events_table

metadata = sa.MetaData()

# Rasa's own table (practice/store/events.py), so the console can read it (and create it,
# when the console starts before Rasa ever ran). Every other table here is the project's:
# a change to one needs a migration (practice/store/migrations, docs/CONSOLE.md).
events = events_table(metadata)

# One row per conversation (Rasa sender id), derived from `events` by practice.console.summary;
# it can be dropped and rebuilt at any time. The list, filters and dashboard read only this.
conversations = sa.Table(
    "console_conversations",
    metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("started_at", sa.Float, nullable=False),
    # 15-minute bucket of started_at: the dashboard groups by it, then maps buckets to local
    # days in Python, which is exact for every time zone (all offsets are whole quarters).
    sa.Column("started_bucket", sa.Integer, nullable=False),
    sa.Column("last_event_at", sa.Float, nullable=False),
    sa.Column("last_event_id", sa.Integer, nullable=False),
    sa.Column("user_messages", sa.Integer, nullable=False),
    sa.Column("bot_messages", sa.Integer, nullable=False),
    sa.Column("topics", sa.Text, nullable=False),
    sa.Column("first_message", sa.Text),
    sa.Column("last_intent", sa.String(255)),
    sa.Column("offer_shown", sa.Boolean, nullable=False),
    sa.Column("link_clicked", sa.Boolean, nullable=False),
    sa.Column("fallbacks", sa.Integer, nullable=False),
    sa.Column("fallback_actions", sa.Integer, nullable=False),
    sa.Column("escalations", sa.Integer, nullable=False),
    sa.Column("min_confidence", sa.Float),
    # The visitor's latest message (typed or clicked): a "not covered" answer that arrives
    # in a later batch of events is pinned on it.
    sa.Column("last_user_event_id", sa.Integer),
    sa.Index("ix_console_conversations_started", "started_at", "sender_id"),
)

# Visitor messages the assistant failed on, one row each ("Where it fails"): it fell back,
# answered "not covered" (`utter_not_covered` or the intent `ask_beyond_article`), or was
# less sure than FAILURE_CONFIDENCE (the low-confidence line is applied when reading).
failures = sa.Table(
    "console_failures",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("normalised", sa.Text, nullable=False),
    sa.Column("intent", sa.String(255)),
    sa.Column("confidence", sa.Float),
    sa.Column("fallback", sa.Boolean, nullable=False),
    sa.Column("not_covered", sa.Boolean, nullable=False),
    sa.Index("ix_console_failures_at", "at"),
)

# Which intents each conversation used (one row per conversation and intent), with the
# conversation's start copied in so the topic filter and the top-topics chart need no join.
conversation_intents = sa.Table(
    "console_conversation_intents",
    metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("intent_name", sa.String(255), primary_key=True),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("messages", sa.Integer, nullable=False),
    sa.Index("ix_console_intents_intent", "intent_name", "started_at", "sender_id"),
    sa.Index("ix_console_intents_started", "started_at", "intent_name"),
)

# Everything the visitor typed in a conversation, case-folded, for the text search.
conversation_text = sa.Table(
    "console_conversation_text",
    metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
)

# The dashboard's counts, kept per 15-minute bucket of conversation start (local days are
# whole buckets in every time zone), so a 90-day dashboard sums ~9,000 rows, not 100,000.
rollup_buckets = sa.Table(
    "console_rollup_buckets",
    metadata,
    sa.Column("bucket", sa.Integer, primary_key=True),
    sa.Column("conversations", sa.Integer, nullable=False),
    sa.Column("with_fallback", sa.Integer, nullable=False),
    sa.Column("escalated", sa.Integer, nullable=False),
    sa.Column("offered", sa.Integer, nullable=False),
    sa.Column("clicked", sa.Integer, nullable=False),
    sa.Column("user_messages", sa.Integer, nullable=False),
    sa.Column("fallback_messages", sa.Integer, nullable=False),
    sa.Column("escalation_messages", sa.Integer, nullable=False),
)

# Conversations asking each topic, per hour of conversation start (top topics).
rollup_topics = sa.Table(
    "console_rollup_topics",
    metadata,
    sa.Column("hour", sa.Integer, primary_key=True),
    sa.Column("intent_name", sa.String(255), primary_key=True),
    sa.Column("conversations", sa.Integer, nullable=False),
)

# The summarizer's progress: the last event id read, and id ranges not yet visible.
summary_state = sa.Table(
    "console_summary_state",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Float, nullable=False),
)
summary_gaps = sa.Table(
    "console_summary_gaps",
    metadata,
    sa.Column("first_id", sa.Integer, primary_key=True),
    sa.Column("last_id", sa.Integer, nullable=False),
    sa.Column("seen_at", sa.Float, nullable=False),
)

# Which version of the derived tables' rules the database holds (see `migrate`).
schema_versions = sa.Table(
    "console_schema_versions",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("migrated_at", sa.Float, nullable=False),
)

# The summary's rules changed in these versions; a database summarised under an older one
# has its derived tables emptied and re-read from `events` (Rasa's rows are never touched):
#   2: events the widget or the server triggered (`is_external`, `EXTERNAL: greet`) and
#      button payloads are no visitor text; a conversation needs the visitor to act;
#      a user message with a non-empty `safety` list is an escalation.
#   3: failing visitor messages are kept (console_failures; a new column on conversations).
#   4: every response that carries the application link counts as the offer shown
#      (utter_ask_apply too), read from domain.yml.
SUMMARY_VERSION = 4
SUMMARY_TABLES = (
    "console_conversations",
    "console_conversation_intents",
    "console_conversation_text",
    "console_rollup_buckets",
    "console_rollup_topics",
    "console_summary_state",
    "console_summary_gaps",
    "console_failures",
)

accounts = sa.Table(
    "console_accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("failed_logins", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", sa.Float),
    sa.Column("last_login_at", sa.Float),
)

sessions = sa.Table(
    "console_sessions",
    metadata,
    # Only a SHA-256 of the cookie's token is stored: a leaked table opens no session.
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("console_accounts.id"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Index("ix_console_sessions_account", "account_id"),
)

reviews = sa.Table(
    "console_reviews",
    metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("reviewed_by", sa.String(64), nullable=False),
    sa.Column("reviewed_at", sa.Float, nullable=False),
)

tags = sa.Table(
    "console_tags",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

conversation_tags = sa.Table(
    "console_conversation_tags",
    metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("tag_id", sa.Integer, sa.ForeignKey("console_tags.id"), primary_key=True),
    sa.Column("added_by", sa.String(64), nullable=False),
    sa.Column("added_at", sa.Float, nullable=False),
    sa.Index("ix_console_conversation_tags_tag", "tag_id", "sender_id"),
)

notes = sa.Table(
    "console_notes",
    metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

audit = sa.Table(
    "console_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.Float, nullable=False, index=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("sender_id", sa.String(255), index=True),
    sa.Column("detail", sa.Text, nullable=False, default=""),
    sa.Column("conversations", sa.Integer, nullable=False, default=0),
)

# The conversations one audited export contained, one row each.
audit_conversations = sa.Table(
    "console_audit_conversations",
    metadata,
    sa.Column("audit_id", sa.Integer, sa.ForeignKey("console_audit.id"), primary_key=True),
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Index("ix_console_audit_conversations_sender", "sender_id"),
)


def ensure_schema(engine: Engine) -> None:
    """Bring the project's tables to the newest revision, then the summary to its rules.

    The tables are created and changed only by the migrations (practice/store/migrations);
    Rasa's `events` table is created here when missing, as Rasa makes it, because the
    console may start before Rasa ever ran.
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            # Write-ahead logging lets Rasa write while the console reads (and vice versa).
            connection.exec_driver_sql("PRAGMA journal_mode = WAL")
    events.create(engine, checkfirst=True)
    migrations.upgrade(engine)
    # An index dropped by hand (or lost in a restore) is made again, as the tables here
    # declare it: they match the newest revision (tests/console/test_migrations.py).
    existing = sa.inspect(engine)
    for table in metadata.sorted_tables:
        present = {index["name"] for index in existing.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in present:
                index.create(engine, checkfirst=True)
    migrate(engine)


def _version(connection: sa.engine.Connection, name: str) -> int:
    value = connection.execute(sa.select(schema_versions.c.version).where(schema_versions.c.name == name)).scalar()
    return int(value or 1)


def _set_version(connection: sa.engine.Connection, name: str, version: int) -> None:
    import time

    connection.execute(schema_versions.delete().where(schema_versions.c.name == name))
    connection.execute(schema_versions.insert().values(name=name, version=version, migrated_at=time.time()))


def migrate(engine: Engine) -> bool:
    """Bring the console's derived tables to SUMMARY_VERSION; True when rows were dropped.

    A database without the version row was made by the first release (version 1). Its
    summary tables are dropped and made again with the current columns, and the cursor goes
    back to 0, so the summarizer reads every event again under the current rules (pages say
    "Still reading" meanwhile). Reviews, tags, notes, accounts and the audit log are kept:
    they are keyed by conversation id, which does not change.
    """
    tables = [metadata.tables[name] for name in SUMMARY_TABLES]
    with engine.begin() as connection:
        if _version(connection, "summary") >= SUMMARY_VERSION:
            return False
        summarised = connection.execute(
            sa.select(sa.func.count()).select_from(metadata.tables["console_summary_state"])
        ).scalar()
        metadata.drop_all(connection, tables=tables, checkfirst=True)
        metadata.create_all(connection, tables=tables)
        _set_version(connection, "summary", SUMMARY_VERSION)
    return bool(summarised)


def is_sqlite(engine: Engine) -> bool:
    """True when the database is SQLite (the embedded default)."""
    return engine.dialect.name == "sqlite"
