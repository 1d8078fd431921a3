"""Compare candidate NLU pipelines on the held-out set and by 5-fold cross-validation.

    .venv/bin/python -m bench.compare_pipelines                 # train, evaluate, write docs
    .venv/bin/python -m bench.compare_pipelines --only A,C      # a subset of candidates
    .venv/bin/python -m bench.compare_pipelines --from-json     # re-render, no training

Each candidate is trained *without* the guards (VocabularyGuard, FallbackClassifier,
SafetyGuard); the guards are then applied offline to the recorded predictions, with the
same functions the components use, so one training run per fold serves every threshold.
Thresholds are chosen on the cross-validation predictions, never on the held-out set.
Raw results go to var/bench/pipelines.json, the write-up to docs/PIPELINES.md.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import hashlib
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
TRAIN_FILE = ROOT / "data" / "nlu.yml"
HOLDOUT_FILE = ROOT / "tests" / "nlu" / "holdout.yml"
NONSENSE_FILE = ROOT / "tests" / "nlu" / "nonsense.txt"
# Written once, never tuned against: reported, never used to choose.
SPACY_MODEL = "build/spacy-en"
RESULTS_JSON = ROOT / "var" / "bench" / "pipelines.json"
REPORT = ROOT / "docs" / "PIPELINES.md"
# Written by hand after reading the numbers; rendered into the report's "Decision" section.
DECISION = ROOT / "bench" / "pipelines_decision.md"
GATE_SECTION = "## Out-of-scope gate"
SEED = 42
FOLDS = 5
SAFETY_INTENTS = {"report_red_flag_symptoms", "express_self_harm", "mention_disordered_eating"}
FALLBACK = "nlu_fallback"

# Threshold grid searched on the cross-validation predictions.
FALLBACK_THRESHOLDS = [0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7]
AMBIGUITY_THRESHOLDS = [0.0, 0.05, 0.1]
KNOWN_SHARES = [0.0, 0.2, 0.34, 0.5]
# Selection rule: the most cautious thresholds costing at most this much CV accuracy.
MAX_ACCURACY_COST = 0.01

SPACY = [{"name": "SpacyNLP", "model": SPACY_MODEL}, {"name": "SpacyTokenizer"}]
WHITESPACE = [{"name": "WhitespaceTokenizer"}]
COUNTS = [
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 4},
]
WIDE_COUNTS = [
    {"name": "CountVectorsFeaturizer", "min_ngram": 1, "max_ngram": 2},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 5},
]
LOGREG = [{"name": "LogisticRegressionClassifier", "random_state": SEED}]


def tfidf(use_lemma: bool) -> List[Dict[str, Any]]:
    """Word 1-2-gram and char 2-5-gram TF-IDF over lemmas or over the words as typed."""
    return [
        {
            "name": "practice.nlu.TfidfFeaturizer",
            "analyzer": analyzer,
            "min_ngram": low,
            "max_ngram": high,
            "use_lemma": use_lemma,
        }
        for analyzer, low, high in (("word", 1, 2), ("char_wb", 2, 5))
    ]


def linear(c: float, solver: str) -> List[Dict[str, Any]]:
    """LogisticRegression with a chosen inverse regularisation strength and solver."""
    return [{"name": "practice.nlu.LinearIntentClassifier", "C": c, "solver": solver, "random_state": SEED}]


def diet(epochs: int) -> List[Dict[str, Any]]:
    """DIET as an intent-only classifier with a fixed seed."""
    return [
        {
            "name": "DIETClassifier",
            "epochs": epochs,
            "entity_recognition": False,
            "constrain_similarities": True,
            "random_seed": SEED,
        }
    ]


CANDIDATES: Dict[str, Tuple[str, List[Dict[str, Any]]]] = {
    "A": ("spaCy lemmas + word & char counts + LogisticRegression", SPACY + COUNTS + LOGREG),
    "B": (
        "whitespace tokens + word & char counts + LogisticRegression",
        WHITESPACE + COUNTS + LOGREG,
    ),
    "C": ("spaCy lemmas + word & char counts + DIET (100 epochs)", SPACY + COUNTS + diet(100)),
    "D": (
        "whitespace tokens + word & char counts + DIET (100 epochs)",
        WHITESPACE + COUNTS + diet(100),
    ),
    "F": (
        "A with LogisticRegression run to convergence (max_iter 1000)",
        SPACY + COUNTS + [{**LOGREG[0], "max_iter": 1000}],
    ),
    "E": (
        "spaCy lemmas + word 1-2-grams & char 1-5-grams + LogisticRegression",
        SPACY + WIDE_COUNTS + LOGREG,
    ),
    "G": (
        "spaCy words + word 1-2-gram & char 2-5-gram TF-IDF + LogisticRegression (C 100, liblinear)",
        SPACY + tfidf(use_lemma=False) + linear(100, "liblinear"),
    ),
    "H": (
        "G with Rasa's fixed LogisticRegression setting (C 1, lbfgs)",
        SPACY + tfidf(use_lemma=False) + linear(1, "lbfgs"),
    ),
    "I": (
        "G over spaCy lemmas instead of the words as typed",
        SPACY + tfidf(use_lemma=True) + linear(100, "liblinear"),
    ),
}


@dataclass
class Prediction:
    """One parsed text: the classifier's top two intents and the share of known words."""

    text: str
    expected: str | None
    intent: str
    confidence: float
    second: float
    known_share: float


@dataclass
class CandidateResult:
    """Everything measured for one candidate pipeline."""

    key: str
    title: str
    data_sha: str = ""
    train_seconds: float = 0.0
    parse_ms_mean: float = 0.0
    parse_ms_p95: float = 0.0
    cv: List[Prediction] = field(default_factory=list)
    holdout: List[Prediction] = field(default_factory=list)
    nonsense: List[Prediction] = field(default_factory=list)


# ------------------------------------------------------------------ data


def read_examples(path: Path) -> List[Tuple[str, str]]:
    """(text, intent) pairs of a Rasa NLU YAML file."""
    from rasa.shared.nlu.training_data.loading import load_data

    return [(m.get("text"), m.get("intent")) for m in load_data(str(path)).intent_examples]


def write_examples(examples: Sequence[Tuple[str, str]], path: Path) -> None:
    """Write (text, intent) pairs as Rasa NLU YAML."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    messages = [Message(data={"text": t, "intent": i}) for t, i in examples]
    RasaYAMLWriter().dump(path, TrainingData(training_examples=messages))


def data_fingerprint() -> str:
    """Short hash of the training and held-out data: results only compare at equal hashes."""
    digest = hashlib.sha256()
    for path in (TRAIN_FILE, HOLDOUT_FILE, NONSENSE_FILE):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def nonsense_lines() -> List[str]:
    """The texts that must give nlu_fallback."""
    return [ln.strip() for ln in NONSENSE_FILE.read_text("utf-8").splitlines() if ln.strip()]


# ------------------------------------------------------------------ vocabulary (as VocabularyGuard)


def key_function(pipeline: List[Dict[str, Any]]) -> Callable[[str], set]:
    """The VocabularyGuard word keys of a text, with the candidate's own tokenizer."""
    from rasa.nlu.constants import SPACY_DOCS, TOKENS_NAMES
    from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
    from rasa.shared.nlu.training_data.message import Message

    from practice.nlu.vocabulary_guard import token_keys

    if pipeline[0]["name"] == "SpacyNLP":
        import spacy

        nlp = spacy.load(ROOT / SPACY_MODEL)
        tokenizer: Any = SpacyTokenizer(SpacyTokenizer.get_default_config())

        def prepare(message: Any) -> None:
            # SpacyNLP lower-cases before spaCy sees the text (case_sensitive: false).
            message.set(SPACY_DOCS["text"], nlp(message.get("text").lower()))

    else:
        tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())

        def prepare(message: Any) -> None:
            return None

    def keys(text: str) -> set:
        message = Message(data={"text": text})
        prepare(message)
        message.set(TOKENS_NAMES["text"], tokenizer.tokenize(message, "text"))
        return token_keys(message)

    return keys


def share(keys: set, vocabulary: set) -> float:
    """Known-word share, exactly as VocabularyGuard computes it."""
    from practice.nlu.vocabulary_guard import known_share

    return known_share(keys, vocabulary)


# ------------------------------------------------------------------ train and parse


def write_config(pipeline: List[Dict[str, Any]], path: Path) -> None:
    """A config.yml with the candidate pipeline and no policies (NLU only)."""
    import yaml

    config = {
        "recipe": "default.v1",
        "language": "en",
        "assistant_id": "pipeline-bench",
        "pipeline": pipeline,
        "policies": [],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), "utf-8")


def train(pipeline: List[Dict[str, Any]], data: Path, workdir: Path, name: str) -> Tuple[Path, float]:
    """Train an NLU model; return its path and the wall-clock seconds it took."""
    from rasa.model_training import train_nlu

    config = workdir / f"{name}.config.yml"
    write_config(pipeline, config)
    started = time.perf_counter()
    model = train_nlu(str(config), str(data), str(workdir), fixed_model_name=name)
    seconds = time.perf_counter() - started
    if model is None:
        raise RuntimeError(f"training {name} failed")
    return Path(model), seconds


def parse(model: Path, texts: Sequence[str]) -> Tuple[List[Dict[str, Any]], List[float]]:
    """Parse every text with a loaded agent; return the results and per-message seconds."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def run() -> Tuple[List[Dict[str, Any]], List[float]]:
        results, seconds = [], []
        for text in texts:
            started = time.perf_counter()
            results.append(await agent.parse_message(text))
            seconds.append(time.perf_counter() - started)
        return results, seconds

    return asyncio.run(run())


def predictions(
    results: Sequence[Dict[str, Any]],
    expected: Sequence[str | None],
    keys: Callable[[str], set],
    vocabulary: set,
) -> List[Prediction]:
    """Keep what the guards need from each parse result."""
    out = []
    for result, want in zip(results, expected, strict=True):
        ranking = result.get("intent_ranking") or [result["intent"]]
        second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
        out.append(
            Prediction(
                text=result["text"],
                expected=want,
                intent=result["intent"]["name"],
                confidence=float(result["intent"]["confidence"]),
                second=float(second),
                known_share=share(keys(result["text"]), vocabulary),
            )
        )
    return out


def evaluate_candidate(key: str, folds: int) -> CandidateResult:
    """Train on all data (timed) and on each fold; parse the held-out, nonsense and fold sets."""
    from sklearn.model_selection import StratifiedKFold

    title, pipeline = CANDIDATES[key]
    result = CandidateResult(key=key, title=title, data_sha=data_fingerprint())
    keys = key_function(pipeline)
    train_examples = read_examples(TRAIN_FILE)
    holdout = read_examples(HOLDOUT_FILE)
    nonsense = nonsense_lines()

    with tempfile.TemporaryDirectory(prefix=f"bench-{key}-") as tmp:
        workdir = Path(tmp)
        log(f"[{key}] training on all {len(train_examples)} examples")
        model, result.train_seconds = train(pipeline, TRAIN_FILE, workdir, "full")
        vocabulary = set().union(*(keys(t) for t, _ in train_examples))
        texts = [t for t, _ in holdout] + nonsense
        parsed, seconds = parse(model, texts)
        result.holdout = predictions(parsed[: len(holdout)], [i for _, i in holdout], keys, vocabulary)
        result.nonsense = predictions(parsed[len(holdout) :], [FALLBACK] * len(nonsense), keys, vocabulary)
        ms = sorted(s * 1000 for s in seconds)
        result.parse_ms_mean = statistics.fmean(ms)
        result.parse_ms_p95 = ms[int(0.95 * (len(ms) - 1))]

        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
        labels = [i for _, i in train_examples]
        for fold, (train_idx, test_idx) in enumerate(splitter.split(train_examples, labels)):
            log(f"[{key}] fold {fold + 1}/{folds}")
            fold_train = [train_examples[i] for i in train_idx]
            fold_test = [train_examples[i] for i in test_idx]
            data = workdir / f"fold{fold}.yml"
            write_examples(fold_train, data)
            model, _ = train(pipeline, data, workdir, f"fold{fold}")
            fold_vocab = set().union(*(keys(t) for t, _ in fold_train))
            parsed, _ = parse(model, [t for t, _ in fold_test])
            result.cv += predictions(parsed, [i for _, i in fold_test], keys, fold_vocab)
    return result


# ------------------------------------------------------------------ the guards, offline


@functools.cache
def forced_intent(text: str) -> str | None:
    """The intent SafetyGuard forces on a text, if any (cached: the grid asks often)."""
    from practice.nlu.safety_guard import load_safety_rules, match_safety_intent

    rules = _RULES.setdefault("rules", load_safety_rules())
    forced = match_safety_intent(rules, text)
    return None if forced is None else forced["intent"]


def shipped_intent(p: Prediction, threshold: float, ambiguity: float, min_share: float) -> str:
    """What the full pipeline answers: VocabularyGuard, FallbackClassifier, SafetyGuard."""
    forced = forced_intent(p.text)
    if forced is not None:
        return forced
    confidence = 0.0 if p.known_share < min_share else p.confidence
    if confidence < threshold or (p.confidence - p.second) < ambiguity:
        return FALLBACK
    return p.intent


_RULES: Dict[str, Any] = {}


def accuracy(preds: Sequence[Prediction], setting: Tuple[float, float, float] | None) -> float:
    """Share right: raw classifier when `setting` is None, else the shipped pipeline."""
    if not preds:
        return 0.0
    if setting is None:
        right = sum(p.intent == p.expected for p in preds)
    else:
        right = sum(shipped_intent(p, *setting) == p.expected for p in preds)
    return right / len(preds)


def macro_f1(preds: Sequence[Prediction]) -> float:
    """Macro F1 of the raw classifier."""
    from sklearn.metrics import f1_score

    return float(f1_score([p.expected for p in preds], [p.intent for p in preds], average="macro", zero_division=0))


def choose_setting(
    preds: Sequence[Prediction],
) -> Tuple[Tuple[float, float, float], List[Dict[str, Any]]]:
    """The most cautious guard setting within MAX_ACCURACY_COST of the best CV accuracy.

    "Most cautious" = highest known-word share, then highest fallback threshold, then
    highest ambiguity threshold.
    """
    grid = []
    for m in KNOWN_SHARES:
        for t in FALLBACK_THRESHOLDS:
            for a in AMBIGUITY_THRESHOLDS:
                setting = (t, a, m)
                shipped = [shipped_intent(p, *setting) for p in preds]
                grid.append(
                    {
                        "threshold": t,
                        "ambiguity": a,
                        "min_known_share": m,
                        "accuracy": sum(s == p.expected for s, p in zip(shipped, preds, strict=True)) / len(preds),
                        "fallback_rate": sum(s == FALLBACK for s in shipped) / len(preds),
                    }
                )
    # Both guards must be on, or nonsense keeps its guess: share > 0 zeroes the confidence
    # of unknown words, threshold > 0 turns that zero into nlu_fallback.
    viable = [g for g in grid if g["min_known_share"] > 0 and g["threshold"] > 0]
    best = max(g["accuracy"] for g in viable)
    eligible = [g for g in viable if g["accuracy"] >= best - MAX_ACCURACY_COST]
    pick = max(eligible, key=lambda g: (g["min_known_share"], g["threshold"], g["ambiguity"]))
    return (pick["threshold"], pick["ambiguity"], pick["min_known_share"]), grid


# ------------------------------------------------------------------ report


def misses(preds: Sequence[Prediction], setting: Tuple[float, float, float]) -> List[str]:
    """Held-out lines the shipped pipeline gets wrong."""
    out = []
    for p in preds:
        got = shipped_intent(p, *setting)
        if got != p.expected:
            out.append(f"| {p.text} | {p.expected} | {got} ({p.intent} {p.confidence:.2f}) |")
    return out


def summarise(result: CandidateResult) -> Dict[str, Any]:
    """The numbers of one candidate at its own chosen thresholds."""
    setting, grid = choose_setting(result.cv)
    safety = [p for p in result.holdout if p.expected in SAFETY_INTENTS]
    return {
        "key": result.key,
        "title": result.title,
        "setting": setting,
        "grid": grid,
        "cv_raw": accuracy(result.cv, None),
        "cv_f1": macro_f1(result.cv),
        "cv_shipped": accuracy(result.cv, setting),
        "holdout_raw": accuracy(result.holdout, None),
        "holdout_shipped": accuracy(result.holdout, setting),
        "safety_raw": sum(p.intent == p.expected for p in safety),
        "safety_shipped": sum(shipped_intent(p, *setting) == p.expected for p in safety),
        "safety_total": len(safety),
        "nonsense_fallback": sum(shipped_intent(p, *setting) == FALLBACK for p in result.nonsense),
        "nonsense_total": len(result.nonsense),
        "train_seconds": result.train_seconds,
        "parse_ms_mean": result.parse_ms_mean,
        "parse_ms_p95": result.parse_ms_p95,
    }


def render(results: List[CandidateResult], rows: List[Dict[str, Any]], chosen: str, decision: str) -> str:
    """docs/PIPELINES.md."""
    n_train = len(read_examples(TRAIN_FILE))
    n_holdout = len(results[0].holdout)
    lines = [
        "# NLU pipeline choice",
        "",
        "Measured by `bench/compare_pipelines.py` (rerun it after large data changes:",
        "`.venv/bin/python -m bench.compare_pipelines`, about 30 minutes on 2 shared cores).",
        f"Training data: `data/nlu.yml` ({n_train} examples). Held-out: `tests/nlu/holdout.yml`",
        f"({n_holdout} phrasings) and `tests/nlu/nonsense.txt`. Cross-validation: {FOLDS}-fold,",
        f"stratified, seed {SEED}. *Raw* = the classifier's top intent; *shipped* = after",
        "VocabularyGuard, FallbackClassifier and SafetyGuard at the thresholds chosen for that",
        f"candidate on the CV predictions (most cautious setting within {MAX_ACCURACY_COST:.0%} of",
        "the best CV accuracy; the held-out set is never used to choose).",
        "",
        f"Data version `{results[0].data_sha}` (hash of the three files); every row below was",
        "measured on it.",
        "",
        "| | pipeline | CV acc raw | CV macro-F1 | CV acc shipped | held-out raw | "
        "held-out shipped | safety held-out (shipped / raw) | "
        "nonsense → fallback | "
        "thresholds (fallback / ambiguity / known share) | train s | parse ms mean / p95 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        t, a, m = r["setting"]
        lines.append(
            f"| {r['key']} | {r['title']} | {r['cv_raw']:.3f} | {r['cv_f1']:.3f} | "
            f"{r['cv_shipped']:.3f} | {r['holdout_raw']:.3f} | {r['holdout_shipped']:.3f} | "
            f"{r['safety_shipped']}/{r['safety_total']} / {r['safety_raw']}/{r['safety_total']} | "
            f"{r['nonsense_fallback']}/{r['nonsense_total']} | {t} / {a} / {m} | "
            f"{r['train_seconds']:.1f} | {r['parse_ms_mean']:.1f} / {r['parse_ms_p95']:.1f} |"
        )
    pick = next(r for r in rows if r["key"] == chosen)
    lines += ["", "## Decision", "", decision.strip(), ""]
    lines += [
        f"## Thresholds for {chosen} on the CV predictions",
        "",
        "Shipped CV accuracy and the share of messages sent to `nlu_fallback`, by fallback",
        "threshold (rows) and VocabularyGuard `min_known_share` (columns), at the chosen",
        f"ambiguity threshold {pick['setting'][1]}.",
        "",
        "| fallback threshold | " + " | ".join(f"share {m}" for m in KNOWN_SHARES) + " |",
        "|---|" + "---|" * len(KNOWN_SHARES),
    ]
    for t in FALLBACK_THRESHOLDS:
        cells = []
        for m in KNOWN_SHARES:
            g = next(
                g
                for g in pick["grid"]
                if g["threshold"] == t and g["min_known_share"] == m and g["ambiguity"] == pick["setting"][1]
            )
            cells.append(f"{g['accuracy']:.3f} ({g['fallback_rate']:.0%} fb)")
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    chosen_result = next(r for r in results if r.key == chosen)
    wrong = misses(chosen_result.holdout, pick["setting"])
    lines += [
        "",
        f"## Held-out phrasings {chosen} gets wrong ({len(wrong)})",
        "",
        "| text | expected | shipped (raw top intent, confidence) |",
        "|---|---|---|",
        *wrong,
        "",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------ persistence and main


def log(message: str) -> None:
    """Progress on stderr."""
    print(message, file=sys.stderr, flush=True)


def save(results: List[CandidateResult]) -> None:
    """Keep raw predictions so the report can be re-rendered without training."""
    RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
    existing = {r.key: r for r in load()} if RESULTS_JSON.exists() else {}
    existing.update({r.key: r for r in results})

    def plain(r: CandidateResult) -> Dict[str, Any]:
        data = r.__dict__.copy()
        for part in PARTS:
            data[part] = [p.__dict__ for p in getattr(r, part)]
        return data

    RESULTS_JSON.write_text(json.dumps([plain(r) for r in existing.values()], indent=1), "utf-8")


PARTS = ("cv", "holdout", "nonsense")


def load() -> List[CandidateResult]:
    """Results saved by an earlier run."""
    out = []
    for raw in json.loads(RESULTS_JSON.read_text("utf-8")):
        parts = {k: [Prediction(**p) for p in raw.pop(k, [])] for k in PARTS}
        raw.pop("sealed", None)  # a part of results saved before it was folded into training
        out.append(CandidateResult(**raw, **parts))
    return sorted(out, key=lambda r: r.key)


def main(argv: Sequence[str] | None = None) -> None:
    """Train and evaluate the candidates, then write docs/PIPELINES.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(CANDIDATES), help="candidates, e.g. A,C")
    parser.add_argument("--from-json", action="store_true", help="re-render saved results")
    parser.add_argument("--chosen", default="A", help="the candidate config.yml uses")
    parser.add_argument("--decision", default=str(DECISION), help="the decision, in Markdown")
    args = parser.parse_args(argv)

    if not args.from_json:
        # A private, disabled training cache: timings must not profit from earlier runs,
        # and the bench must not fill the shared one.
        os.environ["RASA_MAX_CACHE_SIZE"] = "0"
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        os.environ.setdefault("RASA_CACHE_DIRECTORY", tempfile.mkdtemp(prefix="bench-cache-"))
        logging.getLogger().setLevel(logging.WARNING)
        os.chdir(ROOT)
        for key in args.only.split(","):
            save([evaluate_candidate(key, FOLDS)])  # one at a time: a crash keeps the rest

    results = load()
    current = data_fingerprint()
    stale = [r.key for r in results if r.data_sha != current]
    if stale:
        log(f"dropping {stale}: measured on other data than {current}; rerun them")
        results = [r for r in results if r.data_sha == current]
    rows = [summarise(r) for r in results]
    decision_file = Path(args.decision)
    decision = decision_file.read_text("utf-8") if decision_file.exists() else "(not yet written)"
    # The out-of-scope gate's section is measured by bench/domain_gate.py: carried over as it is.
    previous = REPORT.read_text("utf-8") if REPORT.exists() else ""
    gate_section = previous[previous.index(GATE_SECTION) :] if GATE_SECTION in previous else ""
    report = render(results, rows, args.chosen, decision)
    REPORT.write_text(report + ("\n" + gate_section if gate_section else ""), "utf-8")
    for row in rows:
        log(
            f"{row['key']}: cv raw {row['cv_raw']:.3f} shipped {row['cv_shipped']:.3f} | "
            f"holdout raw {row['holdout_raw']:.3f} shipped {row['holdout_shipped']:.3f} | "
            f"safety {row['safety_shipped']}/{row['safety_total']} | nonsense "
            f"{row['nonsense_fallback']}/{row['nonsense_total']} | setting {row['setting']} | "
            f"train {row['train_seconds']:.1f}s parse {row['parse_ms_mean']:.1f}ms"
        )


if __name__ == "__main__":
    main()
