"""The questions of a message that asks several things, read by a second classifier too.

A question inside a two- or three-part message reads differently from a question asked
alone: short ("and how much?", "does it cost anything"), leaning on the one before it, or
opened by a joining word. The English classifier learnt single, tidy questions (and its
held-out set measures those); `question_parts_en.yml` beside this module holds questions as
they stand inside such messages, written blind and labelled with their answer. A second
classifier (the same model as the Spanish and French one: character n-grams, logistic
regression; practice/nlu/question_model.py) learns them with the NLU data's examples and
reads only the question copies QuestionSplitter made; for each, its probabilities and the
English classifier's are averaged (`weight` is its share), and the result is the question's
ranking. Whole messages never change, so every single question keeps the English
classifier's reading; Spanish and French questions get their own classifier's reading after
this one (ForeignQuestionClassifier runs later). Chosen on the development set's two-part
questions (docs/PIPELINES.md, "questions inside a message").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from practice.nlu.question_model import RANKING_LENGTH, QuestionFileClassifier
from practice.nlu.safety_guard import PART_OF_KEY

QUESTIONS_FILE = Path(__file__).with_name("question_parts_en.yml")


def averaged(first: List[Dict[str, Any]], second: List[Dict[str, Any]], weight: float) -> List[Dict[str, Any]]:
    """Two rankings as one: each intent's probability weighted (`weight` for the second),
    an intent missing from a ranking counted as 0; most probable first."""
    probabilities: Dict[str, float] = {}
    for ranking, share in ((first, 1.0 - weight), (second, weight)):
        for entry in ranking:
            name = entry.get("name")
            if name:
                probabilities[name] = probabilities.get(name, 0.0) + share * float(entry.get("confidence") or 0.0)
    order = sorted(probabilities.items(), key=lambda item: -item[1])[:RANKING_LENGTH]
    return [{"name": name, "confidence": p} for name, p in order]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class PartQuestionClassifier(QuestionFileClassifier):
    """Reads each question copy of a message that asks several things, with the English
    classifier."""

    QUESTIONS_FILE = QUESTIONS_FILE

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The candidate chosen on the development set."""
        return {"C": 100.0, "weight": 0.5}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """A positive C, a weight in [0, 1]."""
        try:
            ok = float(config["C"]) > 0 and 0.0 <= float(config["weight"]) <= 1.0
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise InvalidConfigException("PartQuestionClassifier needs C > 0 and a weight between 0 and 1")

    def process(self, messages: List[Message]) -> List[Message]:
        """Each question copy gets the average of both classifiers' readings."""
        if self._model is None:
            return messages
        weight = float(self._config["weight"])
        for message in messages:
            if message.get(PART_OF_KEY) is None:
                continue
            own = message.get(INTENT_RANKING_KEY) or ([message.get(INTENT)] if message.get(INTENT) else [])
            ranking = averaged(own, self._model.ranking(message.get(TEXT) or ""), weight)
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
