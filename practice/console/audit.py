"""The audit log: who signed in, viewed, changed or exported which conversations."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable, List, Optional, TypeVar, Union

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from practice.console.db import audit, audit_conversations

PAGE_SIZE = 100
T = TypeVar("T")


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log."""

    id: int
    at: float
    username: str
    action: str
    sender_id: Optional[str]
    detail: str
    conversations: int


def record(engine: Engine, username: str, action: str, sender_id: Optional[str] = None, detail: str = "") -> int:
    """Write one entry; return its id."""
    with engine.begin() as connection:
        return _insert(connection, username, action, sender_id, detail, 1 if sender_id else 0)


def audited(
    engine: Engine,
    username: str,
    action: str,
    sender_id: Optional[str],
    change: Callable[[Connection], T],
    detail: Union[str, Callable[[T], str]] = "",
    changed: Optional[Callable[[T], bool]] = None,
) -> T:
    """Make `change` and write its audit entry in one transaction: both are kept, or neither.

    `detail` may be worked out from what the change returned (a tag's stored name, how many
    conversations a deleted tag was on); when `changed` says the change did nothing (no
    message left to annotate), no entry is written.
    """
    with engine.begin() as connection:
        result = change(connection)
        if changed is not None and not changed(result):
            return result
        text = detail(result) if callable(detail) else detail
        _insert(connection, username, action, sender_id, text, 1 if sender_id else 0)
        return result


def _insert(
    connection: Connection, username: str, action: str, sender_id: Optional[str], detail: str, count: int
) -> int:
    return connection.execute(
        audit.insert().values(
            at=time.time(),
            username=username,
            action=action,
            sender_id=sender_id,
            detail=detail[:2000],
            conversations=count,
        )
    ).inserted_primary_key[0]


def record_export(engine: Engine, username: str, action: str, detail: str, sender_ids: Iterable[str]) -> int:
    """Write one export entry and the list of conversations it contained."""
    ids = list(dict.fromkeys(sender_ids))
    with engine.begin() as connection:
        entry = _insert(connection, username, action, None, detail, len(ids))
        for start in range(0, len(ids), 5000):
            connection.execute(
                audit_conversations.insert(),
                [{"audit_id": entry, "sender_id": s} for s in ids[start : start + 5000]],
            )
    return entry


def entries(
    engine: Engine, username: str = "", sender_id: str = "", page: int = 1, page_size: int = PAGE_SIZE
) -> List[AuditEntry]:
    """Newest entries first, optionally for one user or one conversation (exports included)."""
    query = sa.select(audit).order_by(audit.c.id.desc())
    if username:
        query = query.where(audit.c.username == username.strip().lower())
    if sender_id:
        in_export = sa.select(audit_conversations.c.audit_id).where(audit_conversations.c.sender_id == sender_id)
        query = query.where(sa.or_(audit.c.sender_id == sender_id, audit.c.id.in_(in_export)))
    query = query.limit(page_size).offset((max(1, page) - 1) * page_size)
    with engine.connect() as connection:
        return [
            AuditEntry(r.id, r.at, r.username, r.action, r.sender_id, r.detail, r.conversations)
            for r in connection.execute(query)
        ]


def exported_conversations(engine: Engine, audit_id: int) -> List[str]:
    """The conversations one export contained."""
    with engine.connect() as connection:
        return [
            r[0]
            for r in connection.execute(
                sa.select(audit_conversations.c.sender_id)
                .where(audit_conversations.c.audit_id == audit_id)
                .order_by(audit_conversations.c.sender_id)
            )
        ]
