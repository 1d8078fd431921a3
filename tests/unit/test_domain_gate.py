"""DomainGate: trained for real on a small data set, saved as JSON, loaded, and applied."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

import practice.nlu
from practice.nlu import domain_gate
from practice.nlu.domain_gate import (
    DOMAIN_SCORE,
    MODEL_FILE,
    OFF_DOMAIN_KEY,
    DomainGate,
    GateModel,
    chitchat_negatives,
    content_words,
    without_everyday_senses,
    words,
)
from practice.nlu.safety_guard import CLASSIFIER_INTENT_KEY, PART_OF_KEY

DOMAIN = [
    ("what is leaky gut", "ask_what_is_leaky_gut"),
    ("is leaky gut real", "ask_medical_recognition"),
    ("how much fibre should I eat", "ask_fiber_amount"),
    ("fibre per day for adults", "ask_fiber_amount"),
    ("do probiotics help my gut", "ask_probiotics"),
    ("which probiotic foods are good", "ask_probiotics"),
    ("is gluten bad for my gut", "ask_gluten"),
    ("tell me about the coaching", "ask_coaching"),
    ("how do I apply for coaching", "ask_apply"),
    ("hello", "greet"),
    ("thanks", "thank"),
    ("I have crushing chest pain", "report_red_flag_symptoms"),
]
ELSEWHERE = [
    ("how do I change a tyre", "out_of_scope"),
    ("what is the weather in paris", "out_of_scope"),
    ("my bank card was declined", "out_of_scope"),
    ("book a flight to rome", "out_of_scope"),
    ("the mortgage rate on my bank loan", "out_of_scope"),
    ("cheap flight deals for a vacation", "out_of_scope"),
]
SAFETY = "report_red_flag_symptoms"


def context() -> ExecutionContext:
    """The execution context a graph node gets."""
    return ExecutionContext(GraphSchema({}), node_name="gate")


def gate(storage: LocalModelStorage, **config: Any) -> DomainGate:
    """An untrained gate: no chitchat, a short everyday-English list, unless told otherwise."""
    merged = {**DomainGate.get_default_config(), "chitchat_buckets": 0, "everyday_words": 200, **config}
    return DomainGate.create(merged, storage, Resource("gate"), context())


def trained(storage: LocalModelStorage, **config: Any) -> DomainGate:
    """A gate trained on the examples above."""
    component = gate(storage, **config)
    examples = [Message(data={TEXT: t, INTENT: i}) for t, i in DOMAIN + ELSEWHERE]
    component.train(TrainingData(examples))
    return component


def classified(text: str, intent: str, confidence: float = 0.9) -> Message:
    """A message as the intent classifier leaves it."""
    ranking = [{"name": intent, "confidence": confidence}, {"name": "ask_symptoms", "confidence": 0.05}]
    return Message(data={TEXT: text, INTENT: {"name": intent, "confidence": confidence}, INTENT_RANKING_KEY: ranking})


def run(component: DomainGate, text: str, intent: str, confidence: float = 0.9) -> Message:
    """One message through the gate."""
    return component.process([classified(text, intent, confidence)])[0]


@pytest.fixture()
def storage(tmp_path: Path) -> LocalModelStorage:
    """Model storage in a temporary folder."""
    return LocalModelStorage(tmp_path)


def test_registered_with_the_other_components() -> None:
    """config.yml names it practice.nlu.DomainGate."""
    assert practice.nlu.DomainGate is DomainGate


def test_words_split_apostrophes_and_stretched_letters_are_everyday() -> None:
    """ "what's" splits like wordfreq's words; "byeee" is "bye"; numbers carry no topic."""
    assert words("What's up, byeee 2day!") == ["what", "s", "up", "byeee", "2day"]
    everyday = {"what", "s", "up", "bye"}
    assert content_words("what's up byeee 42", everyday) == []
    assert content_words("what's my mortgage", everyday) == ["my", "mortgage"]


def test_evidence_weights_point_the_right_way() -> None:
    """A word seen only in the domain weighs more than 0, one seen only elsewhere less."""
    model = GateModel.fit_evidence(["leaky gut", "gut fibre"], ["bank loan", "bank card", "car"], set())
    assert model.weights["gut"] > 0 > model.weights["bank"]
    assert model.score("my gut") > 0.5 > model.score("my bank")
    assert model.score("zzkq") == 0.0  # no content word was ever seen: no evidence of the domain
    assert model.score("") is None


def test_off_topic_becomes_out_of_scope_with_the_ranking_kept(storage: LocalModelStorage) -> None:
    """Domain score recorded, out_of_scope on top, the classifier's guesses below it."""
    message = run(trained(storage), "my bank mortgage rate", "ask_what_is_leaky_gut")
    assert message.get(INTENT)["name"] == "out_of_scope"
    assert message.get(INTENT)["confidence"] >= 0.5
    names = [r["name"] for r in message.get(INTENT_RANKING_KEY)]
    assert names == ["out_of_scope", "ask_what_is_leaky_gut", "ask_symptoms"]
    assert 0.0 <= message.get(DOMAIN_SCORE) < 0.5
    assert DOMAIN_SCORE in message.as_dict(only_output_properties=True)
    assert message.get(CLASSIFIER_INTENT_KEY) == {"name": "ask_what_is_leaky_gut", "confidence": 0.9}
    confidences = [r["confidence"] for r in message.get(INTENT_RANKING_KEY)]
    assert confidences == sorted(confidences, reverse=True)


def test_fallback_classifier_after_the_gate_keeps_out_of_scope(storage: LocalModelStorage) -> None:
    """The classifier's confident guess below must not make the prediction look ambiguous."""
    message = run(trained(storage), "my bank mortgage rate", "ask_what_is_leaky_gut", 0.99)
    fallback = FallbackClassifier(
        {**FallbackClassifier.get_default_config(), "threshold": 0.35, "ambiguity_threshold": 0.0}
    )
    assert fallback.process([message])[0].get(INTENT)["name"] == "out_of_scope"


def test_domain_questions_pass(storage: LocalModelStorage) -> None:
    """A message with a domain word keeps the classifier's intent."""
    component = trained(storage)
    for text, intent in [("probiotics for my bank holiday", "ask_probiotics"), ("gluten?", "ask_gluten")]:
        message = run(component, text, intent)
        assert message.get(INTENT)["name"] == intent
        assert message.get(DOMAIN_SCORE) > 0.5


@pytest.mark.parametrize(
    "text", ["fiber optic internet in my area?", "how much is a full kitchen gut renovation", "my gut feeling says no"]
)
def test_domain_words_in_everyday_senses_are_no_evidence(storage: LocalModelStorage, text: str) -> None:
    """ "Fiber optic", a gut renovation, a gut feeling: the core words' other senses."""
    assert without_everyday_senses(text)[1]
    message = run(trained(storage), text, "ask_fiber_increase")
    assert message.get(INTENT)["name"] == "out_of_scope"
    assert message.get(DOMAIN_SCORE) < 0.5


@pytest.mark.parametrize(
    "text",
    ["how much fiber a day", "my gut hurts after bread", "should I keep a food journal", "a full gut after every meal"],
)
def test_the_domain_senses_are_kept(text: str) -> None:
    assert without_everyday_senses(text) == (text, False)


@pytest.mark.parametrize(
    "intent", ["report_red_flag_symptoms", "express_self_harm", "mention_disordered_eating", "greet", "thank"]
)
def test_safety_intents_and_dialogue_acts_are_never_overridden(storage: LocalModelStorage, intent: str) -> None:
    """Even with no domain evidence at all, these intents stay as the classifier said."""
    message = run(trained(storage), "bank mortgage flight", intent)
    assert message.get(INTENT)["name"] == intent
    assert message.get(DOMAIN_SCORE) < 0.5


def test_a_follow_up_with_no_domain_evidence_is_kept_and_marked(storage: LocalModelStorage) -> None:
    """The turn policy decides: a follow-up of what was said, or out of scope with nothing said."""
    component = trained(storage)
    away = run(component, "bank mortgage flight", "ask_followup_how")
    assert away.get(INTENT)["name"] == "ask_followup_how"
    assert away.get(OFF_DOMAIN_KEY) is True
    assert run(component, "probiotics for my gut", "ask_followup_how").get(OFF_DOMAIN_KEY) is None


def test_a_dialogue_act_the_vocabulary_guard_zeroed_is_no_finding(storage: LocalModelStorage) -> None:
    """Zero confidence and real words of elsewhere: out of scope; a zeroed safety intent stays."""
    component = trained(storage)
    assert run(component, "bank mortgage", "greet", 0.0).get(INTENT)["name"] == "out_of_scope"
    assert run(component, "bank mortgage", SAFETY, 0.0).get(INTENT)["name"] == SAFETY


def test_messages_without_content_words_are_not_judged(storage: LocalModelStorage) -> None:
    """ "why?" or "what about that" (follow-ups) carry no evidence either way: no score, no change."""
    component = trained(storage)
    message = run(component, "why?", "ask_causes")
    assert message.get(INTENT)["name"] == "ask_causes"
    assert message.get(DOMAIN_SCORE) is None


def test_gibberish_the_vocabulary_guard_zeroed_stays_for_the_fallback(storage: LocalModelStorage) -> None:
    """Confidence 0 and mostly words never seen: left for nlu_fallback; mostly real words: out of scope."""
    component = trained(storage)
    assert run(component, "blorp zzkq", "ask_gluten", 0.0).get(INTENT)["name"] == "ask_gluten"
    assert run(component, "bank mortgage", "ask_gluten", 0.0).get(INTENT)["name"] == "out_of_scope"
    assert run(component, "bank blorp", "out_of_scope", 0.0).get(INTENT)["confidence"] >= 0.5
    assert run(component, "blorp zzkq bank", "out_of_scope", 0.0).get(INTENT)["confidence"] == 0.0
    assert run(component, "bank mortgage", "out_of_scope", 0.2).get(INTENT)["confidence"] >= 0.5
    assert run(component, "bank mortgage", "out_of_scope", 0.99).get(INTENT)["confidence"] == 0.99


def test_saved_as_json_and_loaded_alike(storage: LocalModelStorage) -> None:
    """The model file is JSON (no pickle) and the loaded gate scores the same."""
    component = trained(storage)
    with storage.read_from(Resource("gate")) as directory:
        saved = json.loads((directory / MODEL_FILE).read_text("utf-8"))
        assert set(saved) == {"weights", "bias", "char_ngrams", "everyday", "kind"}
    config = {**DomainGate.get_default_config(), "chitchat_buckets": 0, "everyday_words": 200}
    loaded = DomainGate.load(config, storage, Resource("gate"), context())
    for text in ["my bank card", "leaky gut", "hello there", "zzkq"]:
        assert run(loaded, text, "ask_gluten").get(DOMAIN_SCORE) == run(component, text, "ask_gluten").get(DOMAIN_SCORE)


def test_untrained_gate_passes_messages_through(storage: LocalModelStorage) -> None:
    """Loading a resource that was never written gives a gate that changes nothing."""
    loaded = DomainGate.load(DomainGate.get_default_config(), storage, Resource("none"), context())
    message = run(loaded, "my bank mortgage", "ask_gluten")
    assert message.get(INTENT)["name"] == "ask_gluten"
    assert message.get(DOMAIN_SCORE) is None


def test_chitchat_negatives_drop_domain_lines_deterministically(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines touching the domain (stems or the learned lexicon) never become negatives."""
    lines = ["I love my car", "my gut hurts", "we ate pizza", "see you at the bank", "my fibre intake", "ok"]
    monkeypatch.setattr(domain_gate, "chitchat_utterances", lambda: iter(lines + lines))
    kept = chitchat_negatives(range(1000), lexicon={"fibre"})
    assert kept == ["I love my car", "see you at the bank", "ok"]
    assert chitchat_negatives(range(1000), lexicon={"fibre"}) == kept
    assert chitchat_negatives(range(0), lexicon=set()) == []


def test_training_reads_the_installed_chitchat_package(storage: LocalModelStorage) -> None:
    """With chitchat buckets, negatives come from chitchat-dataset: everyday chat scores low."""
    component = trained(storage, chitchat_buckets=5)
    assert run(component, "my bank mortgage flight", "ask_gluten").get(INTENT)["name"] == "out_of_scope"
    assert run(component, "leaky gut", "ask_what_is_leaky_gut").get(INTENT)["name"] == "ask_what_is_leaky_gut"


@pytest.mark.parametrize(
    "config",
    [{"threshold": 1.5}, {"C": 0}, {"chitchat_buckets": 901}, {"everyday_words": -1}, {"model": "bert"}],
)
def test_bad_settings_are_refused(storage: LocalModelStorage, config: Dict[str, Any]) -> None:
    """Settings outside their range fail with a clear message."""
    with pytest.raises(InvalidConfigException):
        gate(storage, **config)


def test_a_question_of_a_message_about_the_domain_is_judged_with_its_message(storage: LocalModelStorage) -> None:
    """ "which foods help the gut, and which should I keep out of my bank mortgage": the second
    question alone carries no domain word; its message does. Alone, it is still gated."""
    component = trained(storage)
    whole = classified("which probiotics help the gut, and what about my bank mortgage rate", "ask_probiotics")
    question = classified("what about my bank mortgage rate", "ask_foods_to_avoid", 0.6)
    question.set(PART_OF_KEY, 0)
    _, judged = component.process([whole, question])
    assert judged.get(INTENT)["name"] == "ask_foods_to_avoid"
    off_topic_whole = classified("my bank card and my bank mortgage rate", "ask_coaching")
    off_topic_question = classified("what about my bank mortgage rate", "ask_foods_to_avoid", 0.6)
    off_topic_question.set(PART_OF_KEY, 0)
    _, gated = component.process([off_topic_whole, off_topic_question])
    assert gated.get(INTENT)["name"] == "out_of_scope"
