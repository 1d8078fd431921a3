"""Measuring a model on the held-out set: predictions, per-intent scores, the confusion picture.

`compare_models` is the gate's evaluation step: it parses the held-out set, the new
examples and the inbox with the candidate and the current model, and hands the predictions
to the gate's rules (practice/retrain/gate.py). Rasa and scikit-learn are imported inside
the functions: the console imports this package and must not pay for TensorFlow on start.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Sequence, Tuple
from unittest import mock

from practice.retrain import gate
from practice.retrain.checks import safety_intents
from practice.retrain.project import HOLDOUT_FILE
from practice.retrain.results import Placement, Prediction


def _passthrough(self: Any, messages: List[Any]) -> List[Any]:
    return messages


def load_agent(model_path: Path, classifier_only: bool = False) -> Any:
    """A Rasa agent for the model; `classifier_only` leaves out the safety layer's readers.

    Safety patterns decide most safety messages at run time, which would hide a classifier
    taught to call red flags small talk: the gate measures that second line on its own.
    """
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    from practice.nlu.safety_guard import SafetyGuard
    from practice.nlu.safety_model import SafetyClassifier

    # Rasa logs every parsed text at debug level: keep visitor text out of the run's output.
    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.WARNING)

    # Graph nodes bind the component's method when the model loads, so patching the classes
    # for the duration of the load is enough and touches no other agent. Both safety readers
    # (the patterns and frames, and the safety model) are left out.
    with ExitStack() as patches:
        if classifier_only:
            for reader in (SafetyGuard, SafetyClassifier):
                patches.enter_context(mock.patch.object(reader, "process", _passthrough))
        return Agent.load(str(model_path))


def predict(agent: Any, texts: Iterable[str]) -> Dict[str, Prediction]:
    """Each distinct text parsed once by the agent."""
    unique = list(dict.fromkeys(texts))

    async def parse_all() -> Dict[str, Prediction]:
        """Parse the texts one after another (the agent is not re-entrant)."""
        parsed: Dict[str, Prediction] = {}
        for text in unique:
            result = await agent.parse_message(text)
            intent = result.get("intent") or {}
            parsed[text] = Prediction(str(intent.get("name")), float(intent.get("confidence") or 0.0))
        return parsed

    return asyncio.run(parse_all())


def holdout_examples(path: Path) -> List[Tuple[str, str]]:
    """(text, intent) of a held-out NLU file, read with Rasa's own loader."""
    if not path.exists():
        return []
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def scores(examples: Sequence[Tuple[str, str]], predictions: Dict[str, Prediction]) -> Dict[str, Any]:
    """Accuracy, macro F1 and per-intent precision / recall / F1 / support."""
    from sklearn.metrics import precision_recall_fscore_support

    if not examples:
        return {"accuracy": None, "macro_f1": None, "correct": 0, "total": 0, "intents": {}}
    expected = [intent for _, intent in examples]
    predicted = [predictions[text].intent for text, _ in examples]
    labels = sorted(set(expected))
    precision, recall, f1, support = precision_recall_fscore_support(
        expected, predicted, labels=labels, zero_division=0
    )
    correct = sum(1 for e, p in zip(expected, predicted, strict=True) if e == p)
    per_intent = {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(labels)
    }
    return {
        "accuracy": correct / len(examples),
        "macro_f1": float(sum(f1) / len(f1)),
        "correct": correct,
        "total": len(examples),
        "intents": per_intent,
    }


def plot_confusion(
    examples: Sequence[Tuple[str, str]], predictions: Dict[str, Prediction], path: Path, title: str
) -> None:
    """Save the confusion matrix (expected down, predicted across) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from sklearn.metrics import confusion_matrix

    expected = [intent for _, intent in examples]
    predicted = [predictions[text].intent for text, _ in examples]
    labels = sorted(set(expected) | set(predicted))
    matrix = confusion_matrix(expected, predicted, labels=labels)
    size = max(6.0, 0.32 * len(labels) + 3.0)
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(labels)))
    axes.set_yticks(range(len(labels)))
    axes.set_xticklabels(labels, rotation=90, fontsize=7)
    axes.set_yticklabels(labels, fontsize=7)
    axes.set_xlabel("predicted")
    axes.set_ylabel("expected")
    axes.set_title(title)
    peak = matrix.max() or 1
    for row in range(len(labels)):
        for column in range(len(labels)):
            value = matrix[row, column]
            if value:
                axes.text(
                    column,
                    row,
                    str(value),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if value > peak / 2 else ("black" if row == column else "red"),
                )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def compare_models(
    workspace: Path,
    candidate_model: Path,
    current_model: Path,
    placements: Sequence[Placement],
    inbox_texts: Sequence[str],
    run_dir: Path,
    run_id: str,
    say: Callable[[str], None],
) -> Dict[str, Any]:
    """The candidate against the current model (when there is one) on the workspace's held-out
    set: the gate's prediction checks, both models' scores, every changed prediction and the
    new examples' predictions; the confusion pictures go to `run_dir`."""
    examples = holdout_examples(workspace / HOLDOUT_FILE)
    texts = [t for t, _ in examples]
    expected = {t: i for t, i in examples}
    for placement in placements:
        if placement.where != "skipped":
            expected.setdefault(placement.text, placement.intent)
    everything = list(dict.fromkeys(texts + [p.text for p in placements] + list(inbox_texts)))
    safety = set(safety_intents())
    safety_examples = [(t, i) for t, i in examples if i in safety]

    say(f"      parsing {len(everything)} messages with the candidate ...")
    candidate = predict(load_agent(candidate_model), everything)
    candidate_alone = predict(
        load_agent(candidate_model, classifier_only=True),
        [t for t, _ in safety_examples],
    )
    has_current = current_model.exists()
    if has_current:
        say(f"      parsing {len(everything)} messages with the current model ...")
        current = predict(load_agent(current_model), everything)
        current_alone = predict(
            load_agent(current_model, classifier_only=True),
            [t for t, _ in safety_examples],
        )
    else:
        current, current_alone = {}, {}

    candidate_scores = scores(examples, candidate)
    current_scores = scores(examples, current) if has_current else None
    plot_confusion(
        examples,
        candidate,
        run_dir / "confusion_candidate.png",
        f"Candidate {run_id}: held-out set",
    )
    if has_current:
        plot_confusion(
            examples,
            current,
            run_dir / "confusion_current.png",
            "Current model: held-out set",
        )

    checks = [
        gate.holdout_check(examples, candidate_scores, current_scores, HOLDOUT_FILE),
        gate.safety_examples_check(safety_examples, candidate),
        gate.classifier_alone_check(safety_examples, candidate_alone, current_alone if has_current else None),
    ]
    changed = gate.changed_predictions(everything, current, candidate, expected)
    return {
        "checks": checks,
        "candidate": candidate_scores,
        "current": current_scores,
        "changed": changed,
        "safety_examples": len(safety_examples),
        "new_examples": [
            {
                "text": p.text,
                "intent": p.intent,
                "where": p.where,
                "current": asdict(current[p.text]) if p.text in current else None,
                "candidate": asdict(candidate[p.text]),
            }
            for p in placements
            if p.where != "skipped"
        ],
    }
