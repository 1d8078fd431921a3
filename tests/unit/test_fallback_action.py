"""The two-strike fallback action, on trackers built from real event shapes."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionTwoStrikeFallback, consecutive_misses


def user(intent: str, text: str = "text") -> Dict[str, Any]:
    """A user event as Rasa sends it to the action server."""
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": 0.2}}}


def bot(text: str = "reply") -> Dict[str, Any]:
    """A bot event."""
    return {"event": "bot", "text": text}


def action(name: str) -> Dict[str, Any]:
    """An action event."""
    return {"event": "action", "name": name}


def tracker_with(events: List[Dict[str, Any]]) -> Tracker:
    """A tracker whose history is `events`."""
    latest = next((e for e in reversed(events) if e["event"] == "user"), {})
    return Tracker("visitor", {}, latest.get("parse_data", {}), events, False, None, {}, "action_listen")


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([], 0),
        ([user("greet")], 0),
        ([user("nlu_fallback")], 1),
        ([user("nlu_fallback"), action("action_two_strike_fallback"), bot(), user("nlu_fallback")], 2),
        ([user("nlu_fallback"), bot(), user("ask_symptoms"), bot(), user("nlu_fallback")], 1),
        ([user("nlu_fallback"), user("nlu_fallback"), user("nlu_fallback")], 3),
    ],
)
def test_consecutive_misses(events: List[Dict[str, Any]], expected: int) -> None:
    assert consecutive_misses(events) == expected


@pytest.mark.parametrize(
    ("events", "response"),
    [
        ([user("greet"), bot(), user("nlu_fallback")], "utter_please_rephrase"),
        ([user("nlu_fallback"), bot(), user("nlu_fallback")], "utter_fallback_to_application"),
        ([user("nlu_fallback"), bot(), user("ask_gluten"), bot(), user("nlu_fallback")], "utter_please_rephrase"),
    ],
)
async def test_fallback_utters_by_misses(events: List[Dict[str, Any]], response: str) -> None:
    dispatcher = CollectingDispatcher()
    result = await ActionTwoStrikeFallback().run(dispatcher, tracker_with(events), {})
    assert result == []
    assert [m["response"] for m in dispatcher.messages] == [response]
