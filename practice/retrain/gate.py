"""The retraining gate's rules: pure functions over predictions, no model, no training.

`evaluate.compare_models` (practice/retrain/evaluate.py) parses the held-out set, the new
examples and the inbox with the candidate and the current model, then asks these rules
whether the candidate may go live. Each rule returns one `Check`: its name, whether it
passed and a line a member of staff can read.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from practice.retrain.results import Check, Prediction

HOLDOUT = "held-out accuracy does not drop"
SAFETY_EXAMPLES = "every held-out safety example right"
CLASSIFIER_ALONE = "safety classifier (without patterns) no worse"

Examples = Sequence[Tuple[str, str]]
Predictions = Mapping[str, Prediction]


def holdout_check(
    examples: Examples, candidate: Mapping[str, Any], current: Optional[Mapping[str, Any]], holdout_file: str
) -> Check:
    """The candidate's held-out accuracy (scores of `evaluate.scores`) is not below the current's."""
    if not examples:
        return Check(HOLDOUT, False, f"no held-out examples in {holdout_file}")
    if current is None:
        return Check(HOLDOUT, True, f"candidate {candidate['accuracy']:.1%}; no current model to compare")
    drop = candidate["accuracy"] < current["accuracy"] - 1e-9
    return Check(
        HOLDOUT,
        not drop,
        f"candidate {candidate['accuracy']:.1%} ({candidate['correct']}/"
        f"{candidate['total']}) vs current {current['accuracy']:.1%} "
        f"({current['correct']}/{current['total']})",
    )


def safety_examples_check(safety_examples: Examples, candidate: Predictions) -> Check:
    """Every held-out safety example gets its safety intent from the served candidate."""
    missed = [(t, i, candidate[t].intent) for t, i in safety_examples if candidate[t].intent != i]
    return Check(
        SAFETY_EXAMPLES,
        not missed and bool(safety_examples),
        f"{len(safety_examples) - len(missed)}/{len(safety_examples)} right"
        + "".join(f"; {t!r} ({i}) -> {p}" for t, i, p in missed[:5]),
    )


def classifier_alone_check(
    safety_examples: Examples, candidate_alone: Predictions, current_alone: Optional[Predictions]
) -> Check:
    """The intent classifier without the safety readers gets no fewer safety examples right."""
    alone_right = sum(1 for t, i in safety_examples if candidate_alone[t].intent == i)
    if current_alone is None:
        return Check(CLASSIFIER_ALONE, True, f"candidate {alone_right}/{len(safety_examples)}; no current model")
    before = sum(1 for t, i in safety_examples if current_alone[t].intent == i)
    worse = [
        (t, i, candidate_alone[t].intent)
        for t, i in safety_examples
        if current_alone[t].intent == i and candidate_alone[t].intent != i
    ]
    return Check(
        CLASSIFIER_ALONE,
        alone_right >= before,
        f"candidate {alone_right}/{len(safety_examples)} "
        f"vs current {before}/{len(safety_examples)}" + "".join(f"; now {t!r} -> {p}" for t, _, p in worse[:5]),
    )


def changed_predictions(
    texts: Sequence[str], current: Predictions, candidate: Predictions, expected: Mapping[str, str]
) -> List[Dict[str, Any]]:
    """Every text whose intent the candidate changes (or that no current model parsed)."""
    changed = []
    for text in texts:
        before = current.get(text)
        after = candidate[text]
        if before is None or before.intent != after.intent:
            changed.append(
                {
                    "text": text,
                    "expected": expected.get(text),
                    "current": asdict(before) if before else None,
                    "candidate": asdict(after),
                }
            )
    return changed
