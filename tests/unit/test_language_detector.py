"""LanguageDetector labels each message's language and keeps English visitors English."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from practice.nlu import LanguageDetector
from practice.nlu.language_detector import LANGUAGE, LANGUAGE_CONFIDENCE, decide, words_of


def make(tmp_path: Path, **config: Any) -> LanguageDetector:
    """A detector with the default settings, overridden by `config`."""
    return LanguageDetector.create(
        {**LanguageDetector.get_default_config(), **config},
        LocalModelStorage(tmp_path),
        Resource("language_detector"),
        ExecutionContext(GraphSchema({}), node_name="language_detector"),
    )


@pytest.fixture(scope="module")
def detector(tmp_path_factory: pytest.TempPathFactory) -> LanguageDetector:
    """One detector for the module: its models load once, as in a loaded model."""
    return make(tmp_path_factory.mktemp("storage"))


def parsed(detector: LanguageDetector, text: str) -> Message:
    """A message after the detector's process step."""
    message = Message(data={TEXT: text})
    detector.process([message])
    return message


CASES = [
    # English, including what a detector mistakes for another language
    ("how much fiber should I eat a day?", "en"),
    ("what is leaky gut", "en"),
    ("ok", "en"),
    ("thx", "en"),
    ("k", "en"),
    ("lol", "en"),
    ("no", "en"),
    ("hello", "en"),
    ("nvm", "en"),
    ("sry typo", "en"),
    ("ok thanks", "en"),
    ("is kimchi good for my gut", "en"),
    ("can i eat miso soup every day", "en"),
    ("does sauerkraut help with bloating", "en"),
    ("is jalapeño ok if my stomach is sensitive", "en"),
    ("is dulce de leche too much sugar", "en"),
    ("can i drink cafe con leche", "en"),
    ("my friend Jose said bone broth helps", "en"),
    ("what about pain au chocolat lol", "en"),
    ("my friend D'Angelo said fiber helps", "en"),
    ("I'd like to know if it's ok", "en"),
    ("c'mon lol", "en"),
    ("", "en"),
    ("???", "en"),
    ("12345", "en"),
    # Spanish
    ("hola", "es"),
    ("gracias", "es"),
    ("muchas gracias", "es"),
    ("si", "es"),
    ("cuanta fibra debo comer al dia", "es"),
    ("me duele la panza despues de comer", "es"),
    ("¿qué puedo comer para el intestino?", "es"),
    ("tengo el estómago hinchado todo el tiempo", "es"),
    ("hablas espanol", "es"),
    # French
    ("bonjour", "fr"),
    ("merci", "fr"),
    ("merci beaucoup", "fr"),
    ("oui", "fr"),
    ("j'ai le ventre gonflé tout le temps", "fr"),
    ("combien de fibres par jour", "fr"),
    ("je veux des infos sur le coaching svp", "fr"),
    ("chu constipé depuis des jours", "fr"),
    ("et l'avocat", "fr"),
    ("j'ai faim", "fr"),
    ("le kefir c'est bon pour l'intestin", "fr"),
    # others in the configured set
    ("danke", "de"),
    ("ich habe bauchschmerzen nach dem essen", "de"),
    ("obrigado", "pt"),
    ("estou com a barriga inchada", "pt"),
    ("grazie mille", "it"),
    ("quanta fibra devo mangiare al giorno", "it"),
]


@pytest.mark.parametrize(("text", "language"), CASES)
def test_language(detector: LanguageDetector, text: str, language: str) -> None:
    """Each message gets its language; thin evidence gives English."""
    message = parsed(detector, text)
    assert message.get(LANGUAGE) == language, f"{text!r}: {message.get(LANGUAGE)} ({message.get(LANGUAGE_CONFIDENCE)})"
    assert 0.0 <= message.get(LANGUAGE_CONFIDENCE) <= 1.0


def test_both_keys_are_in_the_parse_output(detector: LanguageDetector) -> None:
    """`language` and `language_confidence` reach the parse result; the intent is untouched."""
    message = Message(data={TEXT: "hola, ¿cuánta fibra necesito?"})
    message.set(INTENT, {"name": "ask_fiber_amount", "confidence": 0.9}, add_to_output=True)
    detector.process([message])
    output = message.as_dict(only_output_properties=True)
    assert output[LANGUAGE] == "es"
    assert output[LANGUAGE_CONFIDENCE] > 0.5
    assert output[INTENT] == {"name": "ask_fiber_amount", "confidence": 0.9}


def test_a_listed_short_word_is_certain(detector: LanguageDetector) -> None:
    """A greeting from the word list has confidence 1; unsure English has the detector's."""
    assert parsed(detector, "merci").get(LANGUAGE_CONFIDENCE) == 1.0
    assert parsed(detector, "ok").get(LANGUAGE_CONFIDENCE) == 0.0


DECISIONS = [
    # (words, confidences, margin, short_max_words) -> language
    ("le kefir", {"en": 0.1, "fr": 0.9}, 0.1, 2, "en"),  # short and ASCII, no listed word
    ("le kéfir", {"en": 0.1, "fr": 0.9}, 0.1, 2, "fr"),  # short but not ASCII: the detector
    ("le kefir est bon", {"en": 0.46, "fr": 0.54}, 0.1, 2, "en"),  # within the margin
    ("le kefir est bon", {"en": 0.2, "fr": 0.8}, 0.1, 2, "fr"),
    ("le kefir est bon", {"en": 0.45, "fr": 0.55}, 0.0, 2, "fr"),  # no margin
    ("buenas", {}, 0.1, 2, "es"),  # the word list
    ("merci", {}, 0.1, 0, "en"),  # word list off, no detector answer
    ("what is it", {"en": 0.6, "es": 0.4}, 0.1, 2, "en"),
    ("et l'avocat", {"en": 0.4, "fr": 0.45}, 0.1, 2, "fr"),  # elision: French above English is enough
    ("et l'avocat", {"en": 0.5, "fr": 0.45}, 0.1, 2, "en"),
    ("c'mon then", {"en": 0.4, "fr": 0.45}, 0.1, 2, "en"),  # not an elision: short ASCII rule
]


@pytest.mark.parametrize(("text", "confidences", "margin", "short", "language"), DECISIONS)
def test_decide(text: str, confidences: Dict[str, float], margin: float, short: int, language: str) -> None:
    """The rules on their own, with made-up detector confidences."""
    got, confidence = decide(text, words_of(text), confidences, ["en", "es", "fr"], margin, short)
    assert got == language
    assert 0.0 <= confidence <= 1.0


def test_a_listed_word_outside_the_languages_is_ignored(tmp_path: Path) -> None:
    """With only English and Spanish configured, "merci" is not French."""
    only = make(tmp_path, languages=["en", "es"])
    assert parsed(only, "merci").get(LANGUAGE) == "en"
    assert parsed(only, "gracias").get(LANGUAGE) == "es"


def test_language_codes_in_capitals_work(tmp_path: Path) -> None:
    """ "EN", "ES" configure the same detector as "en", "es"."""
    upper = make(tmp_path, languages=["EN", "ES"])
    assert parsed(upper, "gracias").get(LANGUAGE) == "es"
    assert parsed(upper, "cuanta fibra debo comer al dia").get(LANGUAGE) == "es"


@pytest.mark.parametrize(
    "config",
    [
        {"languages": ["es", "fr"]},  # no English
        {"languages": ["en"]},  # nothing to tell apart
        {"languages": ["en", "xx"]},  # not a code
        {"min_margin": -0.1},
        {"min_margin": 1},
        {"min_margin": "0.1"},
        {"short_max_words": -1},
        {"short_max_words": 1.5},
    ],
)
def test_bad_settings_are_refused(tmp_path: Path, config: Dict[str, Any]) -> None:
    """A setting that cannot work stops the model from loading, with a clear message."""
    with pytest.raises(InvalidConfigException, match="LanguageDetector"):
        make(tmp_path, **config)


def test_importing_the_package_loads_no_language_model() -> None:
    """Importing practice.nlu costs nothing: lingua is imported in create()."""
    import subprocess
    import sys

    code = "import sys, practice.nlu; print('lingua' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_well_under_a_millisecond_per_message(detector: LanguageDetector) -> None:
    """The median cost of the process step stays well under 1 ms (measured: docs/LANGUAGES.md)."""
    texts: List[str] = [text for text, _ in CASES if text]
    for text in texts:  # warm up
        parsed(detector, text)
    samples = []
    for _ in range(5):
        for text in texts:
            message = Message(data={TEXT: text})
            start = time.perf_counter()
            detector.process([message])
            samples.append(time.perf_counter() - start)
    assert statistics.median(samples) < 0.001


def test_a_forked_worker_can_build_the_detector_again() -> None:
    """A hot reload builds the detector in a forked Rasa worker: that must not hang."""
    import os
    import signal
    import time

    from practice.nlu.language_detector import LanguageDetector, build_detector

    build_detector(LanguageDetector.get_default_config())  # as the server does before forking
    child = os.fork()
    if child == 0:  # pragma: no cover - the child process
        try:
            build_detector(LanguageDetector.get_default_config())
        finally:
            os._exit(0)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, _status = os.waitpid(child, os.WNOHANG)
        if done:
            return
        time.sleep(0.2)
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    raise AssertionError("building the detector in a forked process hung")
