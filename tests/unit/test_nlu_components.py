"""The TF-IDF featurizer and the linear intent classifier, trained and reloaded for real."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer

from practice.nlu import LinearIntentClassifier, TfidfFeaturizer
from practice.nlu.tfidf_featurizer import WORD_PATTERN, token_text

EXAMPLES = [
    ("how much fibre should I eat a day", "ask_fiber_amount"),
    ("fibre per day for adults", "ask_fiber_amount"),
    ("how many grams of fibre", "ask_fiber_amount"),
    ("is gluten bad for my gut", "ask_gluten"),
    ("gluten and celiac disease", "ask_gluten"),
    ("should I stop eating gluten", "ask_gluten"),
    ("what should I write in a food journal", "ask_journal"),
    ("keep a journal of meals and symptoms", "ask_journal"),
    ("journal journal journal for my gut", "ask_journal"),
]


def tokenized(text: str, intent: str | None = None) -> Message:
    """A message with whitespace tokens, as a tokenizer leaves it for the featurizer."""
    data: Dict[str, Any] = {TEXT: text}
    if intent:
        data["intent"] = intent
    message = Message(data=data)
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
    return message


def training_data() -> TrainingData:
    """The examples above as Rasa training data, tokenized."""
    return TrainingData([tokenized(text, intent) for text, intent in EXAMPLES])


def context(node: str) -> ExecutionContext:
    """The execution context a graph node gets."""
    return ExecutionContext(GraphSchema({}), node_name=node)


def featurizer(storage: LocalModelStorage, **config: Any) -> TfidfFeaturizer:
    """An untrained featurizer with the given settings."""
    merged = {**TfidfFeaturizer.get_default_config(), **config}
    return TfidfFeaturizer.create(merged, storage, Resource("tfidf"), context("tfidf"))


def sentence_row(message: Message) -> np.ndarray:
    """A message's sentence features as a dense row."""
    return message.get_sparse_features(TEXT)[1].features.toarray().ravel()


@pytest.fixture()
def storage(tmp_path: Path) -> LocalModelStorage:
    """Model storage in a temporary folder."""
    return LocalModelStorage(tmp_path)


@pytest.mark.parametrize(("analyzer", "ngrams"), [("word", (1, 2)), ("char_wb", (2, 5))])
def test_features_equal_sklearns_tfidf(storage: LocalModelStorage, analyzer: str, ngrams: tuple) -> None:
    """Same numbers as sklearn's TfidfVectorizer with sublinear tf, on the tokens' text."""
    component = featurizer(storage, analyzer=analyzer, min_ngram=ngrams[0], max_ngram=ngrams[1])
    data = training_data()
    component.train(data)
    texts = [text for text, _ in EXAMPLES] + ["Journal and gluten, gluten again"]
    pattern = {"token_pattern": WORD_PATTERN} if analyzer == "word" else {}
    expected = TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, sublinear_tf=True, **pattern)
    expected.fit([token_text(m, use_lemma=True) for m in data.training_examples])
    for text in texts:
        message = tokenized(text)
        component.process([message])
        got = sentence_row(message)
        want = expected.transform([token_text(message, use_lemma=True)]).toarray().ravel()
        assert np.allclose(got, want), text
        assert np.isclose(np.linalg.norm(got), 1.0)


def test_only_sentence_features_and_unknown_words_give_zero_row(storage: LocalModelStorage) -> None:
    """The classifier reads sentence features; a message of unseen words adds no weight."""
    component = featurizer(storage)
    component.train(training_data())
    message = tokenized("blorp zzkq")
    component.process([message])
    sequence, sentence = message.get_sparse_features(TEXT)
    assert sequence is None
    assert sentence.features.nnz == 0


def test_training_data_gets_features(storage: LocalModelStorage) -> None:
    """process_training_data featurizes every example for the classifier after it."""
    component = featurizer(storage)
    data = training_data()
    component.train(data)
    component.process_training_data(data)
    assert all(m.get_sparse_features(TEXT)[1] is not None for m in data.training_examples)


def test_saved_and_loaded_featurizer_gives_the_same_features(storage: LocalModelStorage) -> None:
    """The vocabulary and weights survive saving (as JSON) and loading."""
    component = featurizer(storage, analyzer="char_wb", min_ngram=2, max_ngram=4)
    component.train(training_data())
    config = {**TfidfFeaturizer.get_default_config(), "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 4}
    loaded = TfidfFeaturizer.load(config, storage, Resource("tfidf"), context("tfidf"))
    first, second = tokenized("fibre for my gutt"), tokenized("fibre for my gutt")
    component.process([first])
    loaded.process([second])
    assert np.array_equal(sentence_row(first), sentence_row(second))


def test_untrained_featurizer_adds_nothing(storage: LocalModelStorage) -> None:
    """Loading a model without saved weights leaves messages unfeaturized, not broken."""
    loaded = TfidfFeaturizer.load(TfidfFeaturizer.get_default_config(), storage, Resource("none"), context("x"))
    message = tokenized("hello")
    loaded.process([message])
    assert message.get_sparse_features(TEXT) == (None, None)


@pytest.mark.parametrize("config", [{"analyzer": "char"}, {"min_ngram": 0}, {"min_ngram": 3, "max_ngram": 2}])
def test_bad_featurizer_settings_are_refused(storage: LocalModelStorage, config: Dict[str, Any]) -> None:
    """A typo in config.yml fails at training, not with odd features later."""
    with pytest.raises(InvalidConfigException):
        featurizer(storage, **config)


def classifier(storage: LocalModelStorage, **config: Any) -> LinearIntentClassifier:
    """An untrained classifier with the given settings."""
    merged = {**LinearIntentClassifier.get_default_config(), **config}
    return LinearIntentClassifier.create(merged, storage, Resource("linear"), context("linear"))


def featurized_data(storage: LocalModelStorage) -> TrainingData:
    """Training data with word TF-IDF features on every example."""
    component = featurizer(storage)
    data = training_data()
    component.train(data)
    return component.process_training_data(data)


def test_classifier_uses_the_configured_c_and_solver(storage: LocalModelStorage) -> None:
    """C and solver reach scikit-learn; Rasa's balanced class weights stay."""
    params = classifier(storage, C=100, solver="liblinear").clf.get_params()
    assert (params["C"], params["solver"], params["class_weight"]) == (100.0, "liblinear", "balanced")
    assert classifier(storage).clf.get_params()["C"] == 1.0


def test_classifier_trains_saves_loads_and_predicts(storage: LocalModelStorage) -> None:
    """A reloaded classifier ranks intents exactly as the trained one."""
    data = featurized_data(storage)
    trained = classifier(storage, C=100, solver="liblinear")
    trained.train(data)
    config = {**LinearIntentClassifier.get_default_config(), "C": 100, "solver": "liblinear"}
    loaded = LinearIntentClassifier.load(config, storage, Resource("linear"), context("linear"))
    assert loaded.clf.get_params()["C"] == 100.0
    probe_featurizer = TfidfFeaturizer.load(
        TfidfFeaturizer.get_default_config(), storage, Resource("tfidf"), context("tfidf")
    )
    rankings: List[List[Any]] = []
    for component in (trained, loaded):
        message = tokenized("how much fibre a day")
        probe_featurizer.process([message])
        component.process([message])
        rankings.append([(r["name"], round(r["confidence"], 9)) for r in message.get("intent_ranking")])
    assert rankings[0] == rankings[1]
    assert rankings[0][0][0] == "ask_fiber_amount"


@pytest.mark.parametrize("c", [0, -1, "strong", None])
def test_c_that_is_not_a_positive_number_is_refused(c: Any) -> None:
    """C must be a positive number: a typo fails with a clear message, not a traceback."""
    with pytest.raises(InvalidConfigException):
        LinearIntentClassifier.validate_config({"C": c})
