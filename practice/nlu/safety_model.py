"""A learned reader of safety signals, beside the patterns and frames.

Patterns and frames catch the phrasings and topics they were written for; visitors who hint
("I've started giving my things away", "I run until I've earned dinner") often use neither.
This model is one logistic regression per safety kind over TF-IDF word 1-2-grams and
character 2-5-grams of the text without accents, trained on blind-written safety examples
(`safety_examples.jsonl` beside this module: positives of each kind and look-alike
negatives, in English, Spanish and French) with the NLU data's article questions as further
negatives. A message is read as the rules read it: every sentence, every pair of neighbours
and the whole; a kind counts when its best passage scores at least the threshold.

Saved as plain JSON (vocabularies, idf weights, coefficients): nothing is unpickled.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Text, Tuple

import numpy as np
import scipy.sparse
import scipy.special
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from practice.nlu.safety_guard import (
    MAX_TEXT_CHARS,
    PART_OF_KEY,
    SAFETY_DOUBT_KEY,
    SAFETY_KINDS,
    SENTENCE_OF_KEY,
    SafetySignal,
    load_sentence_support,
    normalise,
    passages,
    record_signals,
    strip_accents,
)

EXAMPLES_FILE = Path(__file__).with_name("safety_examples.jsonl")
MODEL_FILE = "safety_model.json"
KINDS = ("red_flag", "crisis", "eating_disorder")
INTENT_OF_KIND = {kind: intent for intent, kind in SAFETY_KINDS.items()}
NGRAMS = {"word": (1, 2), "char_wb": (2, 5)}
WORD_PATTERN = r"(?u)\b\w+\b"


# Where an example comes from: a batch written blind for training, or a message of the
# blind safety development set (tests/safety/dev.jsonl; its id is the case's).
TRAINING_BATCH = "training batch"
DEV_SET = "safety dev set"


@dataclass(frozen=True)
class Example:
    """One training text and the safety kinds it carries (none for a negative)."""

    text: str
    kinds: Tuple[str, ...]
    id: str = ""
    source: str = TRAINING_BATCH


def load_examples(path: Path = EXAMPLES_FILE) -> List[Example]:
    """The training examples: one JSON object per line (`id`, `text`, `kinds`, `source`)."""
    examples = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                examples.append(
                    Example(row["text"], tuple(row["kinds"]), row.get("id", ""), row.get("source", TRAINING_BATCH))
                )
    return examples


def examples_of_case(case: Mapping[str, Any]) -> List[Example]:
    """A development-set case as training examples: the turn with the signal, or every
    turn of a negative (ids `<case>` or `<case>/<turn>`)."""
    turns = case["turns"]
    if case["kinds"]:
        return [Example(turns[case["signal_turn"]], tuple(case["kinds"]), case["id"], DEV_SET)]
    if len(turns) == 1:
        return [Example(turns[0], (), case["id"], DEV_SET)]
    return [Example(text, (), f"{case['id']}/{index}", DEV_SET) for index, text in enumerate(turns)]


def negatives_from(training_data: TrainingData) -> List[Example]:
    """Every NLU example of an intent that is not a safety intent: questions about the
    article, dialogue acts, out of scope and the figures of speech of nlu_safety.yml."""
    return [
        Example(m.get(TEXT), ())
        for m in training_data.intent_examples
        if m.get(TEXT) and m.get(INTENT) not in SAFETY_KINDS
    ]


def with_words_of_their_kind(found: Mapping[str, float], passage: str, support: Mapping[str, Any]) -> Dict[str, float]:
    """The kinds whose words occur in the (prepared) text: the sentence readers' rule.

    "i think i might have it tbh" scored 0.92 for a crisis once the model had learnt many
    short, indirect crisis messages; a crisis reading needs at least one word of a crisis
    (die, end, gone, pills, burden ...; `sentence_support` in safety_frames.yml).
    """
    return {kind: p for kind, p in found.items() if kind not in support or support[kind].search(passage)}


def prepared(text: str) -> str:
    """What the model reads: lower case, straight quotes, no accents."""
    return strip_accents(normalise(text))


def _vectorizer(analyzer: str) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer=analyzer,
        ngram_range=NGRAMS[analyzer],
        sublinear_tf=True,
        token_pattern=WORD_PATTERN if analyzer == "word" else None,
        lowercase=False,
        dtype=np.float32,
    )


def _candidates(text: str, by_passage: bool) -> List[str]:
    """What the model reads of a message: the whole, or its passages and the whole."""
    plain = prepared(text[:MAX_TEXT_CHARS])
    return list(dict.fromkeys(passages(plain) + [plain])) if by_passage else [plain]


class _DirectReader:
    """The fitted vectorizers and classifiers' arithmetic without sklearn's per-call checks.

    sklearn's transform, hstack and three predict_proba calls cost ~1.3 ms for one short
    message, nearly all of it validation and sparse-matrix bookkeeping. This reads the same
    n-grams (each vectorizer's own analyzer) and rounds where sklearn rounds: counts and
    1 + log(count) in float32; idf weights, squares and the L2-normalised values in the idf's
    own type (float32 just after fitting, float64 once loaded from JSON), the norm summed in
    float64; then the logistic function of every kind's coef·x + intercept in one product.
    """

    def __init__(self, vectorizers: Sequence[TfidfVectorizer], classifiers: Mapping[str, LogisticRegression]) -> None:
        """Each vectorizer's analyzer, vocabulary, idf and column offset; the kinds'
        coefficients side by side (n_features x kinds) and their intercepts."""
        self._parts = []
        offset = 0
        for vectorizer in vectorizers:
            idf = np.asarray(vectorizer.idf_)
            self._parts.append((vectorizer.build_analyzer(), vectorizer.vocabulary_, idf, offset))
            offset += len(idf)
        self._coef = np.column_stack([np.asarray(c.coef_[0], dtype=np.float64) for c in classifiers.values()])
        self._intercept = np.asarray([float(c.intercept_[0]) for c in classifiers.values()], dtype=np.float64)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Per text (rows) and kind (columns), the probability."""
        return scipy.special.expit(np.stack([self._decision(text) for text in texts]))

    def _decision(self, text: str) -> np.ndarray:
        decision = self._intercept.copy()
        for analyze, vocabulary, idf, offset in self._parts:
            counted = Counter(analyze(text))
            known = counted.keys() & vocabulary.keys()
            if not known:
                continue
            columns = np.array([vocabulary[term] for term in known], dtype=np.intp)
            weights = np.log(np.array([counted[term] for term in known], dtype=np.float32))
            weights += np.float32(1)
            values = weights.astype(idf.dtype) * idf[columns]
            norm = np.sqrt(np.sum(values * values, dtype=np.float64))
            if norm > 0.0:
                normalised = (values.astype(np.float64) / norm).astype(idf.dtype)
                decision += normalised.astype(np.float64) @ self._coef[offset + columns]
        return decision


class SafetyModel:
    """Per safety kind, the probability that a text carries it."""

    def __init__(self, vectorizers: Sequence[TfidfVectorizer], classifiers: Mapping[str, LogisticRegression]) -> None:
        """Fitted vectorizers and one fitted binary classifier per kind."""
        self._vectorizers = list(vectorizers)
        self._classifiers = dict(classifiers)
        self._reader = _DirectReader(self._vectorizers, self._classifiers)

    @classmethod
    def train(
        cls,
        examples: Sequence[Example],
        negatives: Iterable[Example] = (),
        analyzers: Sequence[str] = ("word", "char_wb"),
        C: float = 10.0,
    ) -> "SafetyModel":
        """Fit on `examples` (with their kinds) plus `negatives` (no kind)."""
        every = list(examples) + list(negatives)
        texts = [prepared(e.text) for e in every]
        vectorizers = [_vectorizer(a) for a in analyzers]
        features = scipy.sparse.hstack([v.fit_transform(texts) for v in vectorizers]).tocsr()
        classifiers = {}
        for kind in KINDS:
            labels = np.array([kind in e.kinds for e in every], dtype=int)
            classifier = LogisticRegression(C=C, solver="liblinear", class_weight="balanced", random_state=0)
            classifiers[kind] = classifier.fit(features, labels)
        return cls(vectorizers, classifiers)

    def scores(self, text: str, by_passage: bool = False) -> Dict[str, float]:
        """Per kind, the probability for the whole message, or (`by_passage`) the highest over
        its sentences, pairs of neighbouring sentences and the whole."""
        highest = self._reader.probabilities(_candidates(text, by_passage)).max(axis=0)
        return {kind: float(p) for kind, p in zip(self._classifiers, highest, strict=True)}

    def passage_kinds(self, text: str, threshold: float, support: Mapping[str, Any]) -> Dict[str, float]:
        """The kinds a passage (a sentence, or two neighbours) of a message of several
        sentences scores at least `threshold` for, that passage holding a word of its kind
        (a sentence read alone, "i am not sure if this is enough", can look like a crisis)."""
        found = passages(prepared(text[:MAX_TEXT_CHARS]))
        if len(found) < 2:
            return {}
        kinds: Dict[str, float] = {}
        for passage, row in zip(found, self._reader.probabilities(found), strict=True):
            for kind, p in zip(self._classifiers, row, strict=True):
                if p >= threshold and kind not in kinds and with_words_of_their_kind({kind: p}, passage, support):
                    kinds[kind] = float(p)
        return kinds

    def scores_reference(self, texts: Sequence[str], by_passage: bool = False) -> List[Dict[str, float]]:
        """`scores` of each text through sklearn's own transform and predict_proba, all texts
        in one matrix: the numbers the direct reading must reproduce, kept for
        tests/unit/test_safety_speed.py alone."""
        readings = [_candidates(text, by_passage) for text in texts]
        rows = [candidate for candidates in readings for candidate in candidates]
        features = scipy.sparse.hstack([v.transform(rows) for v in self._vectorizers]).tocsr()
        probabilities = np.column_stack([c.predict_proba(features)[:, 1] for c in self._classifiers.values()])
        ends = np.cumsum([len(candidates) for candidates in readings])
        return [
            {
                kind: float(p)
                for kind, p in zip(self._classifiers, probabilities[end - len(c) : end].max(axis=0), strict=True)
            }
            for c, end in zip(readings, ends, strict=True)
        ]

    def to_dict(self) -> Dict[str, Any]:
        """Everything needed to score, as JSON-able lists."""
        return {
            "vectorizers": [
                {
                    "analyzer": v.analyzer,
                    "vocabulary": {term: int(index) for term, index in v.vocabulary_.items()},
                    "idf": v.idf_.tolist(),
                }
                for v in self._vectorizers
            ],
            "classifiers": {
                kind: {"coef": c.coef_[0].tolist(), "intercept": float(c.intercept_[0])}
                for kind, c in self._classifiers.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SafetyModel":
        """The model `to_dict` described."""
        vectorizers = []
        for entry in data["vectorizers"]:
            vectorizer = _vectorizer(entry["analyzer"])
            vectorizer.vocabulary_ = dict(entry["vocabulary"])
            vectorizer.idf_ = np.asarray(entry["idf"], dtype=np.float64)
            vectorizers.append(vectorizer)
        classifiers = {}
        for kind, entry in data["classifiers"].items():
            classifier = LogisticRegression()
            classifier.classes_ = np.array([0, 1])
            classifier.coef_ = np.asarray([entry["coef"]], dtype=np.float64)
            classifier.intercept_ = np.asarray([entry["intercept"]], dtype=np.float64)
            classifiers[kind] = classifier
        return cls(vectorizers, classifiers)


def examples_fingerprint(path: Path = EXAMPLES_FILE) -> str:
    """Changes whenever the training examples change, so Rasa retrains the model."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class SafetyClassifier(GraphComponent):
    """Adds the safety kinds the model reads in a message to those the rules found.

    Runs right after SafetyGuard, on every message whatever the intent classifier said, and
    reports through the same `safety` list (evidence `model:<probability>`), so the dialogue
    treats a signal the model found like one a pattern found. Chosen on the blind safety
    development sets (bench/safety_model.py, docs/SAFETY.md): the whole message, word and
    character n-grams, C 30, a threshold of 0.8 (0.9 until the blind training batches showed
    most misses between the two; ordinary questions, figures of speech and healthy changes
    still very rarely reach it).
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The candidate chosen on the development sets."""
        return {
            "threshold": 0.8,
            "C": 30.0,
            "analyzers": ["word", "char_wb"],
            "word_of_its_kind": False,
            # At or above this (and below `threshold`) a message is in doubt: no signal, no
            # safety reply, but no coaching offer on that turn (docs/SAFETY.md).
            "doubt_threshold": 0.5,
            # A message of several sentences: a kind also counts when one sentence, or two
            # neighbouring ones, score at least this (a signal buried in a long message);
            # None reads the whole message only.
            "passage_threshold": None,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[SafetyModel] = None,
    ) -> None:
        """Keep the configuration and, once trained or loaded, the model."""
        self.validate_config(config)
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model
        self._support = load_sentence_support() if config.get("word_of_its_kind", False) else {}
        self._passage_support = load_sentence_support() if config.get("passage_threshold") is not None else {}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """A threshold in (0, 1], a positive C, known analyzers."""
        try:
            ok = (
                0.0 < float(config["threshold"]) <= 1.0
                and 0.0 < float(config.get("doubt_threshold", config["threshold"])) <= float(config["threshold"])
                and (config.get("passage_threshold") is None or 0.0 < float(config["passage_threshold"]) <= 1.0)
                and float(config["C"]) > 0
                and set(config["analyzers"]) <= set(NGRAMS)
                and len(config["analyzers"]) > 0
            )
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise InvalidConfigException(
                "SafetyClassifier needs 0 < doubt_threshold <= threshold <= 1, a passage_threshold in (0, 1] or "
                "none, C > 0 and analyzers among " + ", ".join(NGRAMS)
            )

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """The training examples live beside this module, not in the graph's inputs."""
        return examples_fingerprint()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SafetyClassifier":
        """An untrained reader: it adds nothing."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "SafetyClassifier":
        """The model saved at training (JSON, no pickle)."""
        try:
            with model_storage.read_from(resource) as directory:
                saved = json.loads((directory / MODEL_FILE).read_text("utf-8"))
        except (ValueError, FileNotFoundError):
            return cls.create(config, model_storage, resource, execution_context)
        return cls(config, model_storage, resource, SafetyModel.from_dict(saved))

    def train(self, training_data: TrainingData) -> Resource:
        """Fit on the safety examples, with the NLU data's other intents as negatives."""
        self._model = SafetyModel.train(
            load_examples(),
            negatives_from(training_data),
            analyzers=tuple(self._config["analyzers"]),
            C=float(self._config["C"]),
        )
        with self._model_storage.write_to(self._resource) as directory:
            (directory / MODEL_FILE).write_text(json.dumps(self._model.to_dict()), "utf-8")
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training data passes through unchanged."""
        return training_data

    def signals(self, text: str) -> List[SafetySignal]:
        """The kinds the model reads in `text` at or above the threshold."""
        return self.reading(text)[0]

    def reading(self, text: str) -> Tuple[List[SafetySignal], Optional[Dict[str, Any]]]:
        """The signals in `text`, and the doubt when there is none: the likeliest kind and its
        probability, when that reaches `doubt_threshold` but not the threshold."""
        if self._model is None or not text.strip():
            return [], None
        threshold = float(self._config["threshold"])
        scores = self._model.scores(text)
        found = {kind: p for kind, p in scores.items() if p >= threshold}
        passage_threshold = self._config.get("passage_threshold")
        if passage_threshold is not None and len(found) < len(scores):
            # A signal buried in one sentence of a long message: its passage scores high even
            # when the whole message, mostly about other things, does not.
            buried = self._model.passage_kinds(text, float(passage_threshold), self._passage_support)
            found.update({kind: p for kind, p in buried.items() if kind not in found})
        passage = prepared(text[:MAX_TEXT_CHARS]) if found else ""
        found = with_words_of_their_kind(found, passage, self._support)
        signals = [SafetySignal(kind, INTENT_OF_KIND[kind], f"model:{p:.2f}", passage) for kind, p in found.items()]
        likeliest = max(scores, key=scores.__getitem__)
        doubt_threshold = float(self._config.get("doubt_threshold", threshold))
        in_doubt = not signals and doubt_threshold <= scores[likeliest] < threshold
        return signals, ({"kind": likeliest, "probability": round(scores[likeliest], 3)} if in_doubt else None)

    def process(self, messages: List[Message]) -> List[Message]:
        """Report the model's signals of every visitor message (not of the question copies),
        or its doubt (`safety_doubt`) when it reads a kind as likely but not sure."""
        for message in messages:
            if message.get(PART_OF_KEY) is not None or message.get(SENTENCE_OF_KEY) is not None:
                continue
            signals, doubt = self.reading(message.get(TEXT) or "")
            record_signals(message, signals)
            if doubt is not None:
                message.set(SAFETY_DOUBT_KEY, doubt, add_to_output=True)
        return messages
