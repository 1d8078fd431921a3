"""Keep one summary row per conversation, read incrementally from Rasa's `events` table.

Listing 100,000 conversations straight from a million events is too slow for a page, so the
console folds each new event into `console_conversations` (and the intents and search text
tables) once. Progress is the last event id read. Rasa's writers may commit out of id order
(several Rasa processes on PostgreSQL), so ids skipped over are remembered as gaps and read
again for a while; an event is applied only when it is newer than the conversation's last
applied event, which makes re-reading harmless (one conversation's events are written in
order, under Rasa's lock store).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Connection, Engine

from practice.console import visitor
from practice.console.db import (
    conversation_intents,
    conversation_text,
    conversations,
    events,
    failures,
    rollup_buckets,
    rollup_topics,
    summary_gaps,
    summary_state,
)
from practice.settings import PROJECT_ROOT

DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
SAFETY_INTENTS = frozenset({"report_red_flag_symptoms", "express_self_harm", "mention_disordered_eating"})
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = frozenset({"action_two_strike_fallback"})


def responses_with_application_link(domain_file: Path = DOMAIN_FILE) -> frozenset:
    """The responses whose text or buttons carry `{application_url}`: each shows the offer."""
    with domain_file.open(encoding="utf-8") as handle:
        responses = (yaml.safe_load(handle) or {}).get("responses", {})
    return frozenset(name for name, variants in responses.items() if "{application_url}" in str(variants))


# utter_offer_coaching, utter_closing, utter_request_coach and utter_ask_apply today.
OFFER_ACTIONS = responses_with_application_link()
CLICK_SLOT = "application_link_clicked"
# "Where it fails": the answer that says the article does not cover the question, and the
# intent for questions beyond it; messages below FAILURE_CONFIDENCE are kept too (the pages
# apply CONSOLE_LOW_CONFIDENCE, which is meant to be at most this).
NOT_COVERED_ACTIONS = frozenset({"utter_not_covered"})
NOT_COVERED_INTENTS = frozenset({"ask_beyond_article"})
FAILURE_CONFIDENCE = 0.75
FAILURE_TEXT_CHARS = 500
TOPIC_PREFIX = "ask_"
FIRST_MESSAGE_CHARS = 300

BATCH_EVENTS = 20_000
# How long an id skipped over may still turn up: longer than any tracker save transaction.
GAP_SECONDS = 60.0
MAX_GAPS = 200
_CHUNK = 500
ANALYZE_AFTER_EVENTS = 50_000


@dataclass
class Conversation:
    """A conversation's running summary while events are folded into it."""

    sender_id: str
    started_at: float = 0.0
    last_event_at: float = 0.0
    last_event_id: int = 0
    user_messages: int = 0
    bot_messages: int = 0
    first_message: Optional[str] = None
    last_intent: Optional[str] = None
    offer_shown: bool = False
    link_clicked: bool = False
    fallbacks: int = 0
    fallback_actions: int = 0
    escalations: int = 0
    min_confidence: Optional[float] = None
    last_user_event_id: Optional[int] = None
    intents: Counter = field(default_factory=Counter)
    # Failing messages found in this batch (console_failures rows), the latest typed message
    # while it is in memory, and ids of earlier messages a "not covered" answer came after.
    failures: List[Dict[str, Any]] = field(default_factory=list)
    last_typed: Optional[Dict[str, Any]] = None
    not_covered_ids: List[int] = field(default_factory=list)
    new_text: List[str] = field(default_factory=list)
    stored: bool = False
    stored_intents: frozenset = frozenset()
    stored_share: Optional[Share] = None

    @property
    def topics(self) -> str:
        """The `ask_*` intents asked, sorted, comma-separated."""
        return ",".join(sorted(i for i in self.intents if i.startswith(TOPIC_PREFIX)))

    def apply(self, row: Any) -> None:
        """Fold one `events` row into the summary."""
        timestamp = float(row.timestamp or 0.0)
        if self.last_event_id == 0 and not self.stored:
            self.started_at = timestamp
        else:
            self.started_at = min(self.started_at, timestamp)
        self.last_event_at = max(self.last_event_at, timestamp)
        self.last_event_id = row.id
        kind = row.type_name
        if kind == "user":
            self._apply_user(row)
        elif kind == "bot":
            self.bot_messages += 1
        elif kind == "action":
            if row.action_name in OFFER_ACTIONS:
                self.offer_shown = True
            elif row.action_name in FALLBACK_ACTIONS:
                self.fallback_actions += 1
            elif row.action_name in NOT_COVERED_ACTIONS:
                self._not_covered()
        elif kind == "slot" and row.action_name == CLICK_SLOT and _loads(row.data).get("value") is True:
            self.link_clicked = True

    def _apply_user(self, row: Any) -> None:
        data = _loads(row.data)
        kind = visitor.origin(data)
        if kind == visitor.EXTERNAL:
            return  # the widget or the server triggered it: the visitor did nothing
        intent = row.intent_name or ""
        self.user_messages += 1
        self.last_user_event_id = row.id
        self.last_typed = None
        if intent:
            self.intents[intent] += 1
            self.last_intent = intent
        if intent == FALLBACK_INTENT:
            self.fallbacks += 1
        if intent in SAFETY_INTENTS or visitor.safety_flagged(data):
            self.escalations += 1
        confidence = (data.get("parse_data") or {}).get("intent", {}).get("confidence")
        if isinstance(confidence, (int, float)):
            confidence = float(confidence)
            if self.min_confidence is None or confidence < self.min_confidence:
                self.min_confidence = confidence
        text = str(data.get("text") or "")  # origin() saw a non-empty string
        if kind == visitor.TYPED:
            if self.first_message is None:
                self.first_message = text[:FIRST_MESSAGE_CHARS]
            self.new_text.append(text.casefold())
            self.last_typed = failure_row(
                row.id,
                self.sender_id,
                row.timestamp,
                text,
                intent,
                confidence if isinstance(confidence, float) else None,
            )
            if failing(self.last_typed):
                self.failures.append(self.last_typed)

    def _not_covered(self) -> None:
        """The assistant said the article does not cover the visitor's latest message."""
        if self.last_typed is not None and self.last_typed["event_id"] == self.last_user_event_id:
            if not failing(self.last_typed):
                self.failures.append(self.last_typed)
            self.last_typed["not_covered"] = True
        elif self.last_user_event_id is not None:
            self.not_covered_ids.append(self.last_user_event_id)

    @property
    def listed(self) -> bool:
        """A conversation for the console: the visitor typed or clicked something."""
        return self.user_messages > 0 or self.link_clicked

    def share(self) -> Optional[Share]:
        """What this conversation adds to the dashboard's rollups (None: not listed)."""
        if not self.listed:
            return None
        return Share(
            bucket=int(self.started_at // 900),
            hour=int(self.started_at // 3600),
            counts=(
                1,
                int(self.fallbacks > 0 or self.fallback_actions > 0),
                int(self.escalations > 0),
                int(self.offer_shown),
                int(self.offer_shown and self.link_clicked),
                self.user_messages,
                self.fallbacks,
                self.escalations,
            ),
            topics=frozenset(i for i in self.intents if i.startswith(TOPIC_PREFIX)),
        )

    def row(self) -> Dict[str, Any]:
        """The `console_conversations` columns."""
        return {
            "sender_id": self.sender_id,
            "started_at": self.started_at,
            "started_bucket": int(self.started_at // 900),
            "last_event_at": self.last_event_at,
            "last_event_id": self.last_event_id,
            "user_messages": self.user_messages,
            "bot_messages": self.bot_messages,
            "topics": self.topics,
            "first_message": self.first_message,
            "last_intent": self.last_intent,
            "offer_shown": self.offer_shown,
            "link_clicked": self.link_clicked,
            "fallbacks": self.fallbacks,
            "fallback_actions": self.fallback_actions,
            "escalations": self.escalations,
            "min_confidence": self.min_confidence,
            "last_user_event_id": self.last_user_event_id,
        }


def failure_row(
    event_id: int, sender_id: str, timestamp: Optional[float], text: str, intent: str, confidence: Optional[float]
) -> Dict[str, Any]:
    """A `console_failures` row for a typed message (kept only when `failing`)."""
    from practice.retrain.text import normalise

    return {
        "event_id": event_id,
        "sender_id": sender_id,
        "at": float(timestamp or 0.0),
        "text": text[:FAILURE_TEXT_CHARS],
        "normalised": normalise(text)[:FAILURE_TEXT_CHARS],
        "intent": intent or None,
        "confidence": confidence,
        "fallback": intent == FALLBACK_INTENT,
        "not_covered": intent in NOT_COVERED_INTENTS,
    }


def failing(row: Dict[str, Any]) -> bool:
    """A fallback, a "not covered" answer, or a confidence under FAILURE_CONFIDENCE."""
    confidence = row["confidence"]
    return bool(row["fallback"] or row["not_covered"] or (confidence is not None and confidence < FAILURE_CONFIDENCE))


ROLLUP_COUNTS = (
    "conversations",
    "with_fallback",
    "escalated",
    "offered",
    "clicked",
    "user_messages",
    "fallback_messages",
    "escalation_messages",
)


@dataclass(frozen=True)
class Share:
    """One conversation's part of the rollups: its bucket, hour, counts and topics."""

    bucket: int
    hour: int
    counts: Tuple[int, ...]
    topics: frozenset


@dataclass(frozen=True)
class RefreshResult:
    """What one `refresh` call did, and how far behind the events table it still is."""

    events_read: int
    events_applied: int
    conversations: int
    behind: int


def _loads(data: Optional[str]) -> Dict[str, Any]:
    if not data:
        return {}
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Only user and slot events need their JSON parsed; skip shipping the rest.
_EVENT_COLUMNS = (
    events.c.id,
    events.c.sender_id,
    events.c.type_name,
    events.c.timestamp,
    events.c.intent_name,
    events.c.action_name,
    sa.case(
        (events.c.type_name == "user", events.c.data),
        (events.c.type_name == "slot", events.c.data),
        else_=sa.null(),
    ).label("data"),
)


def _cursor(connection: Connection) -> int:
    value = connection.execute(sa.select(summary_state.c.value).where(summary_state.c.name == "cursor")).scalar()
    return int(value or 0)


def _lock_cursor(connection: Connection) -> int:
    """Read the cursor, holding PostgreSQL's row lock so two refreshes cannot interleave."""
    query = sa.select(summary_state.c.value).where(summary_state.c.name == "cursor")
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    value = connection.execute(query).scalar()
    if value is None:
        connection.execute(summary_state.insert().values(name="cursor", value=0))
        return 0
    return int(value)


def _load(connection: Connection, sender_ids: Sequence[str]) -> Dict[str, Conversation]:
    loaded: Dict[str, Conversation] = {}
    for chunk in _chunks(sender_ids):
        for row in connection.execute(sa.select(conversations).where(conversations.c.sender_id.in_(chunk))):
            values = dict(row._mapping)
            for derived in ("topics", "started_bucket"):
                values.pop(derived)
            loaded[row.sender_id] = Conversation(**values, stored=True)
        for row in connection.execute(
            sa.select(
                conversation_intents.c.sender_id,
                conversation_intents.c.intent_name,
                conversation_intents.c.messages,
            ).where(conversation_intents.c.sender_id.in_(chunk))
        ):
            loaded[row.sender_id].intents[row.intent_name] = row.messages
    for conversation in loaded.values():
        conversation.stored_intents = frozenset(conversation.intents)
        conversation.stored_share = conversation.share()
    return loaded


def _store(connection: Connection, touched: Sequence[Conversation]) -> None:
    new = [c for c in touched if not c.stored]
    old = [c for c in touched if c.stored]
    if new:
        connection.execute(conversations.insert(), [c.row() for c in new])
    if old:
        values = [{**c.row(), "key": c.sender_id} for c in old]
        update = (
            conversations.update()
            .where(conversations.c.sender_id == sa.bindparam("key"))
            .values({name: sa.bindparam(name) for name in values[0] if name != "key"})
        )
        connection.execute(update, values)
    _store_intents(connection, touched)
    _store_text(connection, touched)
    _store_rollups(connection, touched)
    _store_failures(connection, touched)


def _store_failures(connection: Connection, touched: Sequence[Conversation]) -> None:
    """New failing messages; earlier messages a "not covered" answer came after are marked."""
    rows = [row for c in touched for row in c.failures]
    if rows:
        connection.execute(failures.insert(), rows)
    late = sorted({event_id for c in touched for event_id in c.not_covered_ids})
    for chunk in _chunks(late):
        known = set(connection.execute(sa.select(failures.c.event_id).where(failures.c.event_id.in_(chunk))).scalars())
        if known:
            connection.execute(failures.update().where(failures.c.event_id.in_(sorted(known))).values(not_covered=True))
        for row in connection.execute(
            sa.select(events.c.id, events.c.sender_id, events.c.timestamp, events.c.intent_name, events.c.data).where(
                events.c.id.in_([i for i in chunk if i not in known])
            )
        ):
            data = _loads(row.data)
            if visitor.origin(data) != visitor.TYPED:
                continue
            confidence = (data.get("parse_data") or {}).get("intent", {}).get("confidence")
            failure = failure_row(
                row.id,
                row.sender_id,
                row.timestamp,
                data["text"],
                row.intent_name or "",
                float(confidence) if isinstance(confidence, (int, float)) else None,
            )
            failure["not_covered"] = True
            connection.execute(failures.insert().values(**failure))


def _store_rollups(connection: Connection, touched: Sequence[Conversation]) -> None:
    """Move each touched conversation's share from where it was counted to where it is now."""
    buckets: Dict[int, List[int]] = {}
    topics: Counter = Counter()
    for c in touched:
        for sign, share in ((-1, c.stored_share), (1, c.share())):
            if share is None:
                continue
            totals = buckets.setdefault(share.bucket, [0] * len(ROLLUP_COUNTS))
            for index, value in enumerate(share.counts):
                totals[index] += sign * value
            for topic in share.topics:
                topics[(share.hour, topic)] += sign
    _add(
        connection,
        rollup_buckets,
        ("bucket",),
        {(bucket,): dict(zip(ROLLUP_COUNTS, values, strict=True)) for bucket, values in buckets.items() if any(values)},
    )
    _add(
        connection,
        rollup_topics,
        ("hour", "intent_name"),
        {key: {"conversations": value} for key, value in topics.items() if value},
    )


def _add(
    connection: Connection, table: sa.Table, keys: Tuple[str, ...], deltas: Dict[Tuple[Any, ...], Dict[str, int]]
) -> None:
    """Add `deltas` to the rows of `table` with those keys (inserting rows that are new)."""
    if not deltas:
        return
    existing: Dict[Tuple[Any, ...], Dict[str, int]] = {}
    key_columns = [table.c[k] for k in keys]
    first = sorted({key[0] for key in deltas})
    for chunk in _chunks(first):
        for row in connection.execute(sa.select(table).where(key_columns[0].in_(chunk))):
            values = dict(row._mapping)
            existing[tuple(values.pop(k) for k in keys)] = values
    inserts, updates = [], []
    for key, delta in deltas.items():
        named = dict(zip(keys, key, strict=True))
        if key in existing:
            row = {name: existing[key][name] + change for name, change in delta.items()}
            updates.append({**{f"key_{k}": v for k, v in named.items()}, **row})
        else:
            inserts.append({**named, **delta})
    if inserts:
        connection.execute(table.insert(), inserts)
    if updates:
        statement = (
            table.update()
            .where(*[table.c[k] == sa.bindparam(f"key_{k}") for k in keys])
            .values({name: sa.bindparam(name) for name in next(iter(deltas.values()))})
        )
        connection.execute(statement, updates)


def _store_intents(connection: Connection, touched: Sequence[Conversation]) -> None:
    inserts: List[Dict[str, Any]] = []
    updates: List[Dict[str, Any]] = []
    for c in touched:
        for intent, count in c.intents.items():
            row = {"sender_id": c.sender_id, "intent_name": intent, "started_at": c.started_at, "messages": count}
            (updates if intent in c.stored_intents else inserts).append(row)
    if inserts:
        connection.execute(conversation_intents.insert(), inserts)
    if updates:
        connection.execute(
            conversation_intents.update()
            .where(
                conversation_intents.c.sender_id == sa.bindparam("key_sender"),
                conversation_intents.c.intent_name == sa.bindparam("key_intent"),
            )
            .values(started_at=sa.bindparam("started_at"), messages=sa.bindparam("messages")),
            [
                {
                    "key_sender": r["sender_id"],
                    "key_intent": r["intent_name"],
                    "started_at": r["started_at"],
                    "messages": r["messages"],
                }
                for r in updates
            ],
        )


def _store_text(connection: Connection, touched: Sequence[Conversation]) -> None:
    with_text = [c for c in touched if c.new_text]
    if not with_text:
        return
    existing: Dict[str, str] = {}
    ids = [c.sender_id for c in with_text if c.stored]
    for chunk in _chunks(ids):
        for row in connection.execute(sa.select(conversation_text).where(conversation_text.c.sender_id.in_(chunk))):
            existing[row.sender_id] = row.text
    inserts, updates = [], []
    for c in with_text:
        added = "\n".join(c.new_text)
        if c.sender_id in existing:
            updates.append({"key": c.sender_id, "text": existing[c.sender_id] + "\n" + added})
        else:
            inserts.append({"sender_id": c.sender_id, "text": added})
    if inserts:
        connection.execute(conversation_text.insert(), inserts)
    if updates:
        connection.execute(
            conversation_text.update()
            .where(conversation_text.c.sender_id == sa.bindparam("key"))
            .values(text=sa.bindparam("text")),
            updates,
        )


def _gap_rows(connection: Connection, now: float) -> List[Any]:
    """Events that have appeared in ranges skipped earlier; forget ranges past their time."""
    connection.execute(summary_gaps.delete().where(summary_gaps.c.seen_at < now - GAP_SECONDS))
    gaps = connection.execute(sa.select(summary_gaps)).fetchall()
    if not gaps:
        return []
    ranges = [events.c.id.between(g.first_id, g.last_id) for g in gaps]
    return connection.execute(sa.select(*_EVENT_COLUMNS).where(sa.or_(*ranges)).order_by(events.c.id)).fetchall()


def _record_gaps(connection: Connection, cursor: int, ids: Sequence[int], now: float) -> None:
    gaps = []
    previous = cursor
    for event_id in ids:
        if event_id > previous + 1:
            gaps.append({"first_id": previous + 1, "last_id": event_id - 1, "seen_at": now})
        previous = event_id
    if not gaps:
        return
    connection.execute(summary_gaps.insert(), gaps[-MAX_GAPS:])
    count = connection.execute(sa.select(sa.func.count()).select_from(summary_gaps)).scalar()
    if count > MAX_GAPS:
        oldest = sa.select(summary_gaps.c.first_id).order_by(summary_gaps.c.first_id)
        doomed = [r[0] for r in connection.execute(oldest.limit(count - MAX_GAPS))]
        connection.execute(summary_gaps.delete().where(summary_gaps.c.first_id.in_(doomed)))


def _apply_batch(connection: Connection, rows: Sequence[Any]) -> Tuple[int, int]:
    senders = sorted({row.sender_id for row in rows})
    loaded = _load(connection, senders)
    touched: Dict[str, Conversation] = {}
    applied = 0
    for row in rows:
        conversation = loaded.get(row.sender_id)
        if conversation is None:
            conversation = loaded[row.sender_id] = Conversation(sender_id=row.sender_id)
        if row.id <= conversation.last_event_id:
            continue  # read before, through a gap range
        conversation.apply(row)
        touched[row.sender_id] = conversation
        applied += 1
    if touched:
        _store(connection, list(touched.values()))
    return applied, len(touched)


def refresh_once(engine: Engine, batch: int = BATCH_EVENTS, now: Optional[float] = None) -> RefreshResult:
    """Fold at most `batch` new events (and any that turned up in gaps) in one transaction."""
    now = time.time() if now is None else now
    with engine.begin() as connection:
        cursor = _lock_cursor(connection)
        late = _gap_rows(connection, now)
        rows = connection.execute(
            sa.select(*_EVENT_COLUMNS).where(events.c.id > cursor).order_by(events.c.id).limit(batch)
        ).fetchall()
        _record_gaps(connection, cursor, [row.id for row in rows], now)
        applied, touched = _apply_batch(connection, sorted([*late, *rows], key=lambda r: r.id))
        if rows:
            connection.execute(summary_state.update().where(summary_state.c.name == "cursor").values(value=rows[-1].id))
            cursor = rows[-1].id
        newest = connection.execute(sa.select(sa.func.max(events.c.id))).scalar() or 0
    return RefreshResult(len(rows) + len(late), applied, touched, max(0, newest - cursor))


def refresh(engine: Engine, budget_seconds: Optional[float] = None, batch: int = BATCH_EVENTS) -> RefreshResult:
    """Fold new events until caught up, or until `budget_seconds` have passed."""
    started = time.monotonic()
    read = applied = touched = 0
    while True:
        result = refresh_once(engine, batch=batch)
        read += result.events_read
        applied += result.events_applied
        touched += result.conversations
        caught_up = result.behind == 0 or result.events_read == 0
        out_of_time = budget_seconds is not None and time.monotonic() - started > budget_seconds
        if caught_up or out_of_time:
            if applied >= ANALYZE_AFTER_EVENTS:
                analyze(engine)
            return RefreshResult(read, applied, touched, result.behind)


def analyze(engine: Engine) -> None:
    """Refresh the planner's statistics after a big backfill, so the indexes get used."""
    names = [t.name for t in (conversations, conversation_intents, conversation_text)]
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE " + ", ".join(names))
        elif connection.dialect.name == "sqlite":
            for name in names:
                connection.exec_driver_sql(f"ANALYZE {name}")


def events_behind(engine: Engine) -> int:
    """How many event ids the summary has not read yet."""
    with engine.connect() as connection:
        newest = connection.execute(sa.select(sa.func.max(events.c.id))).scalar() or 0
        return max(0, newest - _cursor(connection))


def rebuild(engine: Engine) -> RefreshResult:
    """Drop every summary row and read all events again (after changing what is counted)."""
    with engine.begin() as connection:
        for table in (
            conversation_text,
            conversation_intents,
            conversations,
            rollup_buckets,
            rollup_topics,
            summary_gaps,
            summary_state,
            failures,
        ):
            connection.execute(table.delete())
    return refresh(engine)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`python -m practice.console.summary [--rebuild]`: catch the summary up (or rebuild it)."""
    import argparse

    from practice.console.db import ensure_schema
    from practice.settings import get_settings
    from practice.store.database import create_engine

    parser = argparse.ArgumentParser(prog="python -m practice.console.summary", description=main.__doc__)
    parser.add_argument(
        "--rebuild", action="store_true", help="drop the summary tables' rows and read every event again"
    )
    args = parser.parse_args(argv)
    engine = create_engine(get_settings().database_url)
    try:
        ensure_schema(engine)
        started = time.monotonic()
        result = rebuild(engine) if args.rebuild else refresh(engine)
        print(
            f"read {result.events_read:,} events, applied {result.events_applied:,} "
            f"in {time.monotonic() - started:.1f} s; {result.behind:,} behind"
        )
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
