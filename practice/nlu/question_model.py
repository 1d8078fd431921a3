"""A question classifier of its own, trained on a file of questions beside the NLU data.

`QuestionModel`: character 2-5-grams within words of the text without accents, logistic
regression; saved as a JSON vocabulary and a compressed numpy array (no pickle).
`QuestionFileClassifier`: the graph component around it, trained on its questions file and
the NLU data's examples; each subclass says which messages it reads and how its reading is
used (`ForeignQuestionClassifier`: Spanish and French messages).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

import numpy as np
import scipy.special
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from practice.nlu.safety_model import prepared

VOCABULARY_FILE = "vocabulary.json"
WEIGHTS_FILE = "weights.npz"
RANKING_LENGTH = 10


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, dtype=np.float32)


def examples_of(training_data: TrainingData) -> List[Tuple[str, str]]:
    """(text, intent) of every example with an intent."""
    return [(m.get(TEXT), m.get(INTENT)) for m in training_data.intent_examples if m.get(TEXT) and m.get(INTENT)]


class QuestionModel:
    """Per intent, the probability that a text asks it."""

    def __init__(self, vectorizer: TfidfVectorizer, intents: Sequence[str], coef: np.ndarray, intercept: np.ndarray):
        """A fitted vectorizer and the logistic regressions' weights, one row per intent."""
        self._vectorizer = vectorizer
        self._intents = list(intents)
        self._coef = coef
        self._intercept = intercept

    @classmethod
    def train(cls, examples: Sequence[Tuple[str, str]], C: float) -> "QuestionModel":
        """Fit on (text, intent) pairs."""
        vectorizer = _vectorizer()
        features = vectorizer.fit_transform([prepared(text) for text, _ in examples])
        classifier = LogisticRegression(C=C, solver="liblinear", random_state=0)
        classifier.fit(features, [intent for _, intent in examples])
        coef, intercept = classifier.coef_, classifier.intercept_
        if len(classifier.classes_) == 2:
            # One regression for two intents: its two sides, so the ranking below is sklearn's.
            coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
        return cls(vectorizer, classifier.classes_, coef.astype(np.float32), intercept)

    def ranking(self, text: str) -> List[Dict[str, Any]]:
        """The intents, most probable first, with probabilities that sum to one (as the one
        against the rest regressions of liblinear are normalised by sklearn)."""
        row = self._vectorizer.transform([prepared(text)])
        scores = np.asarray(row @ self._coef.T).ravel() + self._intercept
        probabilities = scipy.special.expit(scores)
        probabilities = probabilities / probabilities.sum()
        order = np.argsort(-probabilities)[:RANKING_LENGTH]
        return [{"name": self._intents[i], "confidence": float(probabilities[i])} for i in order]

    def save(self, directory: Path) -> None:
        """Vocabulary and idf as JSON, weights as a compressed array."""
        vocabulary = {term: int(index) for term, index in self._vectorizer.vocabulary_.items()}
        (directory / VOCABULARY_FILE).write_text(json.dumps({"vocabulary": vocabulary, "intents": self._intents}))
        np.savez_compressed(
            directory / WEIGHTS_FILE, idf=self._vectorizer.idf_, coef=self._coef, intercept=self._intercept
        )

    @classmethod
    def load(cls, directory: Path) -> "QuestionModel":
        """The model `save` wrote."""
        saved = json.loads((directory / VOCABULARY_FILE).read_text())
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as weights:
            vectorizer = _vectorizer()
            vectorizer.vocabulary_ = saved["vocabulary"]
            vectorizer.idf_ = weights["idf"]
            return cls(vectorizer, saved["intents"], weights["coef"], weights["intercept"])


class QuestionFileClassifier(GraphComponent):
    """A classifier trained on `QUESTIONS_FILE` and the NLU data's examples; subclasses
    validate their config and say in `process` which messages it reads."""

    QUESTIONS_FILE: Path

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[QuestionModel] = None,
    ) -> None:
        """Keep the configuration and, once trained or loaded, the model."""
        self.validate_config(config)
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """Nothing to check here; subclasses check their settings."""

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """The questions live beside the module, not in the graph's inputs."""
        return hashlib.sha256(cls.QUESTIONS_FILE.read_bytes()).hexdigest()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "QuestionFileClassifier":
        """An untrained reader: it changes nothing."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "QuestionFileClassifier":
        """The model saved at training."""
        try:
            with model_storage.read_from(resource) as directory:
                model = QuestionModel.load(directory)
        except (ValueError, FileNotFoundError, KeyError):
            return cls.create(config, model_storage, resource, execution_context)
        return cls(config, model_storage, resource, model)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit on the questions file and the NLU data's examples."""
        examples = examples_of(load_data(str(self.QUESTIONS_FILE))) + examples_of(training_data)
        self._model = QuestionModel.train(examples, C=float(self._config["C"]))
        with self._model_storage.write_to(self._resource) as directory:
            self._model.save(directory)
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training data passes through unchanged."""
        return training_data
