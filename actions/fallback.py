"""Low-confidence fallback: ask to rephrase once, then hand over to the practice."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

FALLBACK_INTENT = "nlu_fallback"


def consecutive_misses(events: List[Dict[Text, Any]]) -> int:
    """How many of the visitor's latest messages in a row were not understood."""
    misses = 0
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        intent = (event.get("parse_data") or {}).get("intent") or {}
        if intent.get("name") != FALLBACK_INTENT:
            break
        misses += 1
    return misses


class ActionTwoStrikeFallback(Action):
    """First miss: ask to rephrase with topic buttons. Second miss in a row: the application."""

    def name(self) -> Text:
        """The action's name in domain.yml."""
        return "action_two_strike_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """Utter the response for this many misses in a row; no events change."""
        if consecutive_misses(tracker.events) >= 2:
            dispatcher.utter_message(response="utter_fallback_to_application")
        else:
            dispatcher.utter_message(response="utter_please_rephrase")
        return []
