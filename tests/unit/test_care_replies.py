"""Care-mode replies fit what the visitor reported (practice/nlg.py with domain.yml).

After a red flag the visitor is sent to a doctor (and the emergency number), after talk of
disordered eating to the eating disorder line, after a crisis to the crisis line; a crisis
wins when several were reported.
"""

from __future__ import annotations

import asyncio
from typing import List, Optional

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from practice.nlg import PracticeNaturalLanguageGenerator, care_kind
from practice.settings import PROJECT_ROOT, get_settings


def tracker_with(kinds_per_message: List[List[str]]) -> DialogueStateTracker:
    """A conversation whose visitor messages carried these safety kinds."""
    tracker = DialogueStateTracker("visitor", slots=[])
    for kinds in kinds_per_message:
        parse = {
            "intent": {"name": "greet", "confidence": 1.0},
            "text": "...",
            "language": "en",
            "safety": [{"kind": kind} for kind in kinds],
        }
        tracker.update(UserUttered("...", parse_data=parse))
    return tracker


@pytest.mark.parametrize(
    "kinds, expected",
    [
        ([[]], None),
        ([["red_flag"]], "red_flag"),
        ([["eating_disorder"], []], "eating_disorder"),
        ([["red_flag"], ["crisis"]], "crisis"),
        ([["eating_disorder", "red_flag"]], "red_flag"),
    ],
)
def test_the_most_urgent_kind_of_the_conversation(kinds: List[List[str]], expected: Optional[str]) -> None:
    assert care_kind(tracker_with(kinds)) == expected


@pytest.fixture(scope="module")
def nlg() -> PracticeNaturalLanguageGenerator:
    """The generator over the project's domain."""
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    return PracticeNaturalLanguageGenerator(None, domain)


def said(nlg: PracticeNaturalLanguageGenerator, action: str, kinds: List[List[str]]) -> str:
    response = asyncio.run(nlg.generate(action, tracker_with(kinds), "rest"))
    assert response is not None
    return response["text"]


@pytest.mark.parametrize("action", ["utter_request_coach_care", "utter_closing_care"])
def test_each_kind_gets_its_own_care_reply(nlg: PracticeNaturalLanguageGenerator, action: str) -> None:
    settings = get_settings()
    red_flag = said(nlg, action, [["red_flag"]])
    assert "doctor" in red_flag and settings.emergency_number in red_flag
    assert settings.crisis_line not in red_flag
    eating = said(nlg, action, [["eating_disorder"]])
    assert settings.eating_disorder_line in eating and settings.crisis_line not in eating
    crisis = said(nlg, action, [["red_flag"], ["crisis"]])
    assert settings.crisis_line in crisis
