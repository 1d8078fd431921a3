"""The classifier's own guess each parse keeps (`classifier_intent`): always `{name, confidence}`,
what the pipeline would have served without the safety readers (patterns, frames, safety
model); the retraining gate reads it instead of running the pipeline a second time."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from practice.nlu.question_parts import QuestionMerger
from practice.nlu.safety_guard import (
    CLASSIFIER_INTENT_KEY,
    SAFETY_KEY,
    SENTENCE_OF_KEY,
    SafetySignal,
    keep_classifier_intent,
    record_signals,
)

RED_FLAG = "report_red_flag_symptoms"
PATTERN = SafetySignal("red_flag", RED_FLAG, "blood", "blood in the bowl")


def _message(intent: str, confidence: float, ranking: Optional[List[Dict[str, Any]]] = None) -> Message:
    message = Message({TEXT: "a visitor's message"})
    message.set(INTENT, {"name": intent, "confidence": confidence})
    message.set(INTENT_RANKING_KEY, ranking or [{"name": intent, "confidence": confidence}])
    return message


def _sentence(intent: str, confidence: float, text: str) -> Message:
    sentence = Message({TEXT: text, SENTENCE_OF_KEY: 0})
    sentence.set(INTENT, {"name": intent, "confidence": confidence})
    sentence.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": confidence}])
    return sentence


def test_the_first_replacement_keeps_the_guess_and_later_ones_keep_it() -> None:
    message = _message("ask_apply", 0.8)
    keep_classifier_intent(message)
    message.set(INTENT, {"name": "out_of_scope", "confidence": 0.9})
    keep_classifier_intent(message)
    assert message.get(CLASSIFIER_INTENT_KEY) == {"name": "ask_apply", "confidence": 0.8}


def test_a_safety_signal_keeps_the_classifiers_guess_as_name_and_confidence() -> None:
    message = _message("ask_apply", 0.8)
    record_signals(message, [PATTERN])
    [merged] = QuestionMerger().process([message])
    assert merged.get(INTENT) == {"name": RED_FLAG, "confidence": 1.0}
    assert merged.get(CLASSIFIER_INTENT_KEY) == {"name": "ask_apply", "confidence": 0.8}


@pytest.mark.parametrize(
    "ranking, own",
    [
        # Without the pattern, an unsure safety guess gives way to the next guess ...
        (
            [{"name": RED_FLAG, "confidence": 0.6}, {"name": "ask_foods_to_eat", "confidence": 0.4}],
            {"name": "ask_foods_to_eat", "confidence": 0.4},
        ),
        # ... or to the fallback when that is unsure too.
        (
            [{"name": RED_FLAG, "confidence": 0.6}, {"name": "ask_foods_to_eat", "confidence": 0.2}],
            {"name": "nlu_fallback", "confidence": 0.6},
        ),
    ],
)
def test_an_unsure_safety_guess_counts_as_the_classifier_would_be_served(
    ranking: List[Dict[str, Any]], own: Dict[str, Any]
) -> None:
    message = _message(RED_FLAG, 0.6, ranking)
    record_signals(message, [PATTERN])
    [merged] = QuestionMerger().process([message])
    assert merged.get(INTENT) == {"name": RED_FLAG, "confidence": 1.0}, "the pattern's signal is served"
    assert merged.get(CLASSIFIER_INTENT_KEY) == own


def test_the_classifiers_reading_of_a_sentence_is_its_own() -> None:
    message = _message("ask_apply", 0.8)
    record_signals(message, [PATTERN])
    sentence = _sentence(RED_FLAG, 0.95, "there was blood in the toilet")
    [merged] = QuestionMerger().process([message, sentence])
    assert [s["kind"] for s in merged.get(SAFETY_KEY)] == ["red_flag"]
    assert merged.get(CLASSIFIER_INTENT_KEY) == {"name": RED_FLAG, "confidence": 1.0}


def test_nothing_replaced_keeps_nothing() -> None:
    [merged] = QuestionMerger().process([_message("ask_apply", 0.8)])
    assert merged.get(INTENT) == {"name": "ask_apply", "confidence": 0.8}
    assert merged.get(CLASSIFIER_INTENT_KEY) is None
