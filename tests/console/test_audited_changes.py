"""A coach's change and its audit entry are kept together or not at all (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Tuple

import pytest
import sqlalchemy as sa

from practice.console import audit, auth, review
from practice.console.db import audit as audit_table
from practice.console.db import conversation_tags
from practice.retrain import store
from tests.console.conftest import Scenario, Seeder, midnight_utc, rasa_events


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


def _fail(_result: object) -> str:
    raise RuntimeError("the audit entry could not be written")


def test_an_account_change_and_its_audit_entry_are_kept_together(empty: Tuple[str, Seeder, sa.engine.Engine]) -> None:
    _, _, engine = empty
    created = audit.audited(
        engine,
        "staff-1",
        "account_created",
        None,
        lambda connection: auth.create_account(connection, "Coach-2", "a long enough password", "coach"),
        lambda account: f"{account.username} ({account.role})",
    )
    assert (created.username, created.role) == ("coach-2", "coach")
    with pytest.raises(RuntimeError):
        audit.audited(
            engine,
            "staff-1",
            "account_set-role",
            None,
            lambda connection: auth.update_account(connection, "coach-2", role="staff"),
            _fail,
        )
    with pytest.raises(RuntimeError):
        audit.audited(
            engine,
            "staff-1",
            "account_created",
            None,
            lambda connection: auth.create_account(connection, "coach-3", "a long enough password", "coach"),
            _fail,
        )
    assert auth.get_account(engine, "coach-2").role == "coach"  # the role change was undone
    assert auth.get_account(engine, "coach-3") is None  # and so was the second account
    assert [(e.action, e.detail) for e in audit.entries(engine)] == [("account_created", "coach-2 (coach)")]


def test_an_annotation_and_its_audit_entry_are_kept_together(empty: Tuple[str, Seeder, sa.engine.Engine]) -> None:
    _, seeder, engine = empty
    seeder.save("visitor-1", rasa_events(Scenario("visitor-1", midnight_utc(1) + 60, [("is kefir ok", "greet", 0.3)])))
    assert store.sync_inbox(engine).done
    [message] = store.inbox_page(engine, set()).groups[0].members
    intents = {"greet", "ask_probiotics"}

    def annotate(connection: sa.engine.Connection) -> int:
        return store.annotate(connection, [message.key], "relabel", "staff-1", intents, "ask_probiotics")

    with pytest.raises(RuntimeError):
        audit.audited(engine, "staff-1", "nlu_annotate", None, annotate, _fail)
    assert store.pending_annotations(engine) == []
    assert audit.audited(engine, "staff-1", "nlu_annotate", None, annotate, "relabelled", changed=bool) == 1
    assert [a.intent for a in store.pending_annotations(engine)] == ["ask_probiotics"]

    def nothing(connection: sa.engine.Connection) -> int:
        return store.annotate(connection, ["no-such-key"], "discard", "staff-1", intents)

    assert audit.audited(engine, "staff-1", "nlu_annotate", None, nothing, "discarded", changed=bool) == 0
    assert [e.detail for e in audit.entries(engine)] == ["relabelled"]  # nothing done, nothing logged
