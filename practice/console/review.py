"""What coaches add to a conversation: the reviewed mark, tags and one note."""

from __future__ import annotations

import time
from typing import List

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from practice.console.db import conversation_tags, notes, reviews, tags
from practice.store.database import Bind, transaction

MAX_TAG_CHARS = 40
MAX_NOTE_CHARS = 5000


class ReviewError(ValueError):
    """A tag or note that cannot be stored."""


def set_reviewed(bind: Bind, sender_id: str, username: str, reviewed: bool) -> None:
    """Mark a conversation reviewed by `username`, or clear the mark."""
    with transaction(bind) as connection:
        connection.execute(reviews.delete().where(reviews.c.sender_id == sender_id))
        if reviewed:
            connection.execute(
                reviews.insert().values(sender_id=sender_id, reviewed_by=username, reviewed_at=time.time())
            )


def normalise_tag(name: str) -> str:
    """Tags are case-insensitive, trimmed, single-spaced and short."""
    tag = " ".join(name.split()).lower()
    if not tag or len(tag) > MAX_TAG_CHARS:
        raise ReviewError(f"a tag has 1-{MAX_TAG_CHARS} characters")
    return tag


def add_tag(bind: Bind, sender_id: str, name: str, username: str) -> str:
    """Put a tag on a conversation (creating the tag on first use); return its name."""
    tag = normalise_tag(name)
    now = time.time()
    with transaction(bind) as connection:
        tag_id = connection.execute(sa.select(tags.c.id).where(tags.c.name == tag)).scalar()
        if tag_id is None:
            tag_id = connection.execute(
                tags.insert().values(name=tag, created_by=username, created_at=now)
            ).inserted_primary_key[0]
        present = connection.execute(
            sa.select(conversation_tags.c.tag_id).where(
                conversation_tags.c.sender_id == sender_id, conversation_tags.c.tag_id == tag_id
            )
        ).first()
        if not present:
            connection.execute(
                conversation_tags.insert().values(sender_id=sender_id, tag_id=tag_id, added_by=username, added_at=now)
            )
    return tag


def _drop_unused(connection: sa.engine.Connection) -> None:
    """Tags no conversation carries any more leave the suggestions and the filter."""
    used = sa.select(conversation_tags.c.tag_id)
    connection.execute(tags.delete().where(tags.c.id.not_in(used)))


def remove_tag(bind: Bind, sender_id: str, name: str) -> None:
    """Take a tag off a conversation; a tag no conversation carries any more is deleted."""
    tag = " ".join(name.split()).lower()
    with transaction(bind) as connection:
        ids = sa.select(tags.c.id).where(tags.c.name == tag)
        connection.execute(
            conversation_tags.delete().where(
                conversation_tags.c.sender_id == sender_id, conversation_tags.c.tag_id.in_(ids)
            )
        )
        _drop_unused(connection)


def delete_tag(bind: Bind, name: str) -> int:
    """Delete a tag from every conversation and from the suggestions; how many it was on."""
    tag = " ".join(name.split()).lower()
    with transaction(bind) as connection:
        ids = sa.select(tags.c.id).where(tags.c.name == tag)
        removed = connection.execute(conversation_tags.delete().where(conversation_tags.c.tag_id.in_(ids))).rowcount
        connection.execute(tags.delete().where(tags.c.name == tag))
        _drop_unused(connection)
    return int(removed or 0)


def all_tags(engine: Engine) -> List[str]:
    """Every tag some conversation carries, for suggestions and the tag filter."""
    used = sa.select(conversation_tags.c.tag_id)
    with engine.connect() as connection:
        return [
            r[0] for r in connection.execute(sa.select(tags.c.name).where(tags.c.id.in_(used)).order_by(tags.c.name))
        ]


def set_note(bind: Bind, sender_id: str, text: str, username: str) -> None:
    """Replace the conversation's note; an empty text deletes it."""
    text = text.strip().replace("\r\n", "\n")
    if len(text) > MAX_NOTE_CHARS:
        raise ReviewError(f"a note has at most {MAX_NOTE_CHARS} characters")
    with transaction(bind) as connection:
        connection.execute(notes.delete().where(notes.c.sender_id == sender_id))
        if text:
            connection.execute(
                notes.insert().values(sender_id=sender_id, text=text, updated_by=username, updated_at=time.time())
            )
