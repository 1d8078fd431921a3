"""The questions of a message that asks several things, read by a second classifier too
(practice/nlu/part_questions.py)."""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Tuple

import pytest
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from practice.evaluation.targets import SETS
from practice.nlu.part_questions import QUESTIONS_FILE, PartQuestionClassifier, averaged
from practice.nlu.question_model import QuestionModel, examples_of
from practice.nlu.safety_guard import PART_OF_KEY, SENTENCE_OF_KEY

EXAMPLES: List[Tuple[str, str]] = [
    ("does it cost anything", "request_coach"),
    ("is the call free", "request_coach"),
    ("how much is the coaching", "request_coach"),
    ("what happens after I apply", "ask_after_applying"),
    ("who calls me once I sent the form", "ask_after_applying"),
    ("what is the coaching", "ask_coaching"),
]
# The English classifier's reading of "and does it cost anything": the after-applying answer.
ENGLISH: List[Dict[str, Any]] = [
    {"name": "ask_after_applying", "confidence": 0.55},
    {"name": "request_coach", "confidence": 0.35},
    {"name": "ask_coaching", "confidence": 0.10},
]


def _classifier(weight: float = 0.5) -> PartQuestionClassifier:
    config = {**PartQuestionClassifier.get_default_config(), "weight": weight}
    return PartQuestionClassifier(config, None, None, QuestionModel.train(EXAMPLES, C=100.0))  # type: ignore[arg-type]


def _message(text: str, **data: Any) -> Message:
    return Message(data={TEXT: text, INTENT: dict(ENGLISH[0]), INTENT_RANKING_KEY: [dict(r) for r in ENGLISH], **data})


def test_two_rankings_average_with_the_weight_and_a_missing_intent_counts_zero() -> None:
    first = [{"name": "a", "confidence": 0.6}, {"name": "b", "confidence": 0.4}]
    second = [{"name": "b", "confidence": 0.9}, {"name": "c", "confidence": 0.1}]
    ranking = averaged(first, second, 0.5)
    assert [r["name"] for r in ranking] == ["b", "a", "c"]
    assert ranking[0]["confidence"] == pytest.approx(0.65)
    assert averaged(first, second, 0.0)[0] == {"name": "a", "confidence": pytest.approx(0.6)}


def test_a_question_copy_gets_both_readings_and_the_message_itself_keeps_its_own() -> None:
    whole = _message("what happens after I apply and does it cost anything")
    question = _message("does it cost anything", **{PART_OF_KEY: 0})
    sentence = _message("does it cost anything", **{SENTENCE_OF_KEY: 0})
    _classifier().process([whole, question, sentence])
    assert question.get(INTENT)["name"] == "request_coach"
    assert question.get(INTENT_RANKING_KEY)[0] == question.get(INTENT)
    assert whole.get(INTENT) == ENGLISH[0] and sentence.get(INTENT) == ENGLISH[0]


def test_with_no_weight_or_no_model_the_english_reading_stands() -> None:
    question = _message("does it cost anything", **{PART_OF_KEY: 0})
    _classifier(weight=0.0).process([question])
    assert question.get(INTENT)["name"] == "ask_after_applying"
    untrained = PartQuestionClassifier(PartQuestionClassifier.get_default_config(), None, None)  # type: ignore[arg-type]
    other = _message("does it cost anything", **{PART_OF_KEY: 0})
    untrained.process([other])
    assert other.get(INTENT) == ENGLISH[0]


@pytest.mark.parametrize("config", [{"C": 0}, {"weight": 1.5}, {"weight": -0.1}, {"weight": "half"}])
def test_a_bad_setting_is_refused(config: Dict[str, Any]) -> None:
    with pytest.raises(InvalidConfigException):
        PartQuestionClassifier.validate_config({**PartQuestionClassifier.get_default_config(), **config})


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def test_the_shipped_questions_are_known_intents_and_never_a_test_message() -> None:
    examples = examples_of(load_data(str(QUESTIONS_FILE)))
    assert len(examples) >= 1000
    intents = {intent for _, intent in examples}
    assert {"ask_causes", "ask_beyond_article", "request_coach", "out_of_scope"} <= intents
    turns = {
        _words(turn)
        for directory in SETS.values()
        for path in directory.glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
        for turn in json.loads(line)["turns"]
    }
    assert not [text for text, _ in examples if _words(text) in turns]
