"""Choose the out-of-scope gate (practice/nlu/domain_gate.py) by measurement.

    .venv/bin/python -m bench.domain_gate            # every candidate -> var/bench/domain_gate.json

For each candidate (negatives, features, C) and each setting (everyday-word list size,
threshold) it measures, with the same functions the component uses:
- CV: 5-fold stratified cross-validation on the training examples (positives: every
  intent but out_of_scope; negatives: out_of_scope examples and the candidate's chitchat
  sample): the share of domain examples kept and of negatives caught, out of fold;
- chitchat held-out: chitchat buckets 900-999 (filtered alike), never trained on;
- dev: tests/understanding/dev.jsonl (the development half, read for error analysis), the
  last turn of each case: off_topic caught, every other category kept.
The setting is chosen without the dev set: the one catching most CV negatives and held-out
chitchat while keeping >= 95.5% of the CV domain examples; the dev numbers report only.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np
from rasa.shared.nlu.training_data.loading import load_data
from sklearn.model_selection import StratifiedKFold

from practice.nlu.domain_gate import (
    NOT_DOMAIN_INTENTS,
    OUT_OF_SCOPE,
    chitchat_negatives,
    domain_lexicon,
    fit_gate,
    split_examples,
)

ROOT = Path(__file__).resolve().parents[1]
TRAIN_FILES = [ROOT / "data" / "nlu.yml", ROOT / "data" / "nlu_out_of_scope.yml"]
HOLDOUT = ROOT / "tests" / "nlu" / "holdout.yml"
DEV = ROOT / "tests" / "understanding" / "dev.jsonl"
RESULTS = ROOT / "var" / "bench" / "domain_gate.json"
HELD_OUT_BUCKETS = range(900, 1000)
THRESHOLDS = [0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7]
EVERYDAY = [300, 500, 1000]
MIN_KEPT = 0.955
SEED = 42
CHITCHAT = "(chitchat)"

EVIDENCE = {"C": 1.0, "char": False, "kind": "evidence"}
CANDIDATES = {
    "G1": {"buckets": 100, "char": False, "C": 10.0, "what": "logistic, word 1-2-grams, + chitchat 10%"},
    "G2": {"buckets": 100, "char": True, "C": 10.0, "what": "logistic, G1 + char 3-5-grams"},
    "N0": {**EVIDENCE, "buckets": 0, "what": "per-word evidence, hand-written out_of_scope only"},
    "N1": {**EVIDENCE, "buckets": 100, "what": "per-word evidence, + chitchat 10%"},
    "B1": {**EVIDENCE, "kind": "naive_bayes", "buckets": 100, "what": "naive Bayes (sum of evidence), + chitchat 10%"},
    "B2": {**EVIDENCE, "kind": "naive_bayes", "buckets": 300, "what": "naive Bayes, + chitchat 30%"},
    "B3": {**EVIDENCE, "kind": "naive_bayes", "buckets": 900, "what": "naive Bayes, + chitchat 90%"},
    "N2": {**EVIDENCE, "buckets": 300, "what": "per-word evidence, + chitchat 30%"},
}


def training_pairs() -> List[Tuple[str, str]]:
    """(text, intent) of the training files."""
    pairs = []
    for path in TRAIN_FILES:
        if path.exists():
            pairs += [(m.get("text"), m.get("intent")) for m in load_data(str(path)).intent_examples]
    return pairs


def dev_cases() -> List[Tuple[str, str]]:
    """(category, last turn) of the development half."""
    rows = [json.loads(line) for line in DEV.read_text("utf-8").splitlines() if line.strip()]
    return [(r["category"], r["turns"][-1]) for r in rows]


def fires(scores: Sequence, threshold: float) -> np.ndarray:
    """Where the gate would turn the intent into out_of_scope (None: no content word, never)."""
    return np.array([s is not None and s < threshold for s in scores])


def evaluate(name: str, spec: Dict[str, Any], pairs, held_out_raw, dev):
    """Every setting of one candidate: an everyday-word list size, then a threshold."""
    positives, _, hand_negatives = split_examples(pairs)
    lexicon = domain_lexicon(positives)
    start = time.perf_counter()
    chit = chitchat_negatives(range(spec["buckets"]), lexicon) if spec["buckets"] else []
    load_s = time.perf_counter() - start
    chit_set = set(chit)
    held_out = [t for t in held_out_raw if t not in chit_set]
    items = [(t, i) for t, i in pairs if i not in NOT_DOMAIN_INTENTS or i == OUT_OF_SCOPE]
    items += [(t, CHITCHAT) for t in chit]
    texts = [t for t, _ in items]
    labels = np.array([int(i not in (OUT_OF_SCOPE, CHITCHAT)) for _, i in items])
    hand = np.array([i == OUT_OF_SCOPE for _, i in items])
    dev_texts = [t for _, t in dev]
    off = np.array([c == "off_topic" for c, _ in dev])
    hold = [(m.get("text"), m.get("intent")) for m in load_data(str(HOLDOUT)).intent_examples]
    hold_texts = [t for t, _ in hold]
    hold_oos = np.array([i == OUT_OF_SCOPE for _, i in hold])

    def fit(subset):
        return fit_gate(
            [items[i] for i in subset if items[i][1] != CHITCHAT],
            0,
            n,
            spec["C"],
            spec["char"],
            chitchat=[items[i][0] for i in subset if items[i][1] == CHITCHAT],
            kind=spec.get("kind", "logistic"),
        )

    settings, models = [], {}
    for n in spec.get("everyday", EVERYDAY):
        oof: List[Any] = [None] * len(texts)
        for train_idx, test_idx in StratifiedKFold(5, shuffle=True, random_state=SEED).split(texts, labels):
            model = fit(train_idx)
            for i in test_idx:
                oof[i] = model.score(texts[i])
        start = time.perf_counter()
        model = fit(range(len(items)))
        fit_s = time.perf_counter() - start
        models[n] = (model, fit_s)
        held_scores = [model.score(t) for t in held_out]
        dev_scores = [model.score(t) for t in dev_texts]
        hold_scores = [model.score(t) for t in hold_texts]
        for threshold in THRESHOLDS:
            f = fires(oof, threshold)
            fh = fires(held_scores, threshold)
            fd = fires(dev_scores, threshold)
            settings.append(
                {
                    "everyday": n,
                    "threshold": threshold,
                    "cv_kept": float(np.mean(~f[labels == 1])),
                    "cv_caught": float(np.mean(f[labels == 0])),
                    "cv_hand_caught": float(np.mean(f[hand])),
                    "chitchat_caught": float(np.mean(fh)),
                    "dev_off_caught": float(np.mean(fd[off])),
                    "dev_in_kept": float(np.mean(~fd[~off])),
                    "holdout_kept": float(np.mean(~fires(hold_scores, threshold)[~hold_oos])),
                    "holdout_oos_caught": float(np.mean(fires(hold_scores, threshold)[hold_oos])),
                }
            )
    eligible = [s for s in settings if s["cv_kept"] >= MIN_KEPT]
    chosen = max(eligible, key=lambda s: (s["cv_caught"] + s["chitchat_caught"], s["cv_kept"])) if eligible else None
    lost, us, fit_s, n_features = [], 0.0, 0.0, 0
    if chosen:
        model, fit_s = models[chosen["everyday"]]
        n_features = len(model.weights)
        dev_scores = [model.score(t) for t in dev_texts]
        fd = fires(dev_scores, chosen["threshold"])
        lost = [
            (c, t, s if s is None else round(s, 3))
            for (c, t), s, f in zip(dev, dev_scores, fd, strict=False)
            if (c == "off_topic") != f
        ]
        start = time.perf_counter()
        for _ in range(5):
            for t in dev_texts:
                model.score(t)
        us = (time.perf_counter() - start) / (5 * len(dev_texts)) * 1e6
    return {
        "name": name,
        **spec,
        "negatives": len(hand_negatives) + len(chit),
        "chitchat": len(chit),
        "held_out": len(held_out),
        "features": n_features,
        "chitchat_load_s": load_s,
        "fit_s": fit_s,
        "us_per_message": us,
        "chosen": chosen,
        "settings": settings,
        "dev_errors": lost,
    }


def main(argv: List[str]) -> None:
    """Run the candidates named on the command line (all by default)."""
    names = argv or list(CANDIDATES)
    pairs = training_pairs()
    lexicon = domain_lexicon(split_examples(pairs)[0])
    held_out_raw = chitchat_negatives(HELD_OUT_BUCKETS, lexicon)
    dev = dev_cases()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for name in names:
        r = evaluate(name, CANDIDATES[name], pairs, held_out_raw, dev)
        results[name] = r
        c = r["chosen"]
        print(
            name,
            r["what"],
            f"neg {r['negatives']} feats {r['features']} load {r['chitchat_load_s']:.1f}s "
            f"fit {r['fit_s']:.1f}s {r['us_per_message']:.0f}us",
            file=sys.stderr,
        )
        print("  chosen", c, file=sys.stderr)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=1), "utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
