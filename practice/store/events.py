"""Rasa's `events` table, declared once, the way `rasa.core.tracker_store.SQLTrackerStore`
creates it.

Rasa owns it: the project's code reads it (the console's summaries, the NLU inbox, the
retention job deletes whole conversations), and the console creates it only when it starts
before Rasa ever ran. Each module that needs it declares it on its own metadata with
`events_table`, so the columns are written here alone.
"""

from __future__ import annotations

import sqlalchemy as sa

EVENTS_TABLE = "events"


def events_table(metadata: sa.MetaData) -> sa.Table:
    """Rasa's `events` table on `metadata` (with the index on `sender_id` Rasa creates)."""
    return sa.Table(
        EVENTS_TABLE,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False, index=True),
        sa.Column("type_name", sa.String(255), nullable=False),
        sa.Column("timestamp", sa.Float),
        sa.Column("intent_name", sa.String(255)),
        sa.Column("action_name", sa.String(255)),
        sa.Column("data", sa.Text),
    )
