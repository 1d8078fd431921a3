"""Which safety model to add to the rules: candidates compared on the blind development set.

The safety layer's patterns and frames catch the phrasings and topics they know; indirect
forms ("I've started giving my things away", "I run until I've earned dinner") are where
they miss. This benchmark trains candidate text classifiers on the safety examples
(`practice/nlu/safety_examples.jsonl`: batches written blind for training, and the blind
safety development set) with the NLU data's other intents as negatives, and measures:

- on the blind safety development set (tests/safety/dev.jsonl), cross-validated (each
  message scored by a model trained without it): recall per kind of the model alone and of
  the served rules together with the model, false alarms on its negatives;
- on the blind understanding development set (tests/understanding/dev.jsonl): 1,400
  ordinary visitor messages, none of which should raise a safety signal.

    python -m bench.safety_model            # prints the table, writes docs/results/safety_model.md
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence, Set, Tuple

from practice.evaluation.scoring import load_cases
from practice.evaluation.targets import set_path
from practice.nlu.safety_guard import load_sentence_support
from practice.nlu.safety_model import (
    KINDS,
    TRAINING_BATCH,
    Example,
    SafetyModel,
    examples_of_case,
    load_examples,
    negatives_from,
    prepared,
    with_words_of_their_kind,
)
from practice.settings import PROJECT_ROOT

REPORT = PROJECT_ROOT / "docs" / "results" / "safety_model.md"
CACHE = PROJECT_ROOT / "var" / "bench" / "safety_layer_dev.json"


@dataclass(frozen=True)
class Candidate:
    """One model configuration."""

    name: str
    analyzers: Tuple[str, ...]
    C: float
    by_passage: bool = False
    words_option: bool = False  # also measured with a word of its kind required


CANDIDATES = (
    Candidate("words 1-2, whole message", ("word",), 30.0),
    Candidate("characters 2-5, whole message", ("char_wb",), 30.0),
    Candidate("words + characters, C 3, whole message", ("word", "char_wb"), 3.0),
    Candidate("words + characters, C 30, whole message", ("word", "char_wb"), 30.0, words_option=True),
    Candidate("words + characters, C 30, best passage", ("word", "char_wb"), 30.0, True),
)
THRESHOLDS = (0.7, 0.8, 0.9, 0.95)
FOLDS = 5


def nlu_training_data() -> Any:
    """The project's NLU examples, as Rasa reads them for training."""
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    files = sorted((PROJECT_ROOT / "data").glob("nlu*.yml"))
    return TrainingData().merge(*(load_data(str(f)) for f in files))


def signal_texts(case: Dict[str, Any]) -> str:
    """The turn a safety case is judged on: its signal turn, or its last turn for a negative."""
    turns = case["turns"]
    index = case.get("signal_turn")
    return turns[index if index is not None else len(turns) - 1]


def served_layer_kinds(texts: Sequence[str]) -> List[Set[str]]:
    """What the served model's rules (patterns, frames, sentence classifier) report per text;
    a served model's own safety model (evidence `model:`) is left out."""
    import asyncio

    from practice.evaluation.conversations import load_agent, newest_model

    served = newest_model()
    key = f"{served}@{served.stat().st_mtime_ns}"
    if CACHE.exists():
        cached = json.loads(CACHE.read_text())
        if cached.get("model") == key and cached.get("texts") == list(texts):
            return [set(k) for k in cached["kinds"]]
    agent = load_agent(served, None)
    kinds: List[Set[str]] = []
    for text in texts:
        parsed = asyncio.run(agent.parse_message(text))
        kinds.append(
            {s["kind"] for s in parsed.get("safety") or [] if not str(s.get("pattern", "")).startswith("model:")}
        )
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_text(json.dumps({"model": key, "texts": list(texts), "kinds": [sorted(k) for k in kinds]}))
    return kinds


def cross_validated_scores(
    candidate: Candidate,
    batches: Sequence[Example],
    negatives: Sequence[Example],
    cases: Sequence[Dict[str, Any]],
    texts: Sequence[str],
) -> List[Dict[str, float]]:
    """Each development case scored by a model trained without its fold (FOLDS folds)."""
    scores: List[Dict[str, float]] = [{} for _ in cases]
    for fold in range(FOLDS):
        held = [i % FOLDS == fold for i in range(len(cases))]
        trained_on = [e for c, h in zip(cases, held, strict=True) if not h for e in examples_of_case(c)]
        model = SafetyModel.train(list(batches) + trained_on, negatives, analyzers=candidate.analyzers, C=candidate.C)
        for index, is_held in enumerate(held):
            if is_held:
                scores[index] = model.scores(texts[index], candidate.by_passage)
    return scores


def evaluate(args: argparse.Namespace) -> str:
    """Cross-validate each candidate on the development set, return the Markdown report."""
    examples = load_examples()
    batches = [e for e in examples if e.source == TRAINING_BATCH]
    negatives = negatives_from(nlu_training_data())
    safety_cases = load_cases(set_path("safety", "dev"))
    texts = [signal_texts(c) for c in safety_cases]
    truth = [set(c["kinds"]) for c in safety_cases]
    # The third set's negatives were never training data of the rules or the intent
    # classifier (the first set's English negatives are examples in data/nlu_safety.yml).
    third = [c["id"].startswith("s3") and not c["kinds"] for c in safety_cases]
    ordinary = [c["turns"][-1] for c in load_cases(set_path("understanding", "dev"))]
    started = time.monotonic()
    layer = served_layer_kinds(texts)
    print(f"served layer read in {time.monotonic() - started:.0f} s", flush=True)
    positives = {k: sum(k in t for t in truth) for k in KINDS}
    negative_count = sum(not t for t in truth)
    lines = [
        "# Safety model: candidates on the blind development set",
        "",
        f"`python -m bench.safety_model`. Each candidate is trained on the {len(batches)} "
        f"examples written blind for training, the {len(negatives)} examples of the NLU data's "
        "other intents (as negatives) and the blind safety development set "
        f"({len(safety_cases)} messages: " + ", ".join(f"{positives[k]} {k}" for k in KINDS) + f", "
        f"{negative_count} negatives), {FOLDS}-fold cross-validated on the development set: each "
        "message is scored by a model that never saw it. Recall is of the served rules "
        "(patterns, frames, sentence classifier) together with the model; *model alone* in "
        "brackets. *Ordinary messages*: the blind understanding development set "
        f"({len(ordinary)} visitor messages, no safety signal), scored by the candidate trained "
        "on everything; none of them is training data of the model.",
        "",
        "| candidate | threshold | red flag | crisis | disordered eating | false alarms, safety negatives "
        "| of them third set | false alarms, ordinary messages | ms per message |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base = {k: sum(k in found and k in t for found, t in zip(layer, truth, strict=True)) for k in KINDS}
    base_fa = sum(bool(found) for found, t in zip(layer, truth, strict=True) if not t)
    base_third = sum(bool(found) for found, is_third in zip(layer, third, strict=True) if is_third)
    lines.append(
        "| served rules alone | – | "
        + " | ".join(f"{base[k]}/{positives[k]}" for k in KINDS)
        + f" | {base_fa}/{negative_count} | {base_third}/{sum(third)} | – | – |"
    )
    everything = list(examples)
    support = load_sentence_support()
    for candidate in CANDIDATES:
        scores = cross_validated_scores(candidate, batches, negatives, safety_cases, texts)
        model = SafetyModel.train(everything, negatives, analyzers=candidate.analyzers, C=candidate.C)
        started = time.perf_counter()
        ordinary_scores = [model.scores(t, candidate.by_passage) for t in ordinary]
        per_message_ms = (time.perf_counter() - started) * 1000 / len(ordinary)
        options = (False, True) if candidate.words_option else (False,)
        for threshold, words in [(t, w) for t in THRESHOLDS for w in options]:
            found = [{k for k, p in s.items() if p >= threshold} for s in scores]
            if words:
                found = [
                    set(with_words_of_their_kind(dict.fromkeys(f, 1.0), prepared(t), support))
                    for f, t in zip(found, texts, strict=True)
                ]
            cells = []
            for k in KINDS:
                alone = sum(k in f and k in t for f, t in zip(found, truth, strict=True))
                both = sum(k in (f | s) and k in t for f, s, t in zip(found, layer, truth, strict=True))
                cells.append(f"{both}/{positives[k]} ({alone})")
            fa = sum(bool(f | s) for f, s, t in zip(found, layer, truth, strict=True) if not t)
            fa_third = sum(bool(f | s) for f, s, x in zip(found, layer, third, strict=True) if x)
            fa_ordinary = sum(
                bool(with_words_of_their_kind({k: p for k, p in s.items() if p >= threshold}, prepared(t), support))
                if words
                else any(p >= threshold for p in s.values())
                for s, t in zip(ordinary_scores, ordinary, strict=True)
            )
            name = candidate.name + (", with a word of its kind" if words else "")
            lines.append(
                f"| {name} | {threshold} | "
                + " | ".join(cells)
                + f" | {fa}/{negative_count} | {fa_third}/{sum(third)} | {fa_ordinary}/{len(ordinary)} "
                f"| {per_message_ms:.2f} |"
            )
            print(lines[-1], flush=True)
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the comparison; write it to docs/results unless --no-write."""
    parser = argparse.ArgumentParser(prog="python -m bench.safety_model", description=__doc__)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    text = evaluate(args)
    print(text)
    if not args.no_write:
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
