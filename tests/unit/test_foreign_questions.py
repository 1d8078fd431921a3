"""Spanish and French questions read by their own classifier (practice/nlu/foreign_questions.py)."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from practice.nlu.foreign_questions import QUESTIONS_FILE, ForeignQuestionClassifier
from practice.nlu.language_detector import LANGUAGE
from practice.nlu.question_model import QuestionModel, examples_of
from practice.nlu.safety_guard import PART_OF_KEY, SENTENCE_OF_KEY

EXAMPLES: List[Tuple[str, str]] = [
    ("what foods should I avoid", "ask_foods_to_avoid"),
    ("que alimentos debo evitar", "ask_foods_to_avoid"),
    ("quels aliments faut-il eviter", "ask_foods_to_avoid"),
    ("how much fiber a day", "ask_fiber_amount"),
    ("cuanta fibra al dia", "ask_fiber_amount"),
    ("combien de fibres par jour", "ask_fiber_amount"),
    ("who wrote this", "ask_author"),
    ("quien escribio el articulo", "ask_author"),
    ("qui a ecrit l'article", "ask_author"),
]
ENGLISH_READING: Dict[str, Any] = {"name": "ask_causes", "confidence": 0.8}


def _classifier(tmp_path: Any) -> ForeignQuestionClassifier:
    model = QuestionModel.train(EXAMPLES, C=100.0)
    model.save(tmp_path)
    config = {**ForeignQuestionClassifier.get_default_config()}
    return ForeignQuestionClassifier(config, None, None, QuestionModel.load(tmp_path))  # type: ignore[arg-type]


def _message(text: str, language: str | None = None, **data: Any) -> Message:
    message = Message(data={TEXT: text, INTENT: dict(ENGLISH_READING), **data})
    if language:
        message.set(LANGUAGE, language)
    return message


def test_spanish_and_french_get_their_own_reading_and_english_keeps_its_own(tmp_path: Any) -> None:
    classifier = _classifier(tmp_path)
    spanish = _message("¿Cuánta fibra hay que comer al día?", "es")
    french = _message("Quels aliments éviter ?", "fr")
    english = _message("how much fiber a day", "en")
    german = _message("wie viel Ballaststoffe", "de")
    classifier.process([spanish, french, english, german])
    assert spanish.get(INTENT)["name"] == "ask_fiber_amount"
    assert french.get(INTENT)["name"] == "ask_foods_to_avoid"
    assert spanish.get(INTENT_RANKING_KEY)[0] == spanish.get(INTENT)
    assert sum(r["confidence"] for r in spanish.get(INTENT_RANKING_KEY)) <= 1.0 + 1e-6
    assert english.get(INTENT) == ENGLISH_READING and german.get(INTENT) == ENGLISH_READING


def test_the_questions_of_a_spanish_message_are_read_and_its_sentence_copies_are_not(tmp_path: Any) -> None:
    classifier = _classifier(tmp_path)
    original = _message("¿Cuánta fibra al día? ¿Y qué alimentos debo evitar?", "es")
    question = _message("¿Y qué alimentos debo evitar?", **{PART_OF_KEY: 0})
    sentence = _message("¿Cuánta fibra al día?", **{SENTENCE_OF_KEY: 0})
    classifier.process([original, question, sentence])
    assert question.get(INTENT)["name"] == "ask_foods_to_avoid"
    assert sentence.get(INTENT) == ENGLISH_READING


def test_two_intents_rank_as_sklearn_ranks_them() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from practice.nlu.safety_model import prepared

    pairs = EXAMPLES[:6]
    model = QuestionModel.train(pairs, C=100.0)
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    features = vectorizer.fit_transform([prepared(t) for t, _ in pairs])
    reference = LogisticRegression(C=100.0, solver="liblinear", random_state=0).fit(features, [i for _, i in pairs])
    expected = reference.predict_proba(vectorizer.transform([prepared("cuanta fibra")]))[0]
    ranking = {r["name"]: r["confidence"] for r in model.ranking("cuanta fibra")}
    for name, probability in zip(reference.classes_, expected, strict=True):
        assert abs(ranking[name] - probability) < 1e-5


def test_the_saved_model_reads_as_the_trained_one(tmp_path: Any) -> None:
    model = QuestionModel.train(EXAMPLES, C=100.0)
    model.save(tmp_path)
    again = QuestionModel.load(tmp_path)
    for text in ("cuanta fibra", "aliments a eviter", "anything"):
        loaded, trained = again.ranking(text), model.ranking(text)
        assert [r["name"] for r in loaded] == [r["name"] for r in trained]
        assert [r["confidence"] for r in loaded] == pytest.approx([r["confidence"] for r in trained], abs=1e-6)


def test_the_shipped_questions_are_spanish_and_french_examples_of_known_intents() -> None:
    examples = examples_of(load_data(str(QUESTIONS_FILE)))
    assert len(examples) >= 900
    intents = {intent for _, intent in examples}
    assert {"ask_what_is_leaky_gut", "ask_beyond_article", "out_of_scope", "request_coach"} <= intents
