"""Visitors' verdicts on answers in the console: transcript, list filter, staff inbox."""

from __future__ import annotations

from typing import Tuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from rasa.shared.core.events import SlotSet

from practice.console import queries, summary
from practice.console.queries import ConversationFilter
from practice.retrain import store

from .conftest import Scenario, Seeder, midnight_utc, rasa_events

Empty = Tuple[str, Seeder, sa.engine.Engine]
UTC = ZoneInfo("UTC")


def rated(sender: str, start: float, helpful: bool) -> list:
    """A conversation with one answer and the visitor's verdict on it."""
    events = rasa_events(Scenario(sender, start, [("is gluten bad for me", "ask_gluten", 0.62)]))
    answer = next(e for e in events if getattr(e, "metadata", {}).get("utter_action"))
    answer.metadata.update(
        kind="answer",
        source={"section": "So what can you do?", "url": "http://x.example/#so-what-can-you-do"},
    )
    verdict = {"utter_action": "utter_ask_gluten", "helpful": helpful, "timestamp": answer.timestamp}
    return [*events, SlotSet("answer_feedback", verdict, timestamp=start + 60)]


def test_feedback_is_shown_filtered_and_surfaced_in_the_inbox(empty: Empty) -> None:
    _, seeder, engine = empty
    start = midnight_utc(1) + 3600
    seeder.save("not-helpful", rated("not-helpful", start, helpful=False))
    seeder.save("helpful", rated("helpful", start + 600, helpful=True))
    seeder.save("unrated", rasa_events(Scenario("unrated", start + 900, [("hi", "greet", 0.9)])))
    summary.refresh(engine)

    def listed(feedback: str) -> set:
        flt = ConversationFilter.from_query({"feedback": feedback})
        return {r.sender_id for r in queries.list_conversations(engine, flt, UTC, 0.5).rows}

    assert listed("unhelpful") == {"not-helpful"}
    assert listed("helpful") == {"helpful"}
    assert listed("") == listed("nonsense") == {"not-helpful", "helpful", "unrated"}
    assert ConversationFilter.from_query({"feedback": "unhelpful"}).to_query() == {"feedback": "unhelpful"}

    transcript = queries.transcript(engine, "not-helpful")
    assert transcript is not None
    [feedback] = [item for item in transcript.items if item.kind == "feedback"]
    assert (feedback.name, feedback.helpful) == ("utter_ask_gluten", False)
    [answer] = [i for i in transcript.items if i.kind == "bot" and i.name == "utter_ask_gluten"]
    assert answer.section == "So what can you do?"

    # A rating shows at once, read from the events the inbox has not collected yet ...
    [fresh] = store.unhelpful_answers(engine)
    # ... and once the inbox's pass over `events` (the inbox page runs it) collected it.
    assert store.sync_inbox(engine).done
    [unhelpful] = store.unhelpful_answers(engine)
    assert unhelpful == fresh
    assert unhelpful.sender_id == "not-helpful"
    assert unhelpful.utter_action == "utter_ask_gluten"
    assert unhelpful.visitor_text == "is gluten bad for me"
    assert (unhelpful.intent, round(unhelpful.confidence or 0, 2)) == ("ask_gluten", 0.62)
