"""The cheaper safety layer reads every message exactly as the plain one did.

Two shortcuts, each checked against the straightforward computation on every text the
project has: the safety model's training examples, the visitor turns of both blind sets'
development halves, every NLU training example, and those texts run together and in odd
characters.
- `SafetyModel.scores` computes TF-IDF and the three logistic regressions directly; it must
  equal sklearn's transform and predict_proba (`scores_reference`) within 1e-9.
- `find_signals` searches only the patterns a message's required words and joined text
  leave (practice/nlu/pattern_screen.py) and each frame concept once per message; its
  signals (kind, intent, evidence pattern and passage) must equal those of every pattern
  on every passage and every frame's own concept search (`reference_signals` below, the
  matching as it was before the screens).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import sys
import unicodedata
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import pytest
import yaml

from practice.evaluation.targets import set_path
from practice.nlu.pattern_screen import Screen, ScreenText, case_blind
from practice.nlu.safety_guard import (
    KIND_ORDER,
    MAX_TEXT_CHARS,
    SAFETY_KINDS,
    Reading,
    SafetyRule,
    SafetySignal,
    find_signals,
    load_safety_rules,
    normalise,
    passages,
    sentences,
    strip_accents,
)
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


# --- the safety model --------------------------------------------------------------------


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


# --- the patterns and frames -------------------------------------------------------------


def _first_evidence(
    rule: SafetyRule, every: Sequence[str], plain: Sequence[str], whole: str
) -> Optional[Tuple[str, str]]:
    for passage in every:
        for pattern in rule.patterns:
            if pattern.search(passage):
                return pattern.pattern, passage
    live = [frame for frame in rule.frames if frame.could_match(whole)]
    for passage in plain if live else ():
        for frame in live:
            if frame.matches(passage):
                return f"frame:{frame.name}", passage
    found = rule.underweight.evidence(whole) if rule.underweight is not None else None
    return (found, whole) if found else None


def reference_signals(rules: Sequence[SafetyRule], text: str) -> List[SafetySignal]:
    """find_signals as it was: every pattern on every passage, each frame's concepts
    searched by the frame itself, accents taken off every passage anew."""
    normalised = normalise(text[:MAX_TEXT_CHARS])
    candidates = passages(normalised)
    plain = list(dict.fromkeys(_strip_accents(p) for p in candidates))
    every = list(dict.fromkeys(candidates + plain))
    whole = _strip_accents(normalised)
    found = []
    for rule in rules:
        evidence = _first_evidence(rule, every, plain, whole)
        if evidence is not None:
            found.append(SafetySignal(SAFETY_KINDS[rule.intent], rule.intent, *evidence))
    return sorted(found, key=lambda s: KIND_ORDER.index(s.kind))


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@pytest.fixture(scope="module")
def rules() -> List[SafetyRule]:
    """The served rules: every language's patterns, the frames and the underweight cues."""
    return load_safety_rules()


_FORKED: List[Sequence[SafetyRule]] = []


def _differences(texts: Sequence[str]) -> Tuple[List[str], int]:
    """The texts whose screened signals differ from the plain ones, and how many have any."""
    rules = _FORKED[-1]
    differing, signalled = [], 0
    for text in texts:
        expected = reference_signals(rules, text)
        if find_signals(rules, text) != expected:
            differing.append(text)
        signalled += bool(expected)
    return differing, signalled


def test_the_screened_signals_are_the_plain_ones(rules: List[SafetyRule], texts: List[str]) -> None:
    # The plain matching takes ~45 s of CPU over these texts: spread over the machine's cores
    # (forked workers share the compiled rules).
    _FORKED.append(rules)
    workers = min(4, os.cpu_count() or 1)
    if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_differences, [texts[i::workers] for i in range(workers)])
    else:
        parts = [_differences(texts)]
    differing = [text for found, _ in parts for text in found]
    assert differing == []
    # Not a comparison of nothing with nothing: thousands of texts carry signals.
    assert sum(signalled for _, signalled in parts) > 2000


def test_accents_come_off_as_before(texts: List[str]) -> None:
    for text in texts + ["".join(map(chr, range(0x80, 0x3000)))]:
        assert strip_accents(text) == _strip_accents(text)


def test_every_passage_is_a_piece_of_the_joined_text(texts: List[str]) -> None:
    """What both screens rest on: each passage, as written or without accents, lies between
    spaces (or an end) in the sentences joined by single spaces, and in the screens' text."""
    for text in texts:
        reading = Reading(text)
        joined = " ".join(sentences(normalise(text[:MAX_TEXT_CHARS])))
        padded = [f" {joined} ", f" {strip_accents(joined)} "]
        for passage in reading.every:
            assert any(f" {passage} " in j for j in padded), (text, passage)
            assert case_blind(passage) in reading.screen_text.text, (text, passage)


def test_case_blind_characters_are_those_ignorecase_equates(rules: List[SafetyRule]) -> None:
    """Every character a required word holds, against every character there is: when
    re.IGNORECASE matches them, case_blind makes them the same."""
    everything = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    held = {
        c for rule in rules for s in (*rule.screened.screens, *rule.concepts.screens) for w in s.words or () for c in w
    }
    for character in held:
        equal = re.findall(re.escape(character), everything, re.IGNORECASE)
        assert {case_blind(other) for other in equal} == {case_blind(character)}, character


@pytest.mark.parametrize(
    "pattern, words, joinable",
    [
        (r"\b(severe|sharp) (stomach|belly) pain\b", {" pain"}, True),
        (r"\b(severe|sharp) (stomach|belly)\b", {"stomach", "belly"}, True),
        (r"(?<!\w)blood(?!\w)", {"blood"}, True),
        (r"^(?!.*on purpose).*\bthrow(ing)? up", {"throw"}, False),
        (r"vomit(?! on purpose)", {"vomit"}, False),
        (r"(?<!not )blood", {"blood"}, False),
        (r"(?=.*\bpills\b)\bsaved\b", {"pills"}, True),
        (r"(pee|urine)s? (is )?dark", {"dark"}, True),
        (r"\w+ is bad$", {" is bad"}, False),
        (r"(?<![.,])\d+ ?kg", {"kg"}, True),
        (r"(ab|c)?[de]+", None, True),
        (r"(?<!\S)\d+", None, True),
        (r"(?<!\s)\d+", None, False),
    ],
)
def test_a_patterns_screen(pattern: str, words: Optional[set], joinable: bool) -> None:
    screen = Screen.of(re.compile(pattern, re.IGNORECASE))
    assert (set(screen.words) if screen.words is not None else None, screen.joinable) == (words, joinable)


def test_an_ordinary_question_leaves_few_patterns_to_search(rules: List[SafetyRule]) -> None:
    searched = ScreenText(["how much fiber should i eat a day, and is kefir ok?"])
    left = sum(len(rule.screened.possible(searched)) for rule in rules)
    assert left < sum(len(rule.patterns) for rule in rules) / 10
