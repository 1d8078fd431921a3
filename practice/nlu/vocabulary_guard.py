"""Nonsense and other languages fall back instead of getting a confident guess."""

from __future__ import annotations

import json
import re
from typing import Any, Dict, Iterable, List, Set, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

VOCABULARY_FILE = "vocabulary.json"
_RUN_OF_THREE = re.compile(r"([a-z])\1{2,}")
_RUN = re.compile(r"([a-z])\1+")


def token_keys(message: Message) -> Set[str]:
    """The lower-cased words and lemmas of a message's alphabetic tokens."""
    keys: Set[str] = set()
    for token in message.get(TOKENS_NAMES[TEXT]) or []:
        text = token.text.lower()
        if not any(ch.isalpha() for ch in text):
            continue
        keys.add(text)
        lemma = token.get("lemma") or getattr(token, "lemma", None)
        if lemma:
            keys.add(str(lemma).lower())
    return keys


def spellings(key: str) -> Tuple[str, ...]:
    """A word as typed, then with stretched letters cut short: "hellooo" ("helloo", "hello", "helo")."""
    return key, _RUN_OF_THREE.sub(r"\1\1", key), _RUN_OF_THREE.sub(r"\1", key), _RUN.sub(r"\1", key)


def known_share(keys: Iterable[str], vocabulary: Set[str]) -> float:
    """The share of a message's word keys the training data has seen (0 when it has none).

    A word counts as seen when it, or it with stretched letters cut short, was in training:
    "heyyy" and "yess" are greetings and agreements, not nonsense.
    """
    keys = list(keys)
    if not keys:
        return 0.0
    return sum(1 for k in keys if any(s in vocabulary for s in spellings(k))) / len(keys)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class VocabularyGuard(GraphComponent):
    """Zeroes the intent confidence of messages made of words the training data never used.

    A linear model still spreads probability over intents for "blorp zzkq"; this guard lets
    the FallbackClassifier after it turn such messages into `nlu_fallback`.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """`min_known_share`: below this share of known words the message is unknown."""
        return {"min_known_share": 0.2}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: Set[str],
    ) -> None:
        """Keep the configuration and the vocabulary seen in training."""
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._vocabulary = vocabulary

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "VocabularyGuard":
        """A guard with an empty vocabulary, to be trained."""
        return cls(config, model_storage, resource, set())

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "VocabularyGuard":
        """Load the vocabulary persisted at training time."""
        try:
            with model_storage.read_from(resource) as directory:
                words = json.loads((directory / VOCABULARY_FILE).read_text("utf-8"))
        except (ValueError, FileNotFoundError):
            words = []
        return cls(config, model_storage, resource, set(words))

    def train(self, training_data: TrainingData) -> Resource:
        """Collect every word and lemma of the intent examples."""
        vocabulary: Set[str] = set()
        for example in training_data.intent_examples:
            vocabulary |= token_keys(example)
        self._vocabulary = vocabulary
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(json.dumps(sorted(vocabulary)), "utf-8")
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training data passes through unchanged."""
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Zero the confidence of messages with too few known words."""
        threshold = float(self._config["min_known_share"])
        for message in messages:
            intent = message.get(INTENT)
            if not intent:
                continue
            if known_share(token_keys(message), self._vocabulary) < threshold:
                message.set(INTENT, {**intent, "confidence": 0.0}, add_to_output=True)
        return messages
