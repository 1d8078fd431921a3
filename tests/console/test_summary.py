"""The per-conversation summary follows the events table incrementally, on both databases."""

from __future__ import annotations

import json
import time
from typing import Tuple
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from practice.console import db, queries, summary
from practice.console.queries import ConversationFilter

from .conftest import Scenario, Seeder, midnight_utc, rasa_events

Empty = Tuple[str, Seeder, sa.engine.Engine]
UTC = ZoneInfo("UTC")


def summary_row(engine: sa.engine.Engine, sender_id: str) -> dict:
    """The raw summary columns of one conversation."""
    with engine.connect() as connection:
        found = connection.execute(sa.select(db.conversations).where(db.conversations.c.sender_id == sender_id)).first()
    assert found is not None
    return dict(found._mapping)


def test_new_turns_update_the_row_once(empty: Empty) -> None:
    _, seeder, engine = empty
    start = midnight_utc(1) + 3600
    seeder.save("a", rasa_events(Scenario("a", start, [("hello", "greet", 0.9)])))
    first = summary.refresh(engine)
    assert (first.events_applied, first.behind) == (7, 0)
    assert summary_row(engine, "a")["user_messages"] == 1

    # The next turn arrives; Rasa appends only the new events to the same sender.
    more = rasa_events(
        Scenario(
            "a",
            start + 100,
            [("do probiotics help", "ask_probiotics", 0.4)],
            offer="utter_offer_coaching",
            clicked=True,
        )
    )[3:]
    seeder.save("a", more)
    assert summary.refresh(engine).events_applied == len(more)
    assert summary.refresh(engine).events_applied == 0  # nothing new: nothing counted twice
    row = summary_row(engine, "a")
    assert (row["user_messages"], row["bot_messages"], row["topics"]) == (2, 3, "ask_probiotics")
    assert (row["offer_shown"], row["link_clicked"]) == (True, True)
    assert row["min_confidence"] == pytest.approx(0.4)
    assert row["first_message"] == "hello"
    assert row["started_at"] == pytest.approx(start)
    page = queries.list_conversations(engine, ConversationFilter(search="PROBIOTICS"), UTC, 0.5)
    assert [r.sender_id for r in page.rows] == ["a"]


def test_refresh_in_small_batches_equals_one_pass(empty: Empty) -> None:
    _, seeder, engine = empty
    for number in range(5):
        sender = f"s{number}"
        seeder.save(
            sender,
            rasa_events(
                Scenario(
                    sender,
                    midnight_utc(2) + number * 60,
                    [
                        ("what is leaky gut", "ask_what_is_leaky_gut", 0.8),
                        ("gibberish", "nlu_fallback", 0.1),
                    ],
                )
            ),
        )
    while summary.refresh_once(engine, batch=3).behind:
        pass
    with engine.connect() as connection:
        rows = connection.execute(sa.select(db.conversations.c.user_messages, db.conversations.c.fallbacks)).fetchall()
    assert sorted(rows) == [(2, 1)] * 5


def _insert_event(engine: sa.engine.Engine, event_id: int, sender_id: str, text: str) -> None:
    data = {
        "event": "user",
        "timestamp": time.time(),
        "text": text,
        "parse_data": {"intent": {"name": "ask_gluten", "confidence": 0.7}},
    }
    with engine.begin() as connection:
        connection.execute(
            db.events.insert().values(
                id=event_id,
                sender_id=sender_id,
                type_name="user",
                timestamp=data["timestamp"],
                intent_name="ask_gluten",
                action_name=None,
                data=json.dumps(data),
            )
        )


def test_an_event_committed_late_with_a_lower_id_is_still_counted(empty: Empty) -> None:
    """Two Rasa processes may commit out of id order: the skipped id is read once it shows."""
    _, _, engine = empty
    _insert_event(engine, 1, "x", "first")
    _insert_event(engine, 3, "y", "third")  # id 2 still "in flight"
    summary.refresh(engine)
    _insert_event(engine, 2, "z", "second, committed late")
    summary.refresh(engine)
    summary.refresh(engine)  # re-reading the gap must not count it twice
    assert summary_row(engine, "z")["user_messages"] == 1
    assert summary_row(engine, "y")["user_messages"] == 1


def test_gaps_are_forgotten_after_a_while(empty: Empty) -> None:
    _, _, engine = empty
    _insert_event(engine, 5, "x", "after a hole")
    summary.refresh_once(engine, now=1000.0)
    with engine.connect() as connection:
        assert connection.execute(sa.select(db.summary_gaps.c.first_id)).scalars().all() == [1]
    summary.refresh_once(engine, now=1000.0 + summary.GAP_SECONDS + 1)
    with engine.connect() as connection:
        assert connection.execute(sa.select(db.summary_gaps)).fetchall() == []


def test_rebuild_gives_the_same_rows(empty: Empty) -> None:
    _, seeder, engine = empty
    seeder.save("r", rasa_events(Scenario("r", midnight_utc(3), [("hi", "greet", 0.9)], offer="utter_closing")))
    summary.refresh(engine)
    before = summary_row(engine, "r")
    summary.rebuild(engine)
    assert summary_row(engine, "r") == before


def test_empty_sessions_are_summarised_but_not_listed(empty: Empty) -> None:
    _, seeder, engine = empty
    seeder.save("quiet", rasa_events(Scenario("quiet", midnight_utc(1), [])))
    summary.refresh(engine)
    assert summary_row(engine, "quiet")["user_messages"] == 0
    page = queries.list_conversations(engine, ConversationFilter(), UTC, 0.5)
    assert page.total == 0


def test_console_schema_is_idempotent_and_restores_missing_indexes(empty: Empty) -> None:
    _, _, engine = empty
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP INDEX ix_console_intents_intent")
    db.ensure_schema(engine)
    db.ensure_schema(engine)
    names = set(sa.inspect(engine).get_table_names())
    assert {"events", "console_conversations", "console_accounts", "console_audit"} <= names
    indexes = {i["name"] for i in sa.inspect(engine).get_indexes("console_conversation_intents")}
    assert {"ix_console_intents_intent", "ix_console_intents_started"} <= indexes


def _rollups(engine: sa.engine.Engine) -> tuple:
    with engine.connect() as connection:
        buckets = connection.execute(
            sa.select(db.rollup_buckets)
            .where(db.rollup_buckets.c.conversations > 0)
            .order_by(db.rollup_buckets.c.bucket)
        ).fetchall()
        topics = connection.execute(
            sa.select(db.rollup_topics)
            .where(db.rollup_topics.c.conversations > 0)
            .order_by(db.rollup_topics.c.hour, db.rollup_topics.c.intent_name)
        ).fetchall()
    return [tuple(r) for r in buckets], [tuple(r) for r in topics]


def test_rollups_follow_changes_exactly_as_a_rebuild_counts_them(empty: Empty) -> None:
    _, seeder, engine = empty
    start = midnight_utc(2) + 7200
    seeder.save("g", rasa_events(Scenario("g", start, [])))  # opened, nothing typed yet
    seeder.save("h", rasa_events(Scenario("h", start + 60, [("hi", "greet", 0.9)])))
    summary.refresh(engine)
    # g's visitor starts typing; h falls back, sees the offer and clicks: shares move.
    seeder.save("g", rasa_events(Scenario("g", start + 600, [("is gluten bad", "ask_gluten", 0.9)]))[3:])
    seeder.save(
        "h",
        rasa_events(
            Scenario(
                "h",
                start + 900,
                [("qwerty", "nlu_fallback", 0.1), ("gluten?", "ask_gluten", 0.7)],
                offer="utter_offer_coaching",
                clicked=True,
            )
        )[3:],
    )
    summary.refresh(engine)
    incremental = _rollups(engine)
    summary.rebuild(engine)
    assert _rollups(engine) == incremental
    buckets, topics = incremental
    assert [b[1:] for b in buckets] == [(2, 1, 0, 1, 1, 4, 1, 0)]
    assert [t[1:] for t in topics] == [("ask_gluten", 2)]


def test_the_apply_answer_counts_as_the_offer_shown(empty: Empty) -> None:
    # "How do I apply?" is answered with the link button itself: the visitor saw the offer.
    _, seeder, engine = empty
    seeder.save(
        "apply",
        rasa_events(
            Scenario("apply", midnight_utc(1) + 60, [("how do I apply", "ask_apply", 0.95)], offer="utter_ask_apply")
        ),
    )
    summary.refresh(engine)
    assert summary_row(engine, "apply")["offer_shown"] is True


def test_every_response_with_the_application_link_is_an_offer() -> None:
    assert {"utter_offer_coaching", "utter_closing", "utter_ask_apply"} <= summary.OFFER_ACTIONS
    assert not summary.OFFER_ACTIONS & {"utter_ask_causes", "utter_report_red_flag_symptoms"}
