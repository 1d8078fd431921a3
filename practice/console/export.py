"""CSV and JSON renderings of a filtered set of conversations, produced chunk by chunk."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Sequence
from zoneinfo import ZoneInfo

from practice.console.queries import ConversationRow, TranscriptItem

CSV_COLUMNS = (
    "conversation_id",
    "started_at",
    "messages",
    "visitor_messages",
    "topics",
    "first_visitor_message",
    "offer_shown",
    "application_clicked",
    "fallbacks",
    "escalations",
    "lowest_confidence",
    "reviewed_by",
    "tags",
    "note",
)
# A spreadsheet would run a cell starting with these as a formula: visitor text must not.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def local_time(timestamp: float, tz: ZoneInfo) -> str:
    """ISO 8601 local time with its offset, to the second."""
    return dt.datetime.fromtimestamp(timestamp, tz).isoformat(timespec="seconds")


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _record(row: ConversationRow, tz: ZoneInfo) -> Dict[str, Any]:
    return {
        "conversation_id": row.sender_id,
        "started_at": local_time(row.started_at, tz),
        "messages": row.messages,
        "visitor_messages": row.user_messages,
        "topics": list(row.topics),
        "first_visitor_message": row.first_message,
        "offer_shown": row.offer_shown,
        "application_clicked": row.link_clicked,
        "fallbacks": row.fallbacks,
        "escalations": row.escalations,
        "lowest_confidence": row.min_confidence,
        "reviewed_by": row.reviewed_by,
        "tags": list(row.tags),
        "note": row.note,
    }


def csv_chunks(chunks: Iterable[List[ConversationRow]], tz: ZoneInfo) -> Iterator[str]:
    """The header, then one CSV block per chunk of conversations."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    for chunk in chunks:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in chunk:
            record = _record(row, tz)
            record["topics"] = " ".join(record["topics"])
            record["tags"] = "; ".join(record["tags"])
            record["lowest_confidence"] = "" if row.min_confidence is None else f"{row.min_confidence:.3f}"
            writer.writerow([_cell(record[column]) for column in CSV_COLUMNS])
        yield buffer.getvalue()


def _message(item: TranscriptItem, tz: ZoneInfo) -> Dict[str, Any]:
    visitor = item.kind in ("user", "click")
    message: Dict[str, Any] = {
        "at": local_time(item.at, tz),
        "from": "visitor" if visitor else "assistant",
        "text": item.text,
    }
    if item.kind == "click":
        # A button the visitor clicked: its payload, and the button's title when known.
        message.update(clicked=item.label or True)
    if visitor:
        message.update(intent=item.intent, confidence=item.confidence)
    return message


MessagesFor = Callable[[Sequence[str]], Mapping[str, List[TranscriptItem]]]


def json_chunks(chunks: Iterable[List[ConversationRow]], tz: ZoneInfo, messages_for: MessagesFor) -> Iterator[str]:
    """A JSON array of conversations, each with its messages, one block per chunk."""
    yield "[\n"
    first = True
    for chunk in chunks:
        found = messages_for([r.sender_id for r in chunk])
        parts = []
        for row in chunk:
            record = _record(row, tz)
            record["messages"] = [_message(m, tz) for m in found.get(row.sender_id, [])]
            parts.append(json.dumps(record, ensure_ascii=False))
        if parts:
            yield ("" if first else ",\n") + ",\n".join(parts)
            first = False
    yield "\n]\n"
