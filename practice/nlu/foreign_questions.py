"""Questions in Spanish and French, read by a classifier of their own.

The English pipeline (features, classifier, gates) is tuned on English and its held-out set;
Spanish and French questions written blind (`questions_es_fr.yml` beside this module) join
the NLU data's English examples in a second classifier, which reads only the messages (and
their questions) the LanguageDetector labelled Spanish or French. Its reading replaces the
English classifier's for those messages; the safety layer runs after it as on any message,
and the dialogue answers a question it placed surely enough in English after a notice in
the visitor's language (practice/dialogue/plan.py, `understood_abroad`). English messages
are never touched, so the English classifier and its held-out accuracy stay as they are.

Character 2-5-grams within words of the text without accents (a "probioticos" shares most
of its n-grams with "probiotics"), logistic regression with C 100: chosen by 5-fold
cross-validation on the Spanish and French examples, with the English ones always in
training (docs/PIPELINES.md, "Spanish and French questions").

Saved as a JSON vocabulary and a compressed numpy array (no pickle).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

import numpy as np
import scipy.special
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from practice.nlu.language_detector import LANGUAGE
from practice.nlu.safety_guard import PART_OF_KEY, SENTENCE_OF_KEY
from practice.nlu.safety_model import prepared

QUESTIONS_FILE = Path(__file__).with_name("questions_es_fr.yml")
VOCABULARY_FILE = "vocabulary.json"
WEIGHTS_FILE = "weights.npz"
RANKING_LENGTH = 10


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, dtype=np.float32)


def examples_of(training_data: TrainingData) -> List[Tuple[str, str]]:
    """(text, intent) of every example with an intent."""
    return [(m.get(TEXT), m.get(INTENT)) for m in training_data.intent_examples if m.get(TEXT) and m.get(INTENT)]


class ForeignQuestionModel:
    """Per intent, the probability that a text asks it."""

    def __init__(self, vectorizer: TfidfVectorizer, intents: Sequence[str], coef: np.ndarray, intercept: np.ndarray):
        """A fitted vectorizer and the logistic regressions' weights, one row per intent."""
        self._vectorizer = vectorizer
        self._intents = list(intents)
        self._coef = coef
        self._intercept = intercept

    @classmethod
    def train(cls, examples: Sequence[Tuple[str, str]], C: float) -> "ForeignQuestionModel":
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
    def load(cls, directory: Path) -> "ForeignQuestionModel":
        """The model `save` wrote."""
        saved = json.loads((directory / VOCABULARY_FILE).read_text())
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as weights:
            vectorizer = _vectorizer()
            vectorizer.vocabulary_ = saved["vocabulary"]
            vectorizer.idf_ = weights["idf"]
            return cls(vectorizer, saved["intents"], weights["coef"], weights["intercept"])


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class ForeignQuestionClassifier(GraphComponent):
    """Gives Spanish and French messages (and their questions) an intent of their own."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The candidate chosen by cross-validation."""
        return {"languages": ["es", "fr"], "C": 100.0}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[ForeignQuestionModel] = None,
    ) -> None:
        """Keep the configuration and, once trained or loaded, the model."""
        self.validate_config(config)
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """Languages as codes, a positive C."""
        try:
            ok = float(config["C"]) > 0 and all(isinstance(code, str) for code in config["languages"])
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise InvalidConfigException("ForeignQuestionClassifier needs C > 0 and a list of language codes")

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """The questions live beside this module, not in the graph's inputs."""
        return hashlib.sha256(QUESTIONS_FILE.read_bytes()).hexdigest()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ForeignQuestionClassifier":
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
    ) -> "ForeignQuestionClassifier":
        """The model saved at training."""
        try:
            with model_storage.read_from(resource) as directory:
                model = ForeignQuestionModel.load(directory)
        except (ValueError, FileNotFoundError, KeyError):
            return cls.create(config, model_storage, resource, execution_context)
        return cls(config, model_storage, resource, model)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit on the Spanish and French questions and the NLU data's English examples."""
        examples = examples_of(load_data(str(QUESTIONS_FILE))) + examples_of(training_data)
        self._model = ForeignQuestionModel.train(examples, C=float(self._config["C"]))
        with self._model_storage.write_to(self._resource) as directory:
            self._model.save(directory)
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training data passes through unchanged."""
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Spanish and French messages and their questions get this classifier's reading
        (the sentence copies the safety reading classifies keep the English one)."""
        if self._model is None:
            return messages
        originals = [m for m in messages if m.get(PART_OF_KEY) is None and m.get(SENTENCE_OF_KEY) is None]
        languages = set(self._config["languages"])
        for message in messages:
            if message.get(SENTENCE_OF_KEY) is not None:
                continue
            owner = message.get(PART_OF_KEY)
            source = message if owner is None else (originals[owner] if owner < len(originals) else None)
            if source is None or source.get(LANGUAGE) not in languages:
                continue
            ranking = self._model.ranking(message.get(TEXT) or "")
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
