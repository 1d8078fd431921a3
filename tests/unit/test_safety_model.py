"""The safety model beside the rules: its examples, its saved form, how its signals merge."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from practice.evaluation.targets import SETS
from practice.nlu.safety_guard import (
    CLASSIFIER_INTENT_KEY,
    PART_OF_KEY,
    SAFETY_KEY,
    SafetySignal,
    load_sentence_support,
    record_signals,
)
from practice.nlu.safety_model import (
    DEV_SET,
    EXAMPLES_FILE,
    KINDS,
    TRAINING_BATCH,
    Example,
    SafetyClassifier,
    SafetyModel,
    examples_fingerprint,
    examples_of_case,
    load_examples,
)

TINY = [
    Example("i want to end it all tonight", ("crisis",)),
    Example("nobody would miss me if i was gone", ("crisis",)),
    Example("i throw up after every meal so i stay thin", ("eating_disorder",)),
    Example("i take laxatives to get the weight off", ("eating_disorder",)),
    Example("there is blood in my stool", ("red_flag",)),
    Example("my poo is black like tar", ("red_flag",)),
    Example("what is leaky gut", ()),
    Example("how much fiber should i eat", ()),
    Example("this bloating is killing me lol", ()),
    Example("i'm dying to try kefir", ()),
]


def _words(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def test_the_training_batches_are_well_formed_and_never_a_test_message() -> None:
    examples = load_examples()
    assert all(e.text.strip() and set(e.kinds) <= set(KINDS) for e in examples)
    batches = [e for e in examples if e.source == TRAINING_BATCH]
    assert len(batches) >= 1400
    for kind in KINDS:
        assert sum(kind in e.kinds for e in batches) >= 200, kind
    assert sum(not e.kinds for e in batches) >= 400
    # Neither a signal nor a negative: a training example equal to a test message would make
    # that message's result an echo of training, not a measure.
    trained = {_words(e.text) for e in batches}
    for path in sorted(p for folder in SETS.values() for p in folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            for turn in json.loads(line)["turns"]:
                assert _words(turn) not in trained, f"{path.name}: a test message is a training example"


def test_the_development_set_is_in_the_examples_as_it_is() -> None:
    from_dev = [e for e in load_examples() if e.source == DEV_SET]
    lines = (SETS["safety"] / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    expected = [e for line in lines for e in examples_of_case(json.loads(line))]
    assert from_dev == expected


def test_the_saved_model_scores_as_the_trained_one() -> None:
    model = SafetyModel.train(TINY, C=30.0)
    again = SafetyModel.from_dict(json.loads(json.dumps(model.to_dict())))
    for text in ("i want to end it all", "blood in the toilet", "what should i eat", "¿Qué es el intestino?"):
        assert again.scores(text) == pytest.approx(model.scores(text))
        assert again.scores(text, by_passage=True) == pytest.approx(model.scores(text, by_passage=True))
    assert set(model.scores("anything")) == set(KINDS)


def test_a_kind_scores_higher_on_its_own_words() -> None:
    model = SafetyModel.train(TINY, C=30.0)
    crisis = model.scores("i want to end it all, nobody would miss me")
    question = model.scores("how much fiber should i eat per day")
    assert crisis["crisis"] > 0.5 > question["crisis"]


def test_the_fingerprint_follows_the_examples(tmp_path: Path) -> None:
    path = tmp_path / "examples.jsonl"
    path.write_text('{"text": "a", "kinds": []}\n', encoding="utf-8")
    first = examples_fingerprint(path)
    path.write_text('{"text": "b", "kinds": []}\n', encoding="utf-8")
    assert examples_fingerprint(path) != first
    assert SafetyClassifier.fingerprint_addon({}) == examples_fingerprint(EXAMPLES_FILE)


@pytest.mark.parametrize(
    "config",
    [
        {"threshold": 0},
        {"threshold": 1.5},
        {"C": 0},
        {"analyzers": ["letters"]},
        {"analyzers": []},
        {"threshold": 0.5, "doubt_threshold": 0.7},
    ],
)
def test_a_bad_setting_is_refused(config: dict) -> None:
    with pytest.raises(InvalidConfigException):
        SafetyClassifier.validate_config({**SafetyClassifier.get_default_config(), **config})


def _message(text: str, intent: str = "ask_apply") -> Message:
    message = Message({TEXT: text})
    message.set(INTENT, {"name": intent, "confidence": 0.8})
    message.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": 0.8}, {"name": "greet", "confidence": 0.1}])
    return message


def test_signals_merge_with_the_rules_and_the_most_urgent_leads() -> None:
    message = _message("how do i apply, and there was blood in the bowl")
    record_signals(message, [SafetySignal("red_flag", "report_red_flag_symptoms", "blood", "blood in the bowl")])
    record_signals(
        message,
        [
            SafetySignal("crisis", "express_self_harm", "model:0.95", "..."),
            SafetySignal("red_flag", "report_red_flag_symptoms", "model:0.91", "..."),
        ],
    )
    assert [s["kind"] for s in message.get(SAFETY_KEY)] == ["crisis", "red_flag"]
    assert message.get(SAFETY_KEY)[1]["pattern"] == "blood"
    assert message.get(INTENT) == {"name": "express_self_harm", "confidence": 1.0}
    assert message.get(CLASSIFIER_INTENT_KEY) == {"name": "ask_apply", "confidence": 0.8}
    ranking = [r["name"] for r in message.get(INTENT_RANKING_KEY)]
    assert ranking == ["express_self_harm", "report_red_flag_symptoms", "ask_apply", "greet"]


def test_no_signal_changes_nothing() -> None:
    message = _message("how do i apply")
    record_signals(message, [])
    assert message.get(SAFETY_KEY) is None
    assert message.get(INTENT)["name"] == "ask_apply"


def test_the_classifier_reports_above_its_threshold_and_skips_question_copies() -> None:
    model = SafetyModel.train(TINY, C=30.0)
    reader = SafetyClassifier({**SafetyClassifier.get_default_config(), "threshold": 0.5}, None, None, model)
    whole = _message("i want to end it all tonight, nobody would miss me")
    copy = _message("i want to end it all tonight, nobody would miss me")
    copy.set(PART_OF_KEY, 0)
    plain = _message("how much fiber should i eat")
    reader.process([whole, copy, plain])
    assert [s["kind"] for s in whole.get(SAFETY_KEY)] == ["crisis"]
    assert whole.get(SAFETY_KEY)[0]["pattern"].startswith("model:")
    assert copy.get(SAFETY_KEY) is None and plain.get(SAFETY_KEY) is None
    untrained = SafetyClassifier(SafetyClassifier.get_default_config(), None, None)
    assert untrained.signals("i want to end it all") == []


def test_a_likely_but_unsure_reading_is_reported_as_a_doubt_not_a_signal() -> None:
    model = SafetyModel.train(TINY, C=30.0)
    text = "i want to end it all tonight"
    probability = max(model.scores(text).values())
    # A threshold just above the reading: no signal, a doubt; just below it: a signal, no doubt.
    above = {
        **SafetyClassifier.get_default_config(),
        "threshold": min(probability + 0.01, 1.0),
        "doubt_threshold": 0.01,
    }
    doubtful = _message(text)
    SafetyClassifier(above, None, None, model).process([doubtful])
    assert doubtful.get(SAFETY_KEY) is None
    assert doubtful.get("safety_doubt")["kind"] == "crisis"
    below = {**SafetyClassifier.get_default_config(), "threshold": probability - 0.01, "doubt_threshold": 0.01}
    sure = _message(text)
    SafetyClassifier(below, None, None, model).process([sure])
    assert sure.get(SAFETY_KEY) and sure.get("safety_doubt") is None
    # Below the doubt threshold: neither.
    calm = _message("how much fiber should i eat")
    SafetyClassifier({**above, "doubt_threshold": above["threshold"]}, None, None, model).process([calm])
    assert calm.get(SAFETY_KEY) is None and calm.get("safety_doubt") is None


def test_a_signal_buried_in_one_sentence_counts_when_its_passage_scores_high() -> None:
    model = SafetyModel.train(TINY, C=30.0)
    buried = (
        "I have been reading about fiber and kefir and oats for weeks. My sister says to try "
        "sourdough and my gym buddy swears by oats. I want to end it all tonight. Also what is "
        "leaky gut and how much fiber should i eat, and which bread is best?"
    )
    whole = max(model.scores(buried).values())
    crisis = model.scores(buried, by_passage=True)["crisis"]
    assert whole < crisis  # the rest of the message dilutes the sentence
    threshold = (whole + crisis) / 2
    config = {**SafetyClassifier.get_default_config(), "threshold": threshold, "doubt_threshold": threshold}
    without = _message(buried)
    SafetyClassifier(config, None, None, model).process([without])
    assert without.get(SAFETY_KEY) is None
    with_passages = _message(buried)
    SafetyClassifier({**config, "passage_threshold": threshold}, None, None, model).process([with_passages])
    assert [s["kind"] for s in with_passages.get(SAFETY_KEY)] == ["crisis"]


def test_a_passage_counts_only_with_a_word_of_its_kind_and_a_single_sentence_never() -> None:
    model = SafetyModel.train(TINY, C=30.0)
    support = load_sentence_support()
    # Read alone, the sentence may score as a crisis, but it holds no crisis word.
    assert (
        model.passage_kinds("It was a long week. i am not sure if this is enough.", 0.0, support).get("crisis") is None
    )
    assert "crisis" in model.passage_kinds("It was a long week. i want to end it all tonight.", 0.0, support)
    assert model.passage_kinds("i want to end it all tonight", 0.0, support) == {}


def test_a_passage_threshold_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(InvalidConfigException):
        SafetyClassifier.validate_config({**SafetyClassifier.get_default_config(), "passage_threshold": 1.5})
