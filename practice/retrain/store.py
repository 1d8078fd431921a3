"""The NLU inbox and the annotations, in tables of their own next to Rasa's `events`.

`console_inbox` holds one row per distinct (normalised) visitor message with its latest
prediction and how often it was sent; it is filled incrementally from `events` by
`sync_inbox`, so the inbox never scans the whole conversation log on a page view.
`console_annotations` holds what staff decided for each message, by whom and when, and
which retrain run put it into the data.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Set, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from practice.console.visitor import EXTERNAL_PREFIX, TYPED, origin
from practice.retrain.text import normalise, similar, text_key
from practice.store import migrations
from practice.store.database import Bind, transaction
from practice.store.events import events_table

metadata = sa.MetaData()

# Rasa's table (practice/store/events.py), read only here.
events = events_table(metadata)

inbox = sa.Table(
    "console_inbox",
    metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("normalised", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("intent", sa.String(255)),
    # 0 when Rasa logged no confidence: unknown counts as least certain.
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("first_seen", sa.Float),
    sa.Column("last_seen", sa.Float),
    sa.Column("sender_id", sa.String(255)),
    # The model's own top intents, JSON [[name, confidence], ...] (at most RANKING_SIZE),
    # from parse_data.intent_ranking without nlu_fallback: a fallback's `confidence` above
    # is the fallback threshold, not what the model thought.
    sa.Column("ranking", sa.Text),
)
# The inbox's order, so a page reads the least certain rows without sorting them all.
# (`inbox.c["count"]`: `inbox.c.count` is the column collection's own method.)
sa.Index("ix_console_inbox_order", inbox.c.confidence, inbox.c["count"].desc(), inbox.c.key)

inbox_state = sa.Table(
    "console_inbox_state",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)

# The answers visitors rated "not helpful" (Rasa's slot events, by id), collected by the same
# pass over `events` that fills the inbox, so the inbox page never scans `events` for them.
unhelpful = sa.Table(
    "console_inbox_unhelpful",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
)

ACTIONS = ("confirm", "relabel", "out_of_scope", "discard")
OUT_OF_SCOPE_INTENT = "out_of_scope"

annotations_table = sa.Table(
    "console_annotations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(40), nullable=False, unique=True),
    sa.Column("text", sa.Text, nullable=False),
    # confirm | relabel | out_of_scope | discard
    sa.Column("action", sa.String(16), nullable=False),
    # The label the example gets in the data; NULL for discard.
    sa.Column("intent", sa.String(255)),
    sa.Column("predicted_intent", sa.String(255)),
    sa.Column("predicted_confidence", sa.Float),
    sa.Column("annotated_by", sa.String(64), nullable=False),
    sa.Column("annotated_at", sa.Float, nullable=False),
    # Set by a promoted retrain run: its id, and whether the text went to training or holdout.
    sa.Column("applied_run", sa.String(64)),
    sa.Column("applied_to", sa.String(16)),
    sa.Column("applied_at", sa.Float),
    sa.Index("ix_console_annotations_pending", "applied_run", "action"),
)

_CURSOR = "last_event_id"


_VERSION = "version"
# 2: events the widget or the server triggered (`is_external`, `EXTERNAL: greet`) are no
#    visitor messages.
# 3: each message keeps the model's top intents (column `ranking`).
# 4: the "not helpful" ratings are collected too (console_inbox_unhelpful).
# An older inbox table is made anew and read again from `events`.
INBOX_VERSION = 4
RANKING_SIZE = 3
FALLBACK_INTENT = "nlu_fallback"
_migrated: Set[str] = set()


def ensure_schema(engine: Engine) -> None:
    """Once per process and database: the tables to the newest revision (practice/store/
    migrations; Rasa's `events` is left alone), then the inbox to its rules (`migrate`)."""
    key = str(engine.url)
    if key not in _migrated:
        migrations.upgrade(engine)
        migrate(engine)
        _migrated.add(key)


def migrate(engine: Engine) -> bool:
    """Re-read the inbox when it was filled under older rules; True when it was emptied.

    Only the inbox's own rows go (they are derived from `events`); the annotations are
    staff's decisions and stay, except undecided-yet pending ones on trigger text (which
    must never reach the training data).
    """
    with engine.begin() as connection:
        version = connection.execute(sa.select(inbox_state.c.value).where(inbox_state.c.name == _VERSION)).scalar()
        if version is not None and int(version) >= INBOX_VERSION:
            return False
        had_rows = connection.execute(sa.select(sa.func.count()).select_from(inbox)).scalar()
        # Made anew: a table from an older version may lack columns.
        inbox.drop(connection)
        inbox.create(connection)
        connection.execute(unhelpful.delete())
        connection.execute(inbox_state.delete())
        connection.execute(
            annotations_table.delete().where(
                annotations_table.c.applied_run.is_(None),
                annotations_table.c.text.like(EXTERNAL_PREFIX + "%"),
            )
        )
        connection.execute(inbox_state.insert().values(name=_VERSION, value=INBOX_VERSION))
    return bool(had_rows)


def _events_exist(connection: Connection) -> bool:
    return sa.inspect(connection).has_table("events")


@dataclass
class SyncResult:
    """How far one `sync_inbox` call got."""

    events_read: int = 0
    messages: int = 0
    done: bool = True


def _user_message(row: Any) -> Dict[str, Any] | None:
    try:
        data = json.loads(row.data or "{}")
    except ValueError:
        return None
    if not isinstance(data, dict) or origin(data) != TYPED:
        # Widget/server triggers (`is_external`, the greeting) and button payloads are not
        # things visitors typed.
        return None
    text = str(data.get("text") or "")  # origin() saw a non-empty string
    parse_data = data.get("parse_data") or {}
    intent = parse_data.get("intent") or {}
    confidence = intent.get("confidence")
    return {
        "text": text.strip(),
        "intent": intent.get("name") or row.intent_name,
        "confidence": float(confidence) if isinstance(confidence, (int, float)) else 0.0,
        "timestamp": row.timestamp,
        "sender_id": row.sender_id,
        "ranking": json.dumps(model_ranking(parse_data)),
    }


def _ranking(stored: str | None) -> List[Tuple[str, float]]:
    try:
        return [(str(n), float(c)) for n, c in json.loads(stored or "[]")]
    except (ValueError, TypeError):
        return []


def model_ranking(parse_data: Mapping[str, Any]) -> List[Tuple[str, float]]:
    """The model's top intents and confidences, best first, without the fallback's entry."""
    ranking = parse_data.get("intent_ranking")
    if not isinstance(ranking, list) or not ranking:
        ranking = [parse_data.get("intent") or {}]
    found: List[Tuple[str, float]] = []
    for entry in ranking:
        if not isinstance(entry, Mapping):
            continue
        name, confidence = entry.get("name"), entry.get("confidence")
        if not name or name == FALLBACK_INTENT or not isinstance(confidence, (int, float)):
            continue
        found.append((str(name), float(confidence)))
    found.sort(key=lambda item: -item[1])
    return found[:RANKING_SIZE]


def sync_inbox(
    engine: Engine,
    batch: int = 5000,
    max_seconds: float | None = None,
    settle_seconds: float = 2.0,
) -> SyncResult:
    """Read user messages logged since the last sync into `console_inbox`.

    Events of the last `settle_seconds` wait for the next sync, so a message whose
    transaction commits a moment after a later one is not skipped. Two syncs at once
    (two console requests, or the console and `make retrain`) cannot both advance: the
    loser's transaction fails and it simply returns.
    """
    ensure_schema(engine)
    result = SyncResult()
    started = time.monotonic()
    while True:
        try:
            read, grouped, full = _sync_batch(engine, batch, time.time() - settle_seconds)
        except (sa.exc.IntegrityError, sa.exc.OperationalError):
            result.done = False  # another sync holds the cursor
            return result
        result.events_read += read
        result.messages += grouped
        if not full:
            return result
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            result.done = False
            return result


def _sync_batch(engine: Engine, batch: int, horizon: float) -> Tuple[int, int, bool]:
    """One batch: (events read, distinct messages, whether more may follow)."""
    with engine.begin() as connection:
        if not _events_exist(connection):
            return 0, 0, False
        cursor = connection.execute(
            sa.select(inbox_state.c.value).where(inbox_state.c.name == _CURSOR).with_for_update()
        ).scalar()
        last_id = int(cursor or 0)
        rows = connection.execute(
            sa.select(
                events.c.id,
                events.c.sender_id,
                events.c.timestamp,
                events.c.intent_name,
                events.c.type_name,
                events.c.data,
            )
            .where(
                events.c.id > last_id,
                sa.or_(
                    events.c.type_name == "user",
                    sa.and_(events.c.type_name == "slot", events.c.action_name == FEEDBACK_SLOT),
                ),
            )
            .order_by(events.c.id)
            .limit(batch)
        ).all()
        settled = []
        for row in rows:
            if row.timestamp is not None and row.timestamp > horizon:
                break
            settled.append(row)
        if not settled:
            return 0, 0, False
        grouped: Dict[str, Dict[str, Any]] = {}
        ratings = [
            {"event_id": row.id, "sender_id": row.sender_id}
            for row in settled
            if row.type_name == "slot" and _unhelpful_verdict(row.data) is not None
        ]
        if ratings:
            connection.execute(unhelpful.insert(), ratings)
        for row in settled:
            if row.type_name != "user":
                continue
            message = _user_message(row)
            if message is None:
                continue
            key = text_key(message["text"])
            entry = grouped.get(key)
            if entry is None:
                grouped[key] = {**message, "count": 1, "first_seen": message["timestamp"]}
            else:
                first_seen = entry["first_seen"]
                entry.update(message)
                entry["count"] += 1
                entry["first_seen"] = first_seen
        _merge(connection, grouped)
        new_cursor = settled[-1].id
        if cursor is None:
            connection.execute(inbox_state.insert().values(name=_CURSOR, value=new_cursor))
        else:
            connection.execute(inbox_state.update().where(inbox_state.c.name == _CURSOR).values(value=new_cursor))
    return len(settled), len(grouped), len(settled) == len(rows) == batch


def _merge(connection: Connection, grouped: Mapping[str, Dict[str, Any]]) -> None:
    keys = list(grouped)
    existing: Dict[str, Any] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for row in connection.execute(sa.select(inbox).where(inbox.c.key.in_(chunk))):
            existing[row.key] = row
    inserts = []
    for key, entry in grouped.items():
        values = {
            "text": entry["text"],
            "intent": entry["intent"],
            "confidence": entry["confidence"],
            "last_seen": entry["timestamp"],
            "sender_id": entry["sender_id"],
            "ranking": entry["ranking"],
        }
        if key in existing:
            connection.execute(
                inbox.update().where(inbox.c.key == key).values(count=existing[key].count + entry["count"], **values)
            )
        else:
            inserts.append(
                {
                    "key": key,
                    "normalised": normalise(entry["text"]),
                    "count": entry["count"],
                    "first_seen": entry["first_seen"],
                    **values,
                }
            )
    if inserts:
        connection.execute(inbox.insert(), inserts)


@dataclass
class InboxMessage:
    """One distinct visitor message: latest prediction and how often it was sent."""

    key: str
    text: str
    normalised: str
    intent: str | None
    confidence: float | None
    count: int
    last_seen: float | None
    sender_id: str | None
    # The model's top intents [(name, confidence)], best first (see `model_ranking`).
    ranking: List[Tuple[str, float]] = field(default_factory=list)


@dataclass
class InboxGroup:
    """Near-duplicate messages shown and annotated together; the least certain one leads."""

    members: List[InboxMessage] = field(default_factory=list)

    @property
    def lead(self) -> InboxMessage:
        """The message the group is shown by."""
        return self.members[0]

    @property
    def count(self) -> int:
        """How many times visitors sent any of the group's messages."""
        return sum(m.count for m in self.members)

    @property
    def keys(self) -> List[str]:
        """The keys of every member."""
        return [m.key for m in self.members]


@dataclass
class InboxPage:
    """One page of the inbox."""

    groups: List[InboxGroup]
    total_groups: int
    total_messages: int


def inbox_page(
    engine: Engine,
    known: Set[str],
    limit: int = 50,
    offset: int = 0,
    window: int = 1000,
    intent: str | None = None,
    max_confidence: float | None = None,
    search: str | None = None,
) -> InboxPage:
    """Unannotated messages not in the data (`known`: normalised texts), least certain first.

    The `window` least certain candidates are grouped into near-duplicates; the page is a
    slice of those groups.
    """
    ensure_schema(engine)
    query = (
        sa.select(inbox)
        .select_from(inbox.outerjoin(annotations_table, annotations_table.c.key == inbox.c.key))
        .where(annotations_table.c.id.is_(None))
        .order_by(inbox.c.confidence, inbox.c.count.desc(), inbox.c.key)
    )
    if intent:
        query = query.where(inbox.c.intent == intent)
    if search and normalise(search):
        # Normalised text holds only letters, digits and single spaces: no LIKE wildcards.
        query = query.where(inbox.c.normalised.like(f"%{normalise(search)}%"))
    if max_confidence is not None:
        query = query.where(inbox.c.confidence <= max_confidence)
    messages: List[InboxMessage] = []
    batch_offset = 0
    with engine.connect() as connection:
        # Skip rows already in the data, reading on until the window is full.
        while len(messages) < window:
            rows = connection.execute(query.limit(window).offset(batch_offset)).all()
            if not rows:
                break
            batch_offset += len(rows)
            for row in rows:
                if row.normalised in known:
                    continue
                messages.append(_inbox_message(row))
            if len(rows) < window:
                break
    groups = group_near_duplicates(messages[:window])
    return InboxPage(
        groups=groups[offset : offset + limit],
        total_groups=len(groups),
        total_messages=sum(g.count for g in groups),
    )


# Words too common to say two messages are about the same thing.
_COMMON_WORDS = (
    "a an and are can could do does for how i im is it me my of on or so that the this to "
    "what whats when where which who why will with you your"
)
_COMMON = frozenset(_COMMON_WORDS.split())
_CANDIDATES = 5


def group_near_duplicates(messages: Sequence[InboxMessage]) -> List[InboxGroup]:
    """Greedy grouping in the given order: each message joins the first similar group.

    Only the few groups sharing the most uncommon words with a message are compared with
    it, so a page of a thousand messages groups in well under a second.
    """
    groups: List[InboxGroup] = []
    by_word: Dict[str, List[int]] = {}
    for message in messages:
        words = {w for w in message.normalised.split() if w not in _COMMON} or set(message.normalised.split())
        shared: Dict[int, int] = {}
        for word in words:
            for index in by_word.get(word, ()):
                shared[index] = shared.get(index, 0) + 1
        candidates = sorted(shared, key=lambda i: (-shared[i], i))[:_CANDIDATES]
        target = next(
            (i for i in sorted(candidates) if similar(groups[i].lead.normalised, message.normalised)),
            None,
        )
        if target is None:
            groups.append(InboxGroup([message]))
            for word in words:
                by_word.setdefault(word, []).append(len(groups) - 1)
        else:
            groups[target].members.append(message)
    return groups


def messages_by_keys(engine: Engine, keys: Iterable[str]) -> List[InboxMessage]:
    """The inbox rows with these keys."""
    ensure_schema(engine)
    with engine.connect() as connection:
        return _messages_by_keys(connection, keys)


def _inbox_message(row: Any) -> InboxMessage:
    """One `console_inbox` row as the inbox shows it."""
    return InboxMessage(
        row.key,
        row.text,
        row.normalised,
        row.intent,
        row.confidence,
        row.count,
        row.last_seen,
        row.sender_id,
        _ranking(row.ranking),
    )


def _messages_by_keys(connection: Connection, keys: Iterable[str]) -> List[InboxMessage]:
    keys = list(dict.fromkeys(keys))
    found: List[InboxMessage] = []
    for start in range(0, len(keys), 500):
        for row in connection.execute(sa.select(inbox).where(inbox.c.key.in_(keys[start : start + 500]))):
            found.append(_inbox_message(row))
    return found


class AnnotationError(ValueError):
    """An annotation that cannot be recorded (unknown intent, nothing to confirm)."""


def label_for(action: str, predicted: str | None, intent: str | None, intents: Set[str]) -> str | None:
    """The intent an annotation gives its message, or raise when the action cannot apply."""
    if action not in ACTIONS:
        raise AnnotationError(f"unknown action {action!r}")
    if action == "discard":
        return None
    label: str | None
    if action == "out_of_scope":
        label = OUT_OF_SCOPE_INTENT
    elif action == "confirm":
        label = intent or predicted  # a group is confirmed with the prediction shown for it
    else:
        label = intent
    if not label or label not in intents:
        what = "the predicted intent" if action == "confirm" else "the intent"
        raise AnnotationError(f"{what} {label!r} is not an intent of the assistant")
    return label


def annotate(
    bind: Bind,
    keys: Iterable[str],
    action: str,
    username: str,
    intents: Set[str],
    intent: str | None = None,
    now: float | None = None,
) -> int:
    """Record one decision for each inbox message; returns how many were recorded.

    A message already annotated and not yet applied gets the new decision; applied ones are
    left alone (they are in the data now). On a connection it joins the caller's transaction
    (the console writes the audit entry in the same one) and the tables must exist.
    """
    if isinstance(bind, Engine):
        ensure_schema(bind)
    now = time.time() if now is None else now
    if action in ("relabel", "confirm") and intent is not None:
        label_for(action, None, intent, intents)  # refuse an unknown intent before writing
    with transaction(bind) as connection:
        messages = _messages_by_keys(connection, keys)
        return _record_annotations(connection, messages, action, username, intents, intent, now)


def _record_annotations(
    connection: Connection,
    messages: Sequence[InboxMessage],
    action: str,
    username: str,
    intents: Set[str],
    intent: str | None,
    now: float,
) -> int:
    rows = []
    for message in messages:
        rows.append(
            {
                "key": message.key,
                "text": message.text,
                "action": action,
                "intent": label_for(action, message.intent, intent, intents),
                "predicted_intent": message.intent,
                "predicted_confidence": message.confidence,
                "annotated_by": username,
                "annotated_at": now,
            }
        )
    for row in rows:
        current = connection.execute(
            sa.select(annotations_table.c.id, annotations_table.c.applied_run).where(
                annotations_table.c.key == row["key"]
            )
        ).first()
        if current is None:
            connection.execute(annotations_table.insert().values(**row))
        elif current.applied_run is None:
            connection.execute(annotations_table.update().where(annotations_table.c.id == current.id).values(**row))
    return len(rows)


def undo(bind: Bind, keys: Iterable[str]) -> int:
    """Forget the not-yet-applied annotations of these messages (they return to the inbox);
    on a connection, inside the caller's transaction."""
    if isinstance(bind, Engine):
        ensure_schema(bind)
    keys = list(keys)
    with transaction(bind) as connection:
        result = connection.execute(
            annotations_table.delete().where(
                annotations_table.c.key.in_(keys), annotations_table.c.applied_run.is_(None)
            )
        )
    return result.rowcount or 0


@dataclass
class Annotation:
    """One recorded decision."""

    id: int
    key: str
    text: str
    action: str
    intent: str | None
    predicted_intent: str | None
    predicted_confidence: float | None
    annotated_by: str
    annotated_at: float
    applied_run: str | None
    applied_to: str | None


def _annotation(row: Any) -> Annotation:
    return Annotation(
        row.id,
        row.key,
        row.text,
        row.action,
        row.intent,
        row.predicted_intent,
        row.predicted_confidence,
        row.annotated_by,
        row.annotated_at,
        row.applied_run,
        row.applied_to,
    )


def pending_annotations(engine: Engine, include_discarded: bool = False) -> List[Annotation]:
    """Decisions not yet in the data, oldest first (discards only when asked)."""
    ensure_schema(engine)
    query = (
        sa.select(annotations_table).where(annotations_table.c.applied_run.is_(None)).order_by(annotations_table.c.id)
    )
    if not include_discarded:
        query = query.where(annotations_table.c.action != "discard")
    with engine.connect() as connection:
        return [_annotation(row) for row in connection.execute(query)]


def applied_counts(engine: Engine) -> Dict[str, int]:
    """How many examples each intent got from annotations so far (the held-out share counts on)."""
    ensure_schema(engine)
    query = (
        sa.select(annotations_table.c.intent, sa.func.count())
        .where(annotations_table.c.applied_run.is_not(None), annotations_table.c.intent.is_not(None))
        .group_by(annotations_table.c.intent)
    )
    with engine.connect() as connection:
        return {intent: int(n) for intent, n in connection.execute(query)}


def mark_applied(engine: Engine, run_id: str, placements: Mapping[int, str], now: float | None = None) -> None:
    """Record that a promoted run placed these annotations (id -> training|holdout|skipped)."""
    now = time.time() if now is None else now
    with engine.begin() as connection:
        for annotation_id, where in placements.items():
            connection.execute(
                annotations_table.update()
                .where(annotations_table.c.id == annotation_id)
                .values(applied_run=run_id, applied_to=where, applied_at=now)
            )


def unmark_run(engine: Engine, run_id: str) -> int:
    """Put a rolled-back run's annotations back to pending."""
    ensure_schema(engine)
    with engine.begin() as connection:
        result = connection.execute(
            annotations_table.update()
            .where(annotations_table.c.applied_run == run_id)
            .values(applied_run=None, applied_to=None, applied_at=None)
        )
    return result.rowcount or 0


def recent_annotations(engine: Engine, limit: int = 200) -> List[Annotation]:
    """The latest decisions, pending first, then newest."""
    ensure_schema(engine)
    query = (
        sa.select(annotations_table)
        .order_by(
            annotations_table.c.applied_run.is_not(None),
            annotations_table.c.annotated_at.desc(),
            annotations_table.c.id.desc(),
        )
        .limit(limit)
    )
    with engine.connect() as connection:
        return [_annotation(row) for row in connection.execute(query)]


# ---- answers visitors rated "not helpful" in the widget (practice/channels/website.py) ----

FEEDBACK_SLOT = "answer_feedback"


def _unhelpful_verdict(data: str | None) -> Dict[str, Any] | None:
    """A feedback slot event's value when it says the answer did not help, else None."""
    try:
        verdict = json.loads(data or "{}").get("value")
    except (ValueError, AttributeError):
        return None
    return verdict if isinstance(verdict, dict) and verdict.get("helpful") is False else None


@dataclass(frozen=True)
class UnhelpfulAnswer:
    """An answer a visitor rated "not helpful", and the visitor message that led to it."""

    sender_id: str
    utter_action: str
    rated_at: float
    visitor_text: str = ""
    intent: str | None = None
    confidence: float | None = None


def _led_to(connection: Connection, sender_id: str, before_id: int, stamp: Any) -> Any:
    """The visitor's message just before the rated bot message (found by its timestamp)."""
    bot_id = before_id
    if isinstance(stamp, (int, float)):
        bot = connection.execute(
            sa.select(events.c.id)
            .where(
                events.c.sender_id == sender_id,
                events.c.type_name == "bot",
                events.c.id < before_id,
                events.c.timestamp.between(stamp - 1e-3, stamp + 1e-3),
            )
            .order_by(events.c.id.desc())
            .limit(1)
        ).first()
        bot_id = bot.id if bot else before_id
    return connection.execute(
        sa.select(events.c.id, events.c.sender_id, events.c.timestamp, events.c.intent_name, events.c.data)
        .where(events.c.sender_id == sender_id, events.c.type_name == "user", events.c.id < bot_id)
        .order_by(events.c.id.desc())
        .limit(1)
    ).first()


def unhelpful_answers(engine: Engine, limit: int = 20) -> List[UnhelpfulAnswer]:
    """The latest answers rated "not helpful", newest first, each with what the visitor asked.

    The ratings `sync_inbox` collected, and those in the events it has not read yet (the last
    seconds' tail past its cursor, read by Rasa's id index), so a rating shows at once.
    """
    ensure_schema(engine)
    found: List[UnhelpfulAnswer] = []
    with engine.connect() as connection:
        if not _events_exist(connection):
            return found
        cursor = connection.execute(sa.select(inbox_state.c.value).where(inbox_state.c.name == _CURSOR)).scalar()
        collected = sa.select(unhelpful.c.event_id).order_by(unhelpful.c.event_id.desc()).limit(limit).subquery()
        columns = (events.c.id, events.c.sender_id, events.c.timestamp, events.c.data)
        rows = connection.execute(
            sa.select(*columns).where(events.c.id.in_(sa.select(collected.c.event_id))).order_by(events.c.id.desc())
        ).fetchall()
        tail = connection.execute(
            sa.select(*columns)
            .where(
                events.c.id > int(cursor or 0),
                events.c.type_name == "slot",
                events.c.action_name == FEEDBACK_SLOT,
            )
            .order_by(events.c.id.desc())
            .limit(limit)
        ).fetchall()
        newest = {row.id: row for row in [*rows, *tail]}
        for row in sorted(newest.values(), key=lambda r: r.id, reverse=True)[:limit]:
            verdict = _unhelpful_verdict(row.data)
            if verdict is None:
                continue
            asked = _led_to(connection, row.sender_id, row.id, verdict.get("timestamp"))
            message = _user_message(asked) if asked is not None else None
            found.append(
                UnhelpfulAnswer(
                    sender_id=row.sender_id,
                    utter_action=str(verdict.get("utter_action") or ""),
                    rated_at=float(row.timestamp or 0.0),
                    visitor_text=message["text"] if message else "",
                    intent=message["intent"] if message else None,
                    confidence=message["confidence"] if message else None,
                )
            )
    return found
