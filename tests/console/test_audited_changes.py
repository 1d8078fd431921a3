"""A coach's change and its audit entry are kept together or not at all (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Tuple

import pytest
import sqlalchemy as sa

from practice.console import audit, review
from practice.console.db import audit as audit_table
from practice.console.db import conversation_tags
from tests.console.conftest import Seeder


def test_a_change_and_its_audit_entry_are_written_together(empty: Tuple[str, Seeder, sa.engine.Engine]) -> None:
    _, _, engine = empty
    name = audit.audited(
        engine,
        "coach",
        "tagged",
        "visitor-1",
        lambda connection: review.add_tag(connection, "visitor-1", "  Follow Up ", "coach"),
        lambda stored: stored,
    )
    assert name == "follow up"
    with engine.connect() as connection:
        entry = connection.execute(sa.select(audit_table.c.action, audit_table.c.detail)).one()
        tagged = connection.execute(sa.select(sa.func.count()).select_from(conversation_tags)).scalar()
    assert (tuple(entry), tagged) == (("tagged", "follow up"), 1)


def test_when_the_audit_entry_fails_the_change_is_undone(empty: Tuple[str, Seeder, sa.engine.Engine]) -> None:
    _, _, engine = empty

    def failing_detail(_stored: str) -> str:
        raise RuntimeError("the audit entry could not be written")

    with pytest.raises(RuntimeError):
        audit.audited(
            engine,
            "coach",
            "tagged",
            "visitor-1",
            lambda connection: review.add_tag(connection, "visitor-1", "urgent", "coach"),
            failing_detail,
        )
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(conversation_tags)).scalar() == 0
        assert connection.execute(sa.select(sa.func.count()).select_from(audit_table)).scalar() == 0
