"""Read-only queries behind the console's pages: the filtered list, a transcript, the dashboard."""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from practice.console import visitor
from practice.console.db import (
    conversation_intents,
    conversation_tags,
    conversation_text,
    conversations,
    events,
    failures,
    notes,
    reviews,
    rollup_buckets,
    rollup_topics,
    tags,
)
from practice.console.summary import FALLBACK_INTENT, ROLLUP_COUNTS, TOPIC_PREFIX

PAGE_SIZE = 50
# The website channel's slot for a visitor's verdict on an answer (practice/channels/website.py).
FEEDBACK_SLOT = "answer_feedback"
# The filter's values and the text the verdict is stored with (Rasa's json.dumps of the event).
FEEDBACK_VERDICTS = {"unhelpful": '"helpful": false', "helpful": '"helpful": true'}
TRANSCRIPT_LIMIT = 5000
_YES_NO = {"yes": True, "no": False}


def _yes_no(value: Optional[str]) -> Optional[bool]:
    return _YES_NO.get((value or "").strip().lower())


def _date(value: Optional[str]) -> Optional[dt.date]:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


MAX_SEARCH_CHARS = 200
_DATE_LABELS = {"from": "From", "to": "To"}


def parse_dates(args: Mapping[str, str], problems: List[str]) -> Tuple[Optional[dt.date], Optional[dt.date]]:
    """`from` and `to` of a query string; what was wrong with them goes into `problems`.

    A value that is not a date is ignored and said so; a From after To is swapped and said so.
    """
    found: Dict[str, Optional[dt.date]] = {}
    for key, label in _DATE_LABELS.items():
        raw = (args.get(key) or "").strip()
        found[key] = _date(raw)
        if raw and found[key] is None:
            shown = raw if len(raw) <= 40 else raw[:40] + "…"
            problems.append(f"“{label}” must be a date like 2026-01-31; “{shown}” is not one, so it was not applied.")
    date_from, date_to = found["from"], found["to"]
    if date_from and date_to and date_from > date_to:
        problems.append(
            f"“From” ({date_from.isoformat()}) was after “To” ({date_to.isoformat()}): the two were swapped."
        )
        date_from, date_to = date_to, date_from
    return date_from, date_to


@dataclass(frozen=True)
class ConversationFilter:
    """What a coach asked the list for; built from and written back to the query string."""

    date_from: Optional[dt.date] = None
    date_to: Optional[dt.date] = None
    intent: str = ""
    fallback: str = ""  # "" (no filter), "yes" (had one), "ended" (ended in one) or "no"
    low_confidence: bool = False
    escalation: Optional[bool] = None
    offer: Optional[bool] = None
    clicked: Optional[bool] = None
    reviewed: Optional[bool] = None
    tag: str = ""
    search: str = ""
    feedback: str = ""  # "" (no filter), "unhelpful" or "helpful": some answer rated so
    # What was wrong with the query string, to tell the coach (not part of the filter).
    problems: Tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_query(cls, args: Mapping[str, str]) -> ConversationFilter:
        """Parse query-string values; anything unrecognised means 'no filter'."""
        fallback = (args.get("fallback") or "").strip().lower()
        feedback = (args.get("feedback") or "").strip().lower()
        problems: List[str] = []
        date_from, date_to = parse_dates(args, problems)
        search = (args.get("q") or "").strip()
        if len(search) > MAX_SEARCH_CHARS:
            problems.append(
                f"The search has {len(search):,} characters; only the first {MAX_SEARCH_CHARS} were searched for."
            )
        return cls(
            problems=tuple(problems),
            date_from=date_from,
            date_to=date_to,
            intent=(args.get("intent") or "").strip()[:255],
            fallback=fallback if fallback in ("yes", "ended", "no") else "",
            low_confidence=(args.get("low_confidence") or "") in ("1", "yes", "on"),
            escalation=_yes_no(args.get("escalation")),
            offer=_yes_no(args.get("offer")),
            clicked=_yes_no(args.get("clicked")),
            reviewed=_yes_no(args.get("reviewed")),
            tag=(args.get("tag") or "").strip().lower()[:64],
            search=search[:MAX_SEARCH_CHARS],
            feedback=feedback if feedback in FEEDBACK_VERDICTS else "",
        )

    def to_query(self) -> Dict[str, str]:
        """The query-string values that reproduce this filter (empty ones left out)."""

        def yn(value: Optional[bool]) -> str:
            return "" if value is None else ("yes" if value else "no")

        values = {
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "intent": self.intent,
            "fallback": self.fallback,
            "low_confidence": "1" if self.low_confidence else "",
            "escalation": yn(self.escalation),
            "offer": yn(self.offer),
            "clicked": yn(self.clicked),
            "reviewed": yn(self.reviewed),
            "tag": self.tag,
            "q": self.search,
            "feedback": self.feedback,
        }
        return {key: value for key, value in values.items() if value}

    def describe(self) -> str:
        """A short human-readable form, for the audit log."""
        return ", ".join(f"{k}={v}" for k, v in self.to_query().items()) or "all conversations"


def day_bounds(day: dt.date, tz: ZoneInfo) -> Tuple[float, float]:
    """Unix seconds of a local day's first instant and of the next day's."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start.timestamp(), end.timestamp()


def _like_pattern(text: str) -> str:
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def filter_clauses(flt: ConversationFilter, tz: ZoneInfo, low_confidence: float) -> List[sa.sql.ClauseElement]:
    """WHERE clauses on `console_conversations` for a filter."""
    c = conversations.c
    # Sessions the widget opened where the visitor never typed or clicked are not
    # conversations (the greeting the widget triggers is no visitor message).
    clauses: List[sa.sql.ClauseElement] = [sa.or_(c.user_messages > 0, c.link_clicked == sa.true())]
    if flt.date_from:
        clauses.append(c.started_at >= day_bounds(flt.date_from, tz)[0])
    if flt.date_to:
        clauses.append(c.started_at < day_bounds(flt.date_to, tz)[1])
    if flt.intent:
        clauses.append(
            c.sender_id.in_(
                sa.select(conversation_intents.c.sender_id).where(conversation_intents.c.intent_name == flt.intent)
            )
        )
    if flt.fallback == "yes":
        clauses.append(sa.or_(c.fallbacks > 0, c.fallback_actions > 0))
    elif flt.fallback == "ended":
        clauses.append(c.last_intent == FALLBACK_INTENT)
    elif flt.fallback == "no":
        clauses.append(sa.and_(c.fallbacks == 0, c.fallback_actions == 0))
    if flt.low_confidence:
        clauses.append(c.min_confidence < low_confidence)
    if flt.escalation is not None:
        clauses.append(c.escalations > 0 if flt.escalation else c.escalations == 0)
    if flt.offer is not None:
        clauses.append(c.offer_shown == flt.offer)
    if flt.clicked is not None:
        clauses.append(c.link_clicked == flt.clicked)
    if flt.reviewed is not None:
        reviewed = sa.select(reviews.c.sender_id)
        clauses.append(c.sender_id.in_(reviewed) if flt.reviewed else c.sender_id.not_in(reviewed))
    if flt.tag:
        clauses.append(
            c.sender_id.in_(
                sa.select(conversation_tags.c.sender_id)
                .join(tags, tags.c.id == conversation_tags.c.tag_id)
                .where(tags.c.name == flt.tag)
            )
        )
    if flt.feedback:
        clauses.append(
            c.sender_id.in_(
                sa.select(events.c.sender_id).where(
                    events.c.type_name == "slot",
                    events.c.action_name == FEEDBACK_SLOT,
                    events.c.data.like(f"%{FEEDBACK_VERDICTS[flt.feedback]}%"),
                )
            )
        )
    if flt.search:
        clauses.append(
            c.sender_id.in_(
                sa.select(conversation_text.c.sender_id).where(
                    conversation_text.c.text.like(_like_pattern(flt.search), escape="\\")
                )
            )
        )
    return clauses


@dataclass(frozen=True)
class ConversationRow:
    """One line of the conversation list (and of the CSV export)."""

    sender_id: str
    started_at: float
    messages: int
    user_messages: int
    topics: Tuple[str, ...]
    first_message: str
    offer_shown: bool
    link_clicked: bool
    fallbacks: int
    escalations: int
    min_confidence: Optional[float]
    last_intent: Optional[str]
    reviewed_by: Optional[str]
    tags: Tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class ConversationPage:
    """A page of the filtered list, with the total it was cut from."""

    rows: List[ConversationRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        """How many pages the filtered list has (at least one)."""
        return max(1, -(-self.total // self.page_size))


_LIST_COLUMNS = (
    conversations.c.sender_id,
    conversations.c.started_at,
    conversations.c.user_messages,
    conversations.c.bot_messages,
    conversations.c.topics,
    conversations.c.first_message,
    conversations.c.offer_shown,
    conversations.c.link_clicked,
    conversations.c.fallbacks,
    conversations.c.fallback_actions,
    conversations.c.escalations,
    conversations.c.min_confidence,
    conversations.c.last_intent,
    reviews.c.reviewed_by,
)


def _list_query(clauses: Sequence[sa.sql.ClauseElement]) -> sa.sql.Select:
    return (
        sa.select(*_LIST_COLUMNS)
        .select_from(conversations.outerjoin(reviews, reviews.c.sender_id == conversations.c.sender_id))
        .where(*clauses)
        .order_by(conversations.c.started_at.desc(), conversations.c.sender_id.desc())
    )


def _to_row(row: Any, tag_map: Mapping[str, Tuple[str, ...]], note_map: Mapping[str, str]) -> ConversationRow:
    return ConversationRow(
        sender_id=row.sender_id,
        started_at=row.started_at,
        messages=row.user_messages + row.bot_messages,
        user_messages=row.user_messages,
        topics=tuple(t for t in row.topics.split(",") if t),
        first_message=row.first_message or "",
        offer_shown=bool(row.offer_shown),
        link_clicked=bool(row.link_clicked),
        fallbacks=max(row.fallbacks, row.fallback_actions),
        escalations=row.escalations,
        min_confidence=row.min_confidence,
        last_intent=row.last_intent,
        reviewed_by=row.reviewed_by,
        tags=tag_map.get(row.sender_id, ()),
        note=note_map.get(row.sender_id, ""),
    )


def _tags_and_notes(
    connection: Connection, sender_ids: Sequence[str]
) -> Tuple[Dict[str, Tuple[str, ...]], Dict[str, str]]:
    if not sender_ids:
        return {}, {}
    tag_lists: Dict[str, List[str]] = {}
    for row in connection.execute(
        sa.select(conversation_tags.c.sender_id, tags.c.name)
        .join(tags, tags.c.id == conversation_tags.c.tag_id)
        .where(conversation_tags.c.sender_id.in_(sender_ids))
        .order_by(tags.c.name)
    ):
        tag_lists.setdefault(row.sender_id, []).append(row.name)
    note_map = {
        row.sender_id: row.text
        for row in connection.execute(
            sa.select(notes.c.sender_id, notes.c.text).where(notes.c.sender_id.in_(sender_ids))
        )
    }
    return {k: tuple(v) for k, v in tag_lists.items()}, note_map


def list_conversations(
    engine: Engine,
    flt: ConversationFilter,
    tz: ZoneInfo,
    low_confidence: float,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> ConversationPage:
    """One page of the filtered conversations, newest first, and how many match in all."""
    clauses = filter_clauses(flt, tz, low_confidence)
    page = max(1, page)
    with engine.connect() as connection:
        total = connection.execute(sa.select(sa.func.count()).select_from(conversations).where(*clauses)).scalar_one()
        page = min(page, max(1, -(-total // page_size)))
        rows = connection.execute(_list_query(clauses).limit(page_size).offset((page - 1) * page_size)).fetchall()
        tag_map, note_map = _tags_and_notes(connection, [r.sender_id for r in rows])
    return ConversationPage([_to_row(r, tag_map, note_map) for r in rows], total, page, page_size)


def iter_conversations(
    engine: Engine,
    flt: ConversationFilter,
    tz: ZoneInfo,
    low_confidence: float,
    chunk: int = 500,
) -> Iterator[List[ConversationRow]]:
    """Every conversation matching the filter, newest first, in chunks (for exports)."""
    clauses = filter_clauses(flt, tz, low_confidence)
    with engine.connect() as connection:
        rows = connection.execute(_list_query(clauses)).fetchall()
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            tag_map, note_map = _tags_and_notes(connection, [r.sender_id for r in part])
            yield [_to_row(r, tag_map, note_map) for r in part]


@dataclass(frozen=True)
class TranscriptItem:
    """One event of a conversation, as the transcript shows it."""

    id: int
    kind: str  # user, bot, action, slot, feedback, session, other
    at: float
    text: str = ""
    intent: Optional[str] = None
    confidence: Optional[float] = None
    name: Optional[str] = None
    value: str = ""
    buttons: Tuple[str, ...] = ()
    section: str = ""  # the article section an answer links to
    helpful: Optional[bool] = None  # a feedback item's verdict
    payloads: Tuple[str, ...] = ()
    # For a click: the title of the button whose payload it sent, when the offer is known.
    label: str = ""


def _transcript_item(row: Any) -> TranscriptItem:
    try:
        data = json.loads(row.data or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    at = float(row.timestamp or 0.0)
    kind = row.type_name
    if kind == "user":
        intent = (data.get("parse_data") or {}).get("intent") or {}
        confidence = intent.get("confidence")
        origin = visitor.origin(data)
        if origin == visitor.EXTERNAL:
            # Not the visitor: the widget's greeting trigger and other server events.
            return TranscriptItem(row.id, "trigger", at, name=row.intent_name or intent.get("name"))
        return TranscriptItem(
            row.id,
            "click" if origin == visitor.CLICKED else "user",
            at,
            text=str(data.get("text") or ""),
            intent=row.intent_name or intent.get("name"),
            confidence=float(confidence) if isinstance(confidence, (int, float)) else None,
        )
    if kind == "bot":
        buttons = ((data.get("data") or {}).get("buttons")) or []
        titles = tuple(str(b.get("title", "")) for b in buttons if isinstance(b, dict))
        payloads = tuple(str(b.get("payload", "")) for b in buttons if isinstance(b, dict))
        metadata = data.get("metadata") or {}
        found = metadata.get("source")
        source: Dict[str, Any] = found if isinstance(found, dict) else {}
        return TranscriptItem(
            row.id,
            "bot",
            at,
            text=str(data.get("text") or ""),
            name=metadata.get("utter_action"),
            buttons=titles,
            payloads=payloads,
            section=str(source.get("section") or ""),
        )
    if kind == "action":
        return TranscriptItem(row.id, "action", at, name=row.action_name)
    if kind == "slot" and row.action_name == FEEDBACK_SLOT and isinstance(data.get("value"), dict):
        verdict = data["value"]
        return TranscriptItem(
            row.id, "feedback", at, name=str(verdict.get("utter_action") or ""), helpful=bool(verdict.get("helpful"))
        )
    if kind == "slot":
        return TranscriptItem(row.id, "slot", at, name=row.action_name, value=json.dumps(data.get("value")))
    if kind == "session_started":
        return TranscriptItem(row.id, "session", at, name="session started")
    return TranscriptItem(row.id, "other", at, name=kind)


def _label_clicks(items: List[TranscriptItem]) -> List[TranscriptItem]:
    """Give each click the title of the button (last offered with that payload) it came from."""
    offered: Dict[str, str] = {}
    labelled = []
    for item in items:
        if item.kind == "bot":
            offered.update(zip(item.payloads, item.buttons, strict=True))
        elif item.kind == "click":
            item = dataclasses.replace(item, label=offered.get(item.text.strip(), ""))
        labelled.append(item)
    return labelled


@dataclass(frozen=True)
class Transcript:
    """A conversation's events in order, with the summary row when there is one."""

    sender_id: str
    items: List[TranscriptItem]
    summary: Optional[ConversationRow]
    truncated: bool


def transcript(engine: Engine, sender_id: str) -> Optional[Transcript]:
    """Every event of one conversation, in the order Rasa stored them; None if unknown."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                events.c.id,
                events.c.type_name,
                events.c.timestamp,
                events.c.intent_name,
                events.c.action_name,
                events.c.data,
            )
            .where(events.c.sender_id == sender_id)
            .order_by(events.c.id)
            .limit(TRANSCRIPT_LIMIT + 1)
        ).fetchall()
        if not rows:
            return None
        summary_row = connection.execute(_list_query([conversations.c.sender_id == sender_id])).first()
        tag_map, note_map = _tags_and_notes(connection, [sender_id])
    summary = _to_row(summary_row, tag_map, note_map) if summary_row else None
    items = _label_clicks([_transcript_item(r) for r in rows[:TRANSCRIPT_LIMIT]])
    return Transcript(sender_id, items, summary, truncated=len(rows) > TRANSCRIPT_LIMIT)


SNIPPET_CONTEXT = 40


def snippet(text: str, term: str, context: int = SNIPPET_CONTEXT) -> str:
    """The part of `text` around the first case-insensitive `term`, with … where cut."""
    found = text.casefold().find(term.casefold())
    if found < 0 or len(text.casefold()) != len(text):
        return text[: 2 * context] + ("…" if len(text) > 2 * context else "")
    start, end = max(0, found - context), min(len(text), found + len(term) + context)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def search_snippets(engine: Engine, sender_ids: Sequence[str], term: str) -> Dict[str, str]:
    """For each conversation, the first thing its visitor typed that contains `term`, cut
    around it (read from the events of these conversations only: one page's worth)."""
    if not term or not sender_ids:
        return {}
    found: Dict[str, str] = {}
    needle = term.casefold()
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(events.c.sender_id, events.c.data)
            .where(events.c.sender_id.in_(list(sender_ids)), events.c.type_name == "user")
            .order_by(events.c.id)
        )
        for row in rows:
            if row.sender_id in found:
                continue
            try:
                data = json.loads(row.data or "{}")
            except ValueError:
                continue
            if not isinstance(data, dict) or visitor.origin(data) != visitor.TYPED:
                continue
            if needle in data["text"].casefold():
                found[row.sender_id] = snippet(data["text"], term)
    return found


@dataclass(frozen=True)
class NoteInfo:
    """Who last wrote a conversation's note, and when."""

    updated_by: str
    updated_at: float


def note_info(engine: Engine, sender_id: str) -> Optional[NoteInfo]:
    """The note's author and time, or None when the conversation has no note."""
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(notes.c.updated_by, notes.c.updated_at).where(notes.c.sender_id == sender_id)
        ).first()
    return NoteInfo(row.updated_by, row.updated_at) if row else None


def neighbours(
    engine: Engine, sender_id: str, flt: ConversationFilter, tz: ZoneInfo, low_confidence: float
) -> Tuple[Optional[str], Optional[str]]:
    """The conversations before and after this one in the filtered list (newer, older)."""
    c = conversations.c
    with engine.connect() as connection:
        here = connection.execute(sa.select(c.started_at).where(c.sender_id == sender_id)).scalar()
        if here is None:
            return None, None
        clauses = filter_clauses(flt, tz, low_confidence)
        newer = connection.execute(
            sa.select(c.sender_id)
            .where(*clauses, sa.or_(c.started_at > here, sa.and_(c.started_at == here, c.sender_id > sender_id)))
            .order_by(c.started_at.asc(), c.sender_id.asc())
            .limit(1)
        ).scalar()
        older = connection.execute(
            sa.select(c.sender_id)
            .where(*clauses, sa.or_(c.started_at < here, sa.and_(c.started_at == here, c.sender_id < sender_id)))
            .order_by(c.started_at.desc(), c.sender_id.desc())
            .limit(1)
        ).scalar()
    return newer, older


def known_intents(engine: Engine) -> List[str]:
    """Every intent some conversation used, for the intent filter's choices."""
    with engine.connect() as connection:
        return [
            r[0]
            for r in connection.execute(
                sa.select(conversation_intents.c.intent_name).distinct().order_by(conversation_intents.c.intent_name)
            )
        ]


@dataclass(frozen=True)
class DayStats:
    """One local day of the dashboard."""

    day: dt.date
    conversations: int = 0
    with_fallback: int = 0
    escalated: int = 0
    offered: int = 0
    clicked: int = 0


@dataclass(frozen=True)
class Dashboard:
    """The dashboard's numbers for a date range."""

    date_from: dt.date
    date_to: dt.date
    days: List[DayStats]
    topics: List[Tuple[str, int]]
    user_messages: int = 0
    fallback_messages: int = 0
    escalations: int = 0
    totals: DayStats = field(default_factory=lambda: DayStats(dt.date.min))

    @property
    def fallback_rate(self) -> float:
        """Share of conversations with at least one fallback."""
        conversations = self.totals.conversations
        return self.totals.with_fallback / conversations if conversations else 0.0

    @property
    def message_fallback_rate(self) -> float:
        """Share of visitor messages the assistant did not understand."""
        return self.fallback_messages / self.user_messages if self.user_messages else 0.0

    @property
    def offer_reach(self) -> float:
        """Share of conversations that were shown the closing offer."""
        return self.totals.offered / self.totals.conversations if self.totals.conversations else 0.0

    @property
    def click_through(self) -> float:
        """Share of conversations shown the offer whose visitor clicked the application link."""
        return self.totals.clicked / self.totals.offered if self.totals.offered else 0.0


def _top_topics(connection: Connection, start: float, end: float, top: int) -> List[Tuple[str, int]]:
    """Conversations per topic started in [start, end): whole hours from the hourly rollup,
    the partial hours at either end (half-hour time zones) from the per-conversation rows."""
    first_hour, last_hour = math.ceil(start / 3600), math.floor(end / 3600)
    counts: Counter = Counter()
    if first_hour < last_hour:
        r = rollup_topics.c
        for name, count in connection.execute(
            sa.select(r.intent_name, sa.func.sum(r.conversations))
            .where(r.hour >= first_hour, r.hour < last_hour)
            .group_by(r.intent_name)
        ):
            counts[name] += int(count or 0)
        edges = [(start, first_hour * 3600.0), (last_hour * 3600.0, end)]
    else:
        edges = [(start, end)]
    i = conversation_intents.c
    for edge_start, edge_end in edges:
        if edge_start >= edge_end:
            continue
        for name, count in connection.execute(
            sa.select(i.intent_name, sa.func.count())
            .where(i.started_at >= edge_start, i.started_at < edge_end, i.intent_name.like(TOPIC_PREFIX + "%"))
            .group_by(i.intent_name)
        ):
            counts[name] += int(count)
    ranked = sorted(((n, c) for n, c in counts.items() if c > 0), key=lambda x: (-x[1], x[0]))
    return ranked[:top]


def dashboard(engine: Engine, date_from: dt.date, date_to: dt.date, tz: ZoneInfo, top: int = 10) -> Dashboard:
    """Per-day counts, top topics and rates for the local days `date_from`..`date_to`."""
    start, end = day_bounds(date_from, tz)[0], day_bounds(date_to, tz)[1]
    b = rollup_buckets.c
    # Local midnights are whole 15-minute buckets in every time zone, so this is exact.
    per_bucket = sa.select(b.bucket, *[b[name] for name in ROLLUP_COUNTS]).where(
        b.bucket >= int(start // 900), b.bucket < int(end // 900), b.conversations > 0
    )
    with engine.connect() as connection:
        buckets = connection.execute(per_bucket).fetchall()
        topics = _top_topics(connection, start, end, top)
    dates = [date_from + dt.timedelta(days=n) for n in range((date_to - date_from).days + 1)]
    first_buckets = [int(day_bounds(day, tz)[0] // 900) for day in dates]
    per_day = [[0] * 5 for _ in dates]
    messages = fallback_messages = escalations = 0
    for bucket, *counts, users, fallbacks, esc in buckets:
        sums = per_day[bisect.bisect_right(first_buckets, bucket) - 1]
        for index, value in enumerate(counts):
            sums[index] += value
        messages += users
        fallback_messages += fallbacks
        escalations += esc
    days = [DayStats(day, *sums) for day, sums in zip(dates, per_day, strict=True)]
    totals = DayStats(
        date_to,
        **{
            key: sum(getattr(d, key) for d in days)
            for key in ("conversations", "with_fallback", "escalated", "offered", "clicked")
        },
    )
    return Dashboard(date_from, date_to, days, topics, messages, fallback_messages, escalations, totals)


@dataclass(frozen=True)
class TopicOutcome:
    """Conversations that asked one topic, how many saw the offer and how many applied."""

    intent: str
    conversations: int
    offered: int
    clicked: int

    @property
    def offer_rate(self) -> float:
        """Share of these conversations shown the closing offer."""
        return self.offered / self.conversations if self.conversations else 0.0

    @property
    def click_rate(self) -> float:
        """Share of these conversations whose visitor clicked the application link."""
        return self.clicked / self.conversations if self.conversations else 0.0


def topic_outcomes(engine: Engine, date_from: dt.date, date_to: dt.date, tz: ZoneInfo) -> List[TopicOutcome]:
    """Per topic asked in conversations started in the local days: offer shown, clicked.

    "Clicked" counts as the list's *offer shown + clicked* does, so each number is the size
    of the list it links to. Most applications first.
    """
    start, end = day_bounds(date_from, tz)[0], day_bounds(date_to, tz)[1]
    i, c = conversation_intents.c, conversations.c
    offered = sa.case((c.offer_shown == sa.true(), 1), else_=0)
    clicked = sa.case((sa.and_(c.offer_shown == sa.true(), c.link_clicked == sa.true()), 1), else_=0)
    query = (
        sa.select(i.intent_name, sa.func.count(), sa.func.sum(offered), sa.func.sum(clicked))
        .select_from(conversation_intents.join(conversations, c.sender_id == i.sender_id))
        .where(i.started_at >= start, i.started_at < end, i.intent_name.like(TOPIC_PREFIX + "%"))
        .group_by(i.intent_name)
    )
    with engine.connect() as connection:
        rows = [TopicOutcome(name, int(n), int(o or 0), int(k or 0)) for name, n, o, k in connection.execute(query)]
    return sorted(rows, key=lambda r: (-r.clicked, -r.conversations, r.intent))


FAILURE_WINDOW = 2000
FAILURE_REASONS = ("fallback", "low", "not_covered")


@dataclass(frozen=True)
class FailedMessage:
    """One visitor message the assistant failed on."""

    event_id: int
    sender_id: str
    at: float
    text: str
    intent: Optional[str]
    confidence: Optional[float]
    reasons: Tuple[str, ...]


@dataclass(frozen=True)
class FailureGroup:
    """Similar failing messages, newest first, and the conversations they came from."""

    messages: List[FailedMessage]

    @property
    def lead(self) -> FailedMessage:
        """The newest message of the group."""
        return self.messages[0]

    @property
    def reasons(self) -> Tuple[str, ...]:
        """Every reason any message of the group failed for, in a fixed order."""
        found = {r for m in self.messages for r in m.reasons}
        return tuple(r for r in FAILURE_REASONS if r in found)

    @property
    def intents(self) -> List[Tuple[str, int]]:
        """The intents the messages were given, most frequent first."""
        return Counter(m.intent or "—" for m in self.messages).most_common()

    @property
    def conversations(self) -> List[str]:
        """The conversations, newest first, each once."""
        return list(dict.fromkeys(m.sender_id for m in self.messages))


@dataclass(frozen=True)
class FailureReport:
    """The failing messages of a date range, grouped; `total` counts all, `read` the newest."""

    groups: List[FailureGroup]
    total: int
    read: int


def failing_messages(
    engine: Engine,
    date_from: dt.date,
    date_to: dt.date,
    tz: ZoneInfo,
    low_confidence: float,
    reason: str = "",
    window: int = FAILURE_WINDOW,
) -> FailureReport:
    """Messages that fell back, were not covered or below `low_confidence`, grouped by text.

    The newest `window` messages of the range are read and grouped (near-duplicates as the
    NLU inbox groups them); the biggest groups come first.
    """
    from practice.retrain.store import InboxMessage, group_near_duplicates

    start, end = day_bounds(date_from, tz)[0], day_bounds(date_to, tz)[1]
    f = failures.c
    low = sa.and_(f.confidence.is_not(None), f.confidence < low_confidence)
    which = {"fallback": f.fallback == sa.true(), "not_covered": f.not_covered == sa.true(), "low": low}
    condition = which.get(reason) if reason in which else sa.or_(*which.values())
    where = (f.at >= start, f.at < end, condition)
    with engine.connect() as connection:
        total = connection.execute(sa.select(sa.func.count()).select_from(failures).where(*where)).scalar_one()
        rows = connection.execute(
            sa.select(failures).where(*where).order_by(f.at.desc(), f.event_id.desc()).limit(window)
        ).fetchall()
    by_text: Dict[str, List[FailedMessage]] = {}
    for row in rows:
        reasons = tuple(
            name
            for name, on in (
                ("fallback", row.fallback),
                ("low", row.confidence is not None and row.confidence < low_confidence),
                ("not_covered", row.not_covered),
            )
            if on
        )
        by_text.setdefault(row.normalised, []).append(
            FailedMessage(row.event_id, row.sender_id, row.at, row.text, row.intent, row.confidence, reasons)
        )
    leads = [
        InboxMessage(key, found[0].text, key, None, None, len(found), None, None) for key, found in by_text.items()
    ]
    groups = []
    for group in group_near_duplicates(leads):
        members = [m for lead in group.members for m in by_text[lead.key]]
        members.sort(key=lambda m: (-m.at, -m.event_id))
        groups.append(FailureGroup(members))
    groups.sort(key=lambda g: (-len(g.messages), -g.lead.at))
    return FailureReport(groups, total, len(rows))


def messages_for(engine: Engine, sender_ids: Sequence[str]) -> Dict[str, List[TranscriptItem]]:
    """The visitor and assistant messages of several conversations, in order (for exports)."""
    found: Dict[str, List[TranscriptItem]] = {s: [] for s in sender_ids}
    if not sender_ids:
        return found
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                events.c.id,
                events.c.sender_id,
                events.c.type_name,
                events.c.timestamp,
                events.c.intent_name,
                events.c.action_name,
                events.c.data,
            )
            .where(events.c.sender_id.in_(sender_ids), events.c.type_name.in_(("user", "bot")))
            .order_by(events.c.id)
        )
        for row in rows:
            found[row.sender_id].append(_transcript_item(row))
    # Triggers (the widget's greeting) are no one's message.
    return {sender: [m for m in _label_clicks(items) if m.kind != "trigger"] for sender, items in found.items()}
