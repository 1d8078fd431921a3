"""Measuring a model on the held-out set: predictions, per-intent scores, the confusion picture.

`compare_models` is the gate's evaluation step: it parses the held-out set, the new
examples and the inbox with the candidate and the current model, and hands the predictions
to the gate's rules (practice/retrain/gate.py). Rasa and scikit-learn are imported inside
the functions: the console imports this package and must not pay for TensorFlow on start.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Sequence, Tuple

from practice.retrain import gate
from practice.retrain.checks import safety_intents
from practice.retrain.project import HOLDOUT_FILE
from practice.retrain.results import Placement, Prediction


@dataclass(frozen=True)
class Predictions:
    """What a model said about each text: the served intent and the classifier's own guess."""

    served: Dict[str, Prediction]
    classifier: Dict[str, Prediction]


def load_agent(model_path: Path) -> Any:
    """A Rasa agent for the model, quiet about the texts it parses."""
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # Rasa logs every parsed text at debug level: keep visitor text out of the run's output.
    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.WARNING)
    return Agent.load(str(model_path))


def _prediction(intent: Mapping[str, Any]) -> Prediction:
    return Prediction(str(intent.get("name")), float(intent.get("confidence") or 0.0))


def classifier_guess(parsed: Mapping[str, Any]) -> Prediction:
    """The intent the classifier alone gave a parsed message, without the safety readers.

    The safety patterns decide most safety messages at run time, which would hide a
    classifier taught to call red flags small talk: the gate measures that second line on
    its own. The pipeline keeps it as `classifier_intent` whenever the out-of-scope gate or
    the safety layer replaced the intent (`keep_classifier_intent` in
    practice/nlu/safety_guard.py, finished by QuestionMerger); otherwise the served intent is
    the classifier's own.
    """
    return _prediction(parsed.get("classifier_intent") or parsed.get("intent") or {})


def predict(agent: Any, texts: Iterable[str]) -> Predictions:
    """Each distinct text parsed once by the agent: its served intent and the classifier's."""
    unique = list(dict.fromkeys(texts))

    async def parse_all() -> Predictions:
        """Parse the texts one after another (the agent is not re-entrant)."""
        parsed = Predictions({}, {})
        for text in unique:
            result = await agent.parse_message(text)
            parsed.served[text] = _prediction(result.get("intent") or {})
            parsed.classifier[text] = classifier_guess(result)
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
    has_current = current_model.exists()
    current = Predictions({}, {})
    if has_current:
        say(f"      parsing {len(everything)} messages with the current model ...")
        current = predict(load_agent(current_model), everything)

    candidate_scores = scores(examples, candidate.served)
    current_scores = scores(examples, current.served) if has_current else None
    plot_confusion(
        examples,
        candidate.served,
        run_dir / "confusion_candidate.png",
        f"Candidate {run_id}: held-out set",
    )
    if has_current:
        plot_confusion(
            examples,
            current.served,
            run_dir / "confusion_current.png",
            "Current model: held-out set",
        )

    checks = [
        gate.holdout_check(examples, candidate_scores, current_scores, HOLDOUT_FILE),
        gate.safety_examples_check(safety_examples, candidate.served),
        gate.classifier_alone_check(safety_examples, candidate.classifier, current.classifier if has_current else None),
    ]
    changed = gate.changed_predictions(everything, current.served, candidate.served, expected)
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
                "current": asdict(current.served[p.text]) if p.text in current.served else None,
                "candidate": asdict(candidate.served[p.text]),
            }
            for p in placements
            if p.where != "skipped"
        ],
    }
