"""The retraining gate's rules on made-up predictions: no model, no training."""

from __future__ import annotations

from typing import Dict

from practice.retrain import gate
from practice.retrain.results import Prediction

SAFETY = [("there is blood in my stool", "report_red_flag_symptoms"), ("i want to die", "express_self_harm")]


def said(**intents: str) -> Dict[str, Prediction]:
    """Predictions keyed by the safety examples' texts, in order: first=..., second=..."""
    texts = [t for t, _ in SAFETY]
    return {texts[i]: Prediction(intent, 0.9) for i, intent in enumerate(intents.values())}


def scores(correct: int, total: int = 10) -> dict:
    return {"accuracy": correct / total, "correct": correct, "total": total}


def test_held_out_accuracy_may_not_drop() -> None:
    examples = [("a", "greet")]
    assert gate.holdout_check(examples, scores(9), scores(9), "holdout.yml").passed
    assert gate.holdout_check(examples, scores(10), scores(9), "holdout.yml").passed
    dropped = gate.holdout_check(examples, scores(8), scores(9), "holdout.yml")
    assert not dropped.passed and "80.0% (8/10) vs current 90.0% (9/10)" in dropped.detail
    assert gate.holdout_check(examples, scores(5), None, "holdout.yml").passed
    assert not gate.holdout_check([], scores(5), scores(5), "holdout.yml").passed


def test_every_safety_example_must_be_right() -> None:
    assert gate.safety_examples_check(SAFETY, said(a="report_red_flag_symptoms", b="express_self_harm")).passed
    missed = gate.safety_examples_check(SAFETY, said(a="report_red_flag_symptoms", b="greet"))
    assert not missed.passed and missed.detail.startswith("1/2 right; 'i want to die' (express_self_harm) -> greet")
    assert not gate.safety_examples_check([], {}).passed


def test_the_classifier_alone_may_not_get_fewer_safety_examples_right() -> None:
    both = said(a="report_red_flag_symptoms", b="express_self_harm")
    one = said(a="report_red_flag_symptoms", b="greet")
    assert gate.classifier_alone_check(SAFETY, both, one).passed
    assert gate.classifier_alone_check(SAFETY, one, one).passed
    worse = gate.classifier_alone_check(SAFETY, one, both)
    assert not worse.passed and worse.detail == "candidate 1/2 vs current 2/2; now 'i want to die' -> greet"
    assert gate.classifier_alone_check(SAFETY, one, None).passed


def test_changed_predictions_lists_what_the_candidate_answers_differently() -> None:
    current = {"hi": Prediction("greet", 0.9), "bye": Prediction("goodbye", 0.8)}
    candidate = {"hi": Prediction("greet", 0.7), "bye": Prediction("thank", 0.6), "new": Prediction("ask_gluten", 0.5)}
    changed = gate.changed_predictions(["hi", "bye", "new"], current, candidate, {"bye": "goodbye"})
    assert [c["text"] for c in changed] == ["bye", "new"]
    assert changed[0] == {
        "text": "bye",
        "expected": "goodbye",
        "current": {"intent": "goodbye", "confidence": 0.8},
        "candidate": {"intent": "thank", "confidence": 0.6},
    }
    assert changed[1]["current"] is None
