"""Delete conversations: those idle longer than the retention period, or one by sender id.

    python -m practice.store.retention                  # idle > RETENTION_DAYS (default 90)
    python -m practice.store.retention --days 30
    python -m practice.store.retention --sender 3f2a...  # one visitor's conversation, now
    python -m practice.store.retention --dry-run        # count only

A conversation is deleted whole, from everywhere the database holds it: Rasa's `events`
and every console table (`console_*`) with a `sender_id` column (summaries, search text,
tags, notes, reviews, and audit entries that name it). Whole conversations only, judged by
their last event: deleting some events of a live conversation would confuse the tracker
store, which appends by counting what is stored.

A turn in progress while its conversation is deleted can write that turn back; run the
sweep when the conversation is idle (by definition it is, for the age-based sweep).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Sequence

import sqlalchemy as sa

from practice.settings import get_settings
from practice.store.database import create_engine
from practice.store.events import EVENTS_TABLE

CONSOLE_PREFIX = "console_"
BATCH = 500


@dataclass
class Deleted:
    """What a run deleted (or would delete, on a dry run)."""

    conversations: int = 0
    rows: Dict[str, int] = field(default_factory=dict)

    @property
    def events(self) -> int:
        """Rows deleted from Rasa's events table."""
        return self.rows.get(EVENTS_TABLE, 0)

    def summary(self) -> str:
        """One line for the operator; no visitor text, no sender ids."""
        others = sum(n for name, n in self.rows.items() if name != EVENTS_TABLE)
        return f"{self.conversations} conversation(s): {self.events} event row(s), {others} console row(s)"


def conversation_tables(engine: sa.engine.Engine) -> List[sa.Table]:
    """`events` and the console's tables holding a `sender_id`, children before parents."""
    metadata = sa.MetaData()
    metadata.reflect(
        bind=engine,
        only=lambda name, _: name == EVENTS_TABLE or name.startswith(CONSOLE_PREFIX),
    )
    return [t for t in reversed(metadata.sorted_tables) if "sender_id" in t.c]


def idle_conversations(engine: sa.engine.Engine, days: float, now: float | None = None) -> List[str]:
    """Sender ids whose last event is older than `days`."""
    cutoff = (time.time() if now is None else now) - days * 86400
    events = sa.table(EVENTS_TABLE, sa.column("sender_id"), sa.column("timestamp"))
    query = sa.select(events.c.sender_id).group_by(events.c.sender_id).having(sa.func.max(events.c.timestamp) < cutoff)
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(query)]


def delete_conversations(engine: sa.engine.Engine, senders: Iterable[str], dry_run: bool = False) -> Deleted:
    """Delete every row of these conversations, one transaction per batch of senders."""
    senders = list(dict.fromkeys(senders))
    tables = conversation_tables(engine)
    deleted = Deleted(conversations=len(senders), rows={t.name: 0 for t in tables})
    for start in range(0, len(senders), BATCH):
        batch = senders[start : start + BATCH]
        with engine.begin() as connection:
            for table in tables:
                matches = table.c.sender_id.in_(batch)
                if dry_run:
                    count = sa.select(sa.func.count()).select_from(table).where(matches)
                    deleted.rows[table.name] += connection.execute(count).scalar() or 0
                else:
                    deleted.rows[table.name] += connection.execute(table.delete().where(matches)).rowcount
    return deleted


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m practice.store.retention", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--days",
        type=float,
        default=settings.retention_days,
        help=f"delete conversations idle longer than this (default {settings.retention_days}, RETENTION_DAYS)",
    )
    parser.add_argument(
        "--sender",
        action="append",
        default=[],
        metavar="ID",
        help="delete this conversation now, whatever its age (repeatable)",
    )
    parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    parser.add_argument(
        "--database-url", default=settings.database_url, help="the conversations' database (default: DATABASE_URL)"
    )
    args = parser.parse_args(argv)
    if args.days <= 0 and not args.sender:
        parser.error("--days must be positive")

    engine = create_engine(args.database_url)
    try:
        if not sa.inspect(engine).has_table(EVENTS_TABLE):
            print("No conversations stored yet: nothing to delete.")
            return 0
        senders = args.sender or idle_conversations(engine, args.days)
        deleted = delete_conversations(engine, senders, dry_run=args.dry_run)
    finally:
        engine.dispose()
    reason = "by sender id" if args.sender else f"idle more than {args.days:g} days"
    verb = "Would delete" if args.dry_run else "Deleted"
    print(f"{verb} {deleted.summary()} ({reason}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
