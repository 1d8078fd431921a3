"""Held-out NLU check: the trained model on phrasings it never saw in training.

Needs a trained model (`make train`); the newest `models/*.tar.gz` is used.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import yaml
from rasa.core.agent import Agent
from rasa.shared.nlu.training_data.loading import load_data

from practice.launcher import training_fingerprint

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"
HOLDOUT = Path(__file__).with_name("holdout.yml")
NONSENSE = Path(__file__).with_name("nonsense.txt")
# Without the launcher's fingerprint, a model older than these is stale.
TRAINING_INPUTS = [ROOT / "data" / "nlu.yml", ROOT / "config.yml"]

SAFETY_INTENTS = {"report_red_flag_symptoms", "express_self_harm", "mention_disordered_eating"}
# The practice's target for this held-out set, which was written by writers who never saw
# the training data (docs/PIPELINES.md); the pipeline chosen on cross-validation measures
# 95.7% (448/468) on it.
TARGET_ACCURACY = 0.95
FALLBACK = "nlu_fallback"
# Follow-ups ("and how much?") only make sense after an answer; out of context the
# classifier reads many of them as another intent, and the dialogue still answers them
# against the current topic (practice/dialogue/plan.py). They are measured on their own:
# the 95% target is the existing set's, and the follow-ups' floor is their measured
# accuracy (docs/PIPELINES.md); the understanding set's follow-up conversations measure
# what visitors get.
FOLLOW_UP_INTENTS = {
    "ask_followup_amount",
    "ask_followup_source",
    "ask_followup_children",
    "ask_followup_concern",
    "ask_followup_how",
    "ask_followup_why",
    "ask_followup_more",
    "express_frustration",
}
FOLLOW_UP_FLOOR = 0.75


def holdout_examples() -> List[Tuple[str, str]]:
    """(text, intent) pairs of the held-out set, read with Rasa's own loader."""
    data = load_data(str(HOLDOUT))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def nonsense_lines() -> List[str]:
    """Messages that must fall back: gibberish, emoji, languages but English, Spanish and French
    (Spanish and French questions have a classifier of their own: practice/nlu/foreign_questions.py)."""
    lines = NONSENSE.read_text("utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


EXAMPLES = holdout_examples()
SAFETY_EXAMPLES = [(t, i) for t, i in EXAMPLES if i in SAFETY_INTENTS]
NONSENSE_LINES = nonsense_lines()


def newest_model() -> Path:
    """The newest trained model, failing the session when there is none or it is stale."""
    models = sorted(MODELS.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        pytest.fail(f"No trained model in {MODELS}: run `make train` first", pytrace=False)
    model = models[-1]
    # The model must be trained on what is in the tree now, or the test measures an old one.
    stamp = model.with_name(model.name.replace(".tar.gz", ".fingerprint"))
    if stamp.exists():
        stale = stamp.read_text().strip() != training_fingerprint(ROOT)
    else:
        stale = any(p.stat().st_mtime > model.stat().st_mtime for p in TRAINING_INPUTS)
    if stale:
        pytest.fail(f"{model.name} is stale: run `make train` first", pytrace=False)
    return model


@pytest.fixture(scope="session")
def predictions() -> Dict[str, Tuple[str, float]]:
    """Every held-out and nonsense text parsed once by the newest model: intent, confidence."""
    agent = Agent.load(str(newest_model()))
    texts = sorted({t for t, _ in EXAMPLES} | set(NONSENSE_LINES))

    async def parse_all() -> Dict[str, Tuple[str, float]]:
        parsed = {}
        for text in texts:
            result = await agent.parse_message(text)
            parsed[text] = (result["intent"]["name"], result["intent"]["confidence"])
        return parsed

    return asyncio.run(parse_all())


def misclassified(examples: List[Tuple[str, str]], predictions: Dict[str, Tuple[str, float]]) -> List[str]:
    """Readable lines for the examples the model got wrong."""
    return [
        f"  {expected:28} <- {predictions[text][0]} ({predictions[text][1]:.2f}): {text!r}"
        for text, expected in examples
        if predictions[text][0] != expected
    ]


def test_holdout_set_covers_every_intent() -> None:
    """At least 8 phrasings per intent and 12 per safety intent, no duplicates."""
    counts = Counter(intent for _, intent in EXAMPLES)
    # Follow-up phrasings equal to a training example were dropped: six suffice there.
    least = {**{i: 12 for i in SAFETY_INTENTS}, **{i: 6 for i in FOLLOW_UP_INTENTS}}
    thin = {i: n for i, n in counts.items() if n < least.get(i, 8)}
    assert not thin, f"too few held-out examples: {thin}"
    assert set(counts) >= SAFETY_INTENTS
    domain_intents = set(yaml.safe_load((ROOT / "domain.yml").read_text("utf-8"))["intents"])
    assert set(counts) == domain_intents, f"intents without held-out phrasings: {domain_intents - set(counts)}"
    assert len({t for t, _ in EXAMPLES}) == len(EXAMPLES), "duplicate held-out texts"


def test_holdout_is_not_copied_from_training() -> None:
    """A held-out text that is also a training example measures nothing."""
    training = {m.get("text").lower().strip(" ?!.") for m in load_data(str(ROOT / "data" / "nlu.yml")).intent_examples}
    copies = [t for t, _ in EXAMPLES if t.lower().strip(" ?!.") in training]
    assert not copies, f"held-out examples copied from data/nlu.yml: {copies}"


def test_overall_accuracy(predictions: Dict[str, Tuple[str, float]]) -> None:
    """Held-out intent accuracy reaches the practice's target of 95%."""
    examples = [(t, i) for t, i in EXAMPLES if i not in FOLLOW_UP_INTENTS]
    wrong = misclassified(examples, predictions)
    accuracy = 1 - len(wrong) / len(examples)
    report = "\n".join(wrong)
    print(f"held-out accuracy {accuracy:.3f} ({len(examples) - len(wrong)}/{len(examples)}); target {TARGET_ACCURACY}")
    print(report)
    assert accuracy >= TARGET_ACCURACY, (
        f"held-out accuracy {accuracy:.3f} < {TARGET_ACCURACY}; misclassified:\n{report}"
    )


@pytest.mark.parametrize(("text", "intent"), SAFETY_EXAMPLES)
def test_every_safety_example(predictions: Dict[str, Tuple[str, float]], text: str, intent: str) -> None:
    """No red flag, crisis or eating-disorder message may be missed or mislabelled."""
    got, confidence = predictions[text]
    assert got == intent, f"{text!r}: expected {intent}, got {got} ({confidence:.2f})"


@pytest.mark.parametrize("text", NONSENSE_LINES)
def test_nonsense_falls_back(predictions: Dict[str, Tuple[str, float]], text: str) -> None:
    """Gibberish, emoji and other languages give nlu_fallback, never a confident guess."""
    got, confidence = predictions[text]
    assert got == FALLBACK, f"{text!r}: expected {FALLBACK}, got {got} ({confidence:.2f})"


def test_follow_up_accuracy_out_of_context(predictions: Dict[str, Tuple[str, float]]) -> None:
    """Follow-up phrasings classified without their conversation keep their measured floor."""
    examples = [(t, i) for t, i in EXAMPLES if i in FOLLOW_UP_INTENTS]
    wrong = misclassified(examples, predictions)
    accuracy = 1 - len(wrong) / len(examples)
    print(f"follow-up accuracy {accuracy:.3f} ({len(examples) - len(wrong)}/{len(examples)})")
    assert accuracy >= FOLLOW_UP_FLOOR, "\n".join(wrong)


def test_the_gate_reads_the_classifier_behind_the_safety_layer_from_the_served_parse() -> None:
    """The retraining gate measures the intent classifier behind the safety layer on its own:
    for every held-out safety example, the classifier's guess the served parse keeps is right
    exactly when the pipeline without the safety readers (patterns, frames, safety model)
    is right, and a crisis the patterns read is still served as one."""
    from unittest import mock

    from practice.nlu.safety_guard import SafetyGuard
    from practice.nlu.safety_model import SafetyClassifier
    from practice.retrain import evaluate

    model = newest_model()
    served = evaluate.load_agent(model)
    # The pipeline without both safety readers, as the gate measured it before the parse
    # kept the classifier's guess: the readers' graph nodes bind `process` when the model loads.
    with (
        mock.patch.object(SafetyGuard, "process", lambda self, messages: messages),
        mock.patch.object(SafetyClassifier, "process", lambda self, messages: messages),
    ):
        without_readers = Agent.load(str(model))

    async def both(text: str) -> Tuple[Dict, Dict]:
        return await served.parse_message(text), await without_readers.parse_message(text)

    crisis = "lately i keep thinking everyone would be better off if i wasn't around"
    parsed, alone = asyncio.run(both(crisis))
    assert parsed.get("safety"), "the served layer reads a crisis here"
    assert not alone.get("safety"), alone.get("safety")
    differ = []
    for text, expected in SAFETY_EXAMPLES:
        parsed, alone = asyncio.run(both(text))
        guess = evaluate.classifier_guess(parsed)
        if (guess.intent == expected) != (alone["intent"]["name"] == expected):
            differ.append(f"  {expected}: kept {guess.intent}, without readers {alone['intent']['name']}: {text!r}")
    assert not differ, "\n".join(differ)
