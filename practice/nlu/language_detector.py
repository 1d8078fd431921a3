"""Which language a visitor wrote in, so a non-English message can get a notice in it.

The assistant answers in English only. This component labels every message with
`language` (an ISO 639-1 code) and `language_confidence`; it leaves the intent alone.
The library is lingua-language-detector (Apache-2.0), whose models ship inside the
wheel: nothing is downloaded, at install or at run time. The choice and the settings
are measured in docs/LANGUAGES.md (`make bench-languages`).

"en" is the answer whenever the evidence is thin, because a wrong notice to an English
visitor costs more than a missing one to a visitor who can still read the English answer:

- messages of at most `short_max_words` words are decided by a small word list
  ("hola", "merci", "danke"...) and are otherwise English when they are plain ASCII
  ("ok", "thx", "k", "nvm" are all n-gram noise to a detector);
- a message with a French elision at the start of a word ("c'est", "l'intestin", "j'ai")
  is French when the detector puts French above English, margin or not ("et l'avocat");
- a longer message gets another language only when the detector's confidence in it is
  at least `min_margin` above its confidence in English ("is dulce de leche too much
  sugar" stays English).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

LANGUAGE = "language"
LANGUAGE_CONFIDENCE = "language_confidence"
DEFAULT_LANGUAGE = "en"

# Words that settle a message of one or two words on their own: greetings, thanks, yes.
# Ambiguous ones go to the language the practice hears most ("si": Spanish). Words a
# visitor writing English also uses ("no", "ok", "hello", "pasta") are not here.
_SHORT_WORDS_BY_LANGUAGE = {
    "es": "hola gracias buenas buenos dias días tardes noches si sí vale claro adios adiós "
    "porfa chido muchas ayuda oye perdon perdón disculpa hablas habla espanol español",
    "fr": "bonjour bonsoir salut merci oui ouais d'accord dacc beaucoup svp stp coucou allo "
    "allô désolé desole sur sûr francais français",
    "de": "hallo danke guten morgen tschüss tschuss bitte ja genau",
    "pt": "obrigado obrigada oi olá tudo bem sim tchau",
    "it": "ciao grazie mille buongiorno buonasera prego",
}
SHORT_WORDS: Mapping[str, str] = {
    word: language for language, words in _SHORT_WORDS_BY_LANGUAGE.items() for word in words.split()
}

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# French elision at the start of a word: c'est, l'intestin, j'ai, d'accord, qu'est, n'a, s'il.
# English contractions put the apostrophe after a word (it's, don't, I'd); "c'mon" is English.
_FRENCH_ELISION = re.compile(r"(?<![\w'])(?:c|l|j|d|qu|n|s|m|t)'(?!mon\b)[^\W\d_]")


def words_of(text: str) -> List[str]:
    """The lower-cased words of a text (letters, with an inner apostrophe kept)."""
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def has_french_elision(text: str) -> bool:
    """Whether a word of the text starts with a French elided article or pronoun (l', j', c'...)."""
    return _FRENCH_ELISION.search(text.lower().replace("\u2019", "'")) is not None


def short_message_language(words: Sequence[str], languages: Sequence[str]) -> Optional[str]:
    """The language the word list gives a short message, or None when it gives none."""
    for word in words:
        language = SHORT_WORDS.get(word)
        if language in languages:
            return language
    return None


def decide(
    text: str,
    words: Sequence[str],
    confidences: Mapping[str, float],
    languages: Sequence[str],
    min_margin: float,
    short_max_words: int,
) -> Tuple[str, float]:
    """The language and its confidence, from the detector's confidences and the rules above.

    `confidences` maps ISO 639-1 codes to the detector's confidence (summing to 1 over
    the configured languages; empty when the detector found nothing to go on).
    """
    if len(words) <= short_max_words:
        listed = short_message_language(words, languages)
        if listed is not None:
            return listed, 1.0
    if (
        "fr" in languages
        and has_french_elision(text)
        and confidences.get("fr", 0.0) > confidences.get(DEFAULT_LANGUAGE, 0.0)
    ):
        return "fr", confidences["fr"]
    if len(words) <= short_max_words and text.isascii():
        return DEFAULT_LANGUAGE, confidences.get(DEFAULT_LANGUAGE, 0.0)
    if not confidences:
        return DEFAULT_LANGUAGE, 0.0
    best = max(confidences, key=confidences.__getitem__)
    english = confidences.get(DEFAULT_LANGUAGE, 0.0)
    if best != DEFAULT_LANGUAGE and confidences[best] - english < min_margin:
        return DEFAULT_LANGUAGE, english
    return best, confidences[best]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LanguageDetector(GraphComponent):
    """Sets `language` and `language_confidence` on every message; the intent is untouched.

    Registered like SafetyGuard (a classifier that is not trained), so it runs only when
    messages are parsed, never over the training data.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The languages told apart, the margin over English, what counts as short.

        `low_accuracy_mode` is lingua's trigram-only mode: faster, much worse on short
        messages (docs/LANGUAGES.md).
        """
        return {
            "languages": ["en", "es", "fr", "de", "pt", "it"],
            "min_margin": 0.1,
            "short_max_words": 2,
            "low_accuracy_mode": False,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        """lingua-language-detector (imported as `lingua`)."""
        return ["lingua"]

    def __init__(self, config: Dict[Text, Any], detector: Any) -> None:
        """Keep the settings and the built lingua detector."""
        self._languages = [str(code).lower() for code in config["languages"]]
        self._min_margin = float(config["min_margin"])
        self._short_max_words = int(config["short_max_words"])
        self._detector = detector

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageDetector":
        """Build the detector once per loaded model, its language models loaded now."""
        return cls(config, build_detector(config))

    def detect(self, text: str) -> Tuple[str, float]:
        """The language of one text and the confidence in it."""
        words = words_of(text)
        if not words:
            return DEFAULT_LANGUAGE, 0.0
        if len(words) <= self._short_max_words and text.isascii() and not has_french_elision(text):
            # Decided without the detector: the word list, else English.
            return decide(text, words, {}, self._languages, self._min_margin, self._short_max_words)
        confidences = {
            value.language.iso_code_639_1.name.lower(): value.value
            for value in self._detector.compute_language_confidence_values(text)
        }
        return decide(text, words, confidences, self._languages, self._min_margin, self._short_max_words)

    def process(self, messages: List[Message]) -> List[Message]:
        """Label each message with its language and the confidence in it."""
        for message in messages:
            language, confidence = self.detect(message.get(TEXT) or "")
            message.set(LANGUAGE, language, add_to_output=True)
            message.set(LANGUAGE_CONFIDENCE, round(float(confidence), 4), add_to_output=True)
        return messages


def build_detector(config: Mapping[Text, Any]) -> Any:
    """A lingua detector for the configured ISO 639-1 codes, every model loaded."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    codes = [str(code).lower() for code in config.get("languages") or []]
    if DEFAULT_LANGUAGE not in codes or len(codes) < 2:
        raise InvalidConfigException(
            f"LanguageDetector: 'languages' must list 'en' and at least one other ISO 639-1 code, got {codes!r}"
        )
    margin = config.get("min_margin")
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 <= margin < 1:
        raise InvalidConfigException(f"LanguageDetector: 'min_margin' must be a number from 0 up to 1, got {margin!r}")
    short = config.get("short_max_words")
    if isinstance(short, bool) or not isinstance(short, int) or short < 0:
        raise InvalidConfigException(f"LanguageDetector: 'short_max_words' must be a whole number >= 0, got {short!r}")
    languages = []
    for code in codes:
        try:
            languages.append(Language.from_iso_code_639_1(IsoCode639_1.from_str(code)))
        except (ValueError, AttributeError) as error:
            raise InvalidConfigException(f"LanguageDetector: {code!r} is not an ISO 639-1 code lingua knows") from error
    # Not `with_preloaded_language_models()`: it loads them on a thread pool, and a detector
    # built that way in a forked Rasa worker (a hot reload after `make retrain`) waits
    # forever for the pool's threads, which do not exist in the child. One detection loads
    # every language's models on the calling thread instead, before any fork.
    builder = LanguageDetectorBuilder.from_languages(*languages)
    if config.get("low_accuracy_mode"):
        builder = builder.with_low_accuracy_mode()
    detector = builder.build()
    detector.compute_language_confidence_values("what is leaky gut, qué es, qu'est-ce que c'est")
    return detector
