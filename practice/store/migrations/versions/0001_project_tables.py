"""The project's tables as the last release without migrations made them.

Revision ID: 0001
Revises:
Create Date: 2026-12-07

On an empty database (or one holding only Rasa's `events`) it creates every table. On a
database an earlier release made (its tables there, no `alembic_version`), it takes them
over: a missing table or index is created, rows are kept, and a derived table with older
columns (the conversation summary, the NLU inbox: both re-read from `events`) is made anew,
empty, with its reading position reset so it is read again under the current rules.

The tables are written out here as they were at this revision, not imported from the
code: a later change to the code needs a revision of its own.
"""

from __future__ import annotations

from typing import Dict, List, Sequence, Set, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Derived from `events` by the console's summarizer; rebuilt as a group.
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
# Derived from `events` by the NLU inbox's sync (its cursor and version are in inbox_state).
INBOX_TABLES = ("console_inbox", "console_inbox_unhelpful")


def tables(metadata: sa.MetaData) -> None:
    """Declare this revision's tables on `metadata`."""
    sa.Table(
        "console_conversations",
        metadata,
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("started_at", sa.Float, nullable=False),
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
        sa.Column("last_user_event_id", sa.Integer),
        sa.Index("ix_console_conversations_started", "started_at", "sender_id"),
    )
    sa.Table(
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
    sa.Table(
        "console_conversation_intents",
        metadata,
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("intent_name", sa.String(255), primary_key=True),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("messages", sa.Integer, nullable=False),
        sa.Index("ix_console_intents_intent", "intent_name", "started_at", "sender_id"),
        sa.Index("ix_console_intents_started", "started_at", "intent_name"),
    )
    sa.Table(
        "console_conversation_text",
        metadata,
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
    )
    sa.Table(
        "console_rollup_buckets",
        metadata,
        sa.Column("bucket", sa.Integer, primary_key=True),
        *(
            sa.Column(name, sa.Integer, nullable=False)
            for name in (
                "conversations",
                "with_fallback",
                "escalated",
                "offered",
                "clicked",
                "user_messages",
                "fallback_messages",
                "escalation_messages",
            )
        ),
    )
    sa.Table(
        "console_rollup_topics",
        metadata,
        sa.Column("hour", sa.Integer, primary_key=True),
        sa.Column("intent_name", sa.String(255), primary_key=True),
        sa.Column("conversations", sa.Integer, nullable=False),
    )
    sa.Table(
        "console_summary_state",
        metadata,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Float, nullable=False),
    )
    sa.Table(
        "console_summary_gaps",
        metadata,
        sa.Column("first_id", sa.Integer, primary_key=True),
        sa.Column("last_id", sa.Integer, nullable=False),
        sa.Column("seen_at", sa.Float, nullable=False),
    )
    sa.Table(
        "console_schema_versions",
        metadata,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("migrated_at", sa.Float, nullable=False),
    )
    sa.Table(
        "console_accounts",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.Float),
        sa.Column("last_login_at", sa.Float),
    )
    sa.Table(
        "console_sessions",
        metadata,
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("console_accounts.id"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Index("ix_console_sessions_account", "account_id"),
    )
    sa.Table(
        "console_reviews",
        metadata,
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("reviewed_by", sa.String(64), nullable=False),
        sa.Column("reviewed_at", sa.Float, nullable=False),
    )
    sa.Table(
        "console_tags",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    sa.Table(
        "console_conversation_tags",
        metadata,
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("tag_id", sa.Integer, sa.ForeignKey("console_tags.id"), primary_key=True),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("added_at", sa.Float, nullable=False),
        sa.Index("ix_console_conversation_tags_tag", "tag_id", "sender_id"),
    )
    sa.Table(
        "console_notes",
        metadata,
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    sa.Table(
        "console_audit",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.Float, nullable=False, index=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("sender_id", sa.String(255), index=True),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("conversations", sa.Integer, nullable=False),
    )
    sa.Table(
        "console_audit_conversations",
        metadata,
        sa.Column("audit_id", sa.Integer, sa.ForeignKey("console_audit.id"), primary_key=True),
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Index("ix_console_audit_conversations_sender", "sender_id"),
    )
    inbox = sa.Table(
        "console_inbox",
        metadata,
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("normalised", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("intent", sa.String(255)),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("first_seen", sa.Float),
        sa.Column("last_seen", sa.Float),
        sa.Column("sender_id", sa.String(255)),
        sa.Column("ranking", sa.Text),
    )
    sa.Index("ix_console_inbox_order", inbox.c.confidence, inbox.c["count"].desc(), inbox.c.key)
    sa.Table(
        "console_inbox_state",
        metadata,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    sa.Table(
        "console_inbox_unhelpful",
        metadata,
        sa.Column("event_id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False),
    )
    sa.Table(
        "console_annotations",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(40), nullable=False, unique=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("intent", sa.String(255)),
        sa.Column("predicted_intent", sa.String(255)),
        sa.Column("predicted_confidence", sa.Float),
        sa.Column("annotated_by", sa.String(64), nullable=False),
        sa.Column("annotated_at", sa.Float, nullable=False),
        sa.Column("applied_run", sa.String(64)),
        sa.Column("applied_to", sa.String(16)),
        sa.Column("applied_at", sa.Float),
        sa.Index("ix_console_annotations_pending", "applied_run", "action"),
    )


def upgrade() -> None:
    """Create every table, or take over what an earlier release made."""
    bind = op.get_bind()
    schema = sa.MetaData()
    tables(schema)
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    columns: Dict[str, Set[str]] = {
        name: {column["name"] for column in inspector.get_columns(name)} for name in existing & set(schema.tables)
    }

    def outdated(names: Sequence[str]) -> bool:
        return any(name in columns and columns[name] != set(schema.tables[name].c.keys()) for name in names)

    remake: List[str] = []
    if outdated(SUMMARY_TABLES):
        remake += SUMMARY_TABLES
        if "console_schema_versions" in existing:  # read every event again (practice.console.db.migrate)
            op.execute(sa.text("DELETE FROM console_schema_versions WHERE name = 'summary'"))
    if outdated(INBOX_TABLES):
        remake += INBOX_TABLES
        if "console_inbox_state" in existing:  # cursor and version: the inbox is read again
            op.execute(sa.text("DELETE FROM console_inbox_state"))
    for name in remake:
        if name in existing:
            schema.tables[name].drop(bind)
            existing.discard(name)
    for table in schema.sorted_tables:
        if table.name not in existing:
            table.create(bind)
            continue
        missing = set(table.c.keys()) - columns[table.name]
        if missing:
            raise RuntimeError(f"{table.name} lacks {sorted(missing)}; no earlier release made it so")
        present = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in present:
                index.create(bind)


def downgrade() -> None:
    """Drop every table of the project (all of the console's and the inbox's rows)."""
    schema = sa.MetaData()
    tables(schema)
    schema.drop_all(op.get_bind(), checkfirst=True)
