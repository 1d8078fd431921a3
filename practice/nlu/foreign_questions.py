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

The model and its training: practice/nlu/question_model.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from practice.nlu.language_detector import LANGUAGE
from practice.nlu.question_model import QuestionFileClassifier
from practice.nlu.safety_guard import PART_OF_KEY, SENTENCE_OF_KEY

QUESTIONS_FILE = Path(__file__).with_name("questions_es_fr.yml")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class ForeignQuestionClassifier(QuestionFileClassifier):
    """Gives Spanish and French messages (and their questions) an intent of their own."""

    QUESTIONS_FILE = QUESTIONS_FILE

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The candidate chosen by cross-validation."""
        return {"languages": ["es", "fr"], "C": 100.0}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """Languages as codes, a positive C."""
        try:
            ok = float(config["C"]) > 0 and all(isinstance(code, str) for code in config["languages"])
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise InvalidConfigException("ForeignQuestionClassifier needs C > 0 and a list of language codes")

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
