"""The cheaper safety model reads every message exactly as sklearn's path did.

`SafetyModel.scores` computes TF-IDF and the three logistic regressions directly; on every
text the project has (the safety model's training examples, the visitor turns of both blind
sets' development halves, every NLU training example, and those texts run together and in
odd characters) it must equal sklearn's transform and predict_proba (`scores_reference`)
within 1e-9.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List

import pytest
import yaml

from practice.evaluation.targets import set_path
from practice.nlu.safety_guard import MAX_TEXT_CHARS, normalise, passages
from practice.nlu.safety_model import EXAMPLES_FILE, SafetyModel, load_examples

ROOT = Path(__file__).resolve().parents[2]
# Characters re.IGNORECASE counts as equal to others (ſ ~ s, ı ~ i, K ~ k), the dotted İ,
# a ligature NFKD spells out, typographic quotes and spaces, accents typed as combining marks.
ODD = [
    "Bloo\u017fd in my \u017ftool",
    "I tr\u0131ed to end \u0131t",
    "\u212aILL MYSELF",
    "\u0130 want to d\u0131e",
    "the \ufb01rst time i threw up blood",
    "I\u2019m bleeding when I wipe\u00a0. It\u2019s bright red",
    "tengo sangre\u0301 en las heces",
    "je vomis  du sang\n\nmon ventre",
    "s\u0327ang dans les selles",
]
SEPARATORS = [". ", "; ", "\n", " but ", "? ", " "]


def _nlu_examples() -> List[str]:
    texts = []
    for path in sorted((ROOT / "data").glob("*.yml")):
        for entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            lines = (entry.get("examples") or "").splitlines()
            texts += [line.strip()[2:] for line in lines if line.strip().startswith("- ")]
    return texts


def _turns(name: str) -> List[str]:
    lines = set_path(name, "dev").read_text(encoding="utf-8").splitlines()
    return [turn for line in lines if line.strip() for turn in json.loads(line)["turns"]]


@pytest.fixture(scope="module")
def texts() -> List[str]:
    """Every text, once; then neighbours run together across every kind of sentence end, so
    that signals split over two sentences and patterns that match across them show up."""
    examples = [json.loads(line)["text"] for line in EXAMPLES_FILE.read_text("utf-8").splitlines() if line.strip()]
    found = list(dict.fromkeys(examples + _turns("safety") + _turns("understanding") + _nlu_examples()))
    joined = [
        a + SEPARATORS[i % len(SEPARATORS)] + b
        for i, (a, b) in enumerate(zip(found[::29], found[11::29], strict=False))
    ]
    return found + joined + ODD + [t.upper() for t in ODD] + ["", " ", ".", "but", "x" * (MAX_TEXT_CHARS + 50)]


@pytest.fixture(scope="module")
def model() -> SafetyModel:
    """A model of the served size: every training example, C as configured."""
    return SafetyModel.train(load_examples(), C=30.0)


def test_the_direct_scores_are_sklearns(model: SafetyModel, texts: List[str]) -> None:
    worst = max(
        abs(fast[kind] - slow[kind])
        for text, slow in zip(texts, model.scores_reference(texts), strict=True)
        for fast in [model.scores(text)]
        for kind in slow
    )
    assert worst <= 1e-9


def test_the_direct_scores_by_passage_are_sklearns(model: SafetyModel, texts: List[str]) -> None:
    # Each passage is scored as a whole text is; a quarter of the texts with several
    # passages (~1,000, ~5,000 passages) checks the highest-of-several on top.
    several = [text for text in texts if len(passages(normalise(text))) > 1][::4]
    assert len(several) > 1000
    worst = max(
        abs(fast[kind] - slow[kind])
        for text, slow in zip(several, model.scores_reference(several, by_passage=True), strict=True)
        for fast in [model.scores(text, by_passage=True)]
        for kind in slow
    )
    assert worst <= 1e-9


def test_a_saved_model_reads_as_directly(model: SafetyModel) -> None:
    again = SafetyModel.from_dict(json.loads(json.dumps(model.to_dict())))
    sample = ["i want to end it all", "¿Qué es el intestino permeable?", "", "blood. in my stool"]
    for text, slow in zip(sample, again.scores_reference(sample), strict=True):
        assert again.scores(text) == pytest.approx(slow, abs=1e-9, rel=0)
