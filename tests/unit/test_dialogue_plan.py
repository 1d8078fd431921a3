"""The turn planner: safety first, every question in order, the offer at its moments."""

from __future__ import annotations

from dataclasses import replace
from typing import List, Optional, Sequence, Tuple

import pytest

from practice.dialogue.plan import (
    FALLBACK,
    History,
    Part,
    Understanding,
    continues_topic,
    is_elliptic,
    is_leading,
    plan_turn,
    stays_on_topic,
)

OFFER = "utter_offer_coaching"


FRESH = History()


def ranked(names: Tuple[str, ...]) -> Tuple[Tuple[str, float], ...]:
    """The classifier's ranking of `names`, best first (the probabilities do not matter here)."""
    return tuple((name, 0.0) for name in names)


def said(intent: str, history: History = FRESH, **kwargs: object) -> List[str]:
    return plan_turn(Understanding(intent=intent, **kwargs), history)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("intent", "history", "expected"),
    [
        # the first answer of a conversation carries the offer
        ("ask_causes", History(), ["utter_ask_causes", OFFER]),
        # later answers: the offer again after every third answer since the last one
        ("ask_causes", History(offered=True, answers_since_offer=1), ["utter_ask_causes"]),
        ("ask_causes", History(offered=True, answers_since_offer=2), ["utter_ask_causes", OFFER]),
        # coaching intent: offered, never twice (the apply answer carries the link itself)
        ("ask_coaching", History(offered=True), ["utter_ask_coaching", OFFER]),
        ("ask_apply", History(), ["utter_ask_apply"]),
        ("request_coach", History(), ["utter_request_coach"]),
        # thanks and goodbye close with the link
        ("thank", History(offered=True), ["utter_closing"]),
        ("goodbye", History(), ["utter_closing"]),
        # a first "didn't get that" helps to rephrase, without the offer; the second hands over
        ("nlu_fallback", History(), ["action_two_strike_fallback"]),
        ("nlu_fallback", History(misses_before=1), ["action_two_strike_fallback", OFFER]),
        # off-topic says what the assistant does, no offer
        ("out_of_scope", History(), ["utter_out_of_scope"]),
        ("bot_challenge", History(), ["utter_bot_challenge"]),
    ],
)
def test_the_offer_comes_at_its_moments(intent: str, history: History, expected: List[str]) -> None:
    assert said(intent, history) == expected


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        (("crisis",), ["utter_express_self_harm"]),
        (("crisis", "red_flag"), ["utter_express_self_harm", "utter_report_red_flag_symptoms"]),
        (("eating_disorder",), ["utter_mention_disordered_eating"]),
    ],
)
def test_a_safety_signal_is_answered_first_and_never_with_the_offer(kinds: Sequence[str], expected: List[str]) -> None:
    # The visitor also asked to apply: the safety reply wins, no link in that turn.
    now = Understanding(intent="ask_apply", parts=(Part("ask_apply"),), safety=tuple(kinds))
    assert plan_turn(now, History()) == expected + ["utter_request_coach_care"]


def test_care_mode_repeats_the_guidance_and_never_offers_again() -> None:
    care = History(care_kinds=("red_flag",), offered=True, answers_since_offer=2)
    assert said("ask_am_i_affected", care) == ["utter_report_red_flag_symptoms"]
    assert said("ask_lifestyle", care) == ["utter_report_red_flag_symptoms", "utter_ask_lifestyle"]
    assert said("thank", care) == ["utter_closing_care"]
    assert said("request_coach", care) == ["utter_report_red_flag_symptoms", "utter_request_coach_care"]
    assert OFFER not in said("ask_causes", care)


def test_two_questions_are_answered_in_the_order_asked_with_one_offer() -> None:
    now = Understanding(intent="ask_causes", parts=(Part("ask_causes"), Part("ask_what_to_do")))
    assert plan_turn(now, History()) == ["utter_ask_causes", "utter_ask_what_to_do", OFFER]


def test_a_not_covered_subject_is_named_instead_of_a_neighbouring_answer() -> None:
    now = Understanding(intent="ask_foods_to_avoid", parts=(Part("ask_foods_to_avoid", "coffee"),))
    assert plan_turn(now, History()) == ["utter_not_covered"]


@pytest.mark.parametrize(
    ("follow_up", "topic", "expected"),
    [
        ("amount", "fiber_increase", "utter_ask_fiber_amount"),
        ("how", "fiber_amount", "utter_ask_fiber_increase"),
        ("source", "probiotics", "utter_ask_probiotics"),
        ("source", "fiber_amount", "utter_ask_foods_to_eat"),
        ("why", "foods_to_avoid", "utter_ask_foods_to_avoid"),
        ("why", "what_is_leaky_gut", "utter_ask_immune_reaction"),
        ("concern", "symptoms", "utter_ask_am_i_affected"),
        ("children", "fiber_amount", "utter_not_covered"),
        ("amount", "probiotics", "utter_not_covered"),
        ("amount", "coaching", "utter_request_coach"),
    ],
)
def test_follow_ups_are_answered_against_the_current_topic(follow_up: str, topic: str, expected: str) -> None:
    history = History(offered=True, topic=topic)
    assert said(f"ask_followup_{follow_up}", history)[0] == expected


def test_a_follow_up_with_no_topic_asks_to_rephrase() -> None:
    assert said("ask_followup_amount", History()) == ["utter_please_rephrase"]


def test_a_follow_up_with_no_word_of_the_domain_and_nothing_before_it_is_out_of_scope() -> None:
    away = Understanding(intent="ask_followup_how", confidence=0.8, off_domain=True)
    assert plan_turn(away, History()) == ["utter_out_of_scope"]
    # After an answer it follows up on that answer ("how do I do that?").
    assert plan_turn(away, History(offered=True, topic="fiber_amount"))[0] == "utter_ask_fiber_increase"


@pytest.mark.parametrize(
    "text, more",
    [
        ("what else?", True),
        ("what else can?", True),
        ("and anything else", True),
        ("what other causes are there?", False),
        ("what else besides stress?", False),
    ],
)
def test_what_else_asks_more_of_the_list_just_given(text: str, more: bool) -> None:
    from practice.dialogue.policy import understanding_of

    now = understanding_of({"text": text, "intent": {"name": "ask_topics", "confidence": 0.6}})
    assert now.more_of_the_same is more
    if more:
        assert plan_turn(now, History(offered=True, topic="causes")) == ["utter_ask_causes"]
        # After the probiotics, more of the foods they are part of.
        assert plan_turn(now, History(offered=True, topic="probiotics")) == ["utter_ask_foods_to_eat"]


@pytest.mark.parametrize(
    "text, read, topic, expected",
    [
        # The classifier repeats the answer by the word the follow-up echoes from it.
        ("and what loosens them?", "ask_what_is_leaky_gut", "what_is_leaky_gut", "utter_ask_causes"),
        ("what makes those gaps appear", "ask_followup_source", "what_is_leaky_gut", "utter_ask_causes"),
        ("ok and the reason it happens?", "ask_immune_reaction", "immune_reaction", "utter_ask_causes"),
        ("ok and what do I replace them with?", "ask_foods_to_avoid", "foods_to_avoid", "utter_ask_foods_to_eat"),
        ("which ones are good instead", "ask_gluten", "gluten", "utter_ask_foods_to_eat"),
        ("ok so what do i do without a test", "ask_diagnosis", "diagnosis", "utter_ask_what_to_do"),
        ("so what can i do at 70", "ask_what_to_do", "ageing", "utter_ask_what_to_do"),
        ("says who?", "out_of_scope", "symptoms", "utter_ask_sources"),
        ("where did she get that from?", "ask_beyond_article", "what_is_leaky_gut", "utter_ask_sources"),
        # what the immune reaction's inflammation means for the visitor
        ("which foods calm that inflammation?", "ask_immune_reaction", "immune_reaction", "utter_ask_foods_to_eat"),
        ("and what diseases is it tied to", "ask_immune_reaction", "immune_reaction", "utter_ask_linked_conditions"),
        ("is that what makes me feel so tired", "ask_immune_reaction", "immune_reaction", "utter_ask_symptoms"),
        ("how do i bring it down", "ask_immune_reaction", "immune_reaction", "utter_ask_what_to_do"),
        # after the author and after the sources themselves
        ("what did she base it on", "out_of_scope", "author", "utter_ask_sources"),
        ("is any of that peer reviewed", "out_of_scope", "sources", "utter_ask_sources"),
        # Not after an answer it does not follow: the reading stays.
        ("what do I replace them with?", "ask_foods_to_avoid", "exercise", "utter_ask_foods_to_avoid"),
        # Another topic the classifier read keeps its reading.
        ("what makes them get loose, stress?", "ask_lifestyle", "what_is_leaky_gut", "utter_ask_lifestyle"),
    ],
)
def test_a_follow_up_that_asks_the_next_question_gets_its_answer_not_the_same_again(
    text: str, read: str, topic: str, expected: str
) -> None:
    from practice.dialogue.policy import understanding_of

    now = understanding_of({"text": text, "intent": {"name": read, "confidence": 0.7}})
    assert plan_turn(now, History(offered=True, topic=topic)) == [expected]


@pytest.mark.parametrize(
    "text, intent",
    [
        ("is she a real dietitian?", "ask_author"),
        ("is gretchen an actual person", "ask_author"),
        ("are you a real person?", "bot_challenge"),
        ("is she real or are you a bot", "bot_challenge"),
    ],
)
def test_a_real_person_question_about_her_asks_about_the_author(text: str, intent: str) -> None:
    from practice.dialogue.policy import understanding_of

    assert understanding_of({"text": text, "intent": {"name": "bot_challenge", "confidence": 0.9}}).intent == intent


@pytest.mark.parametrize(
    "text, read, intent",
    [
        # whether it is inherited: the causes answer says genes may play a role
        ("is it genetic? my dad had it", "ask_am_i_affected", "ask_causes"),
        ("is this something you're born with?", "bot_challenge", "ask_causes"),
        ("does it run in the family", "nlu_fallback", "ask_causes"),
        # another topic read from its own words stays; a genetic test is no question of causes
        ("is leaky gut linked to genetic diseases?", "ask_linked_conditions", "ask_linked_conditions"),
        ("should I get a genetic test for it", "nlu_fallback", "nlu_fallback"),
        # the causes asked inside a statement, not small talk or a goodbye
        ("nobody really knows what causes it, right?", "out_of_scope", "ask_causes"),
        ("it's all caused by sugar, isn't it?", "goodbye", "ask_causes"),
        ("what causes inflation", "out_of_scope", "out_of_scope"),
        # whether the visitor has it, whatever the gate made of a typo
        ("how can i tell if i personaly have it", "out_of_scope", "ask_am_i_affected"),
        ("can i get it fixed if i have it checked at the garage", "out_of_scope", "out_of_scope"),
    ],
)
def test_a_question_asked_in_other_words_gets_its_answer(text: str, read: str, intent: str) -> None:
    from practice.dialogue.policy import understanding_of

    assert understanding_of({"text": text, "intent": {"name": read, "confidence": 0.6}}).intent == intent


@pytest.mark.parametrize(
    "text, read, intent",
    [
        ("can your dietitian help me figure out which fibers", "ask_fiber_ibs", "ask_coaching"),
        ("could coaching help me go gluten free", "ask_gluten", "ask_coaching"),
        ("can gretchen help me with stress stuff too or just food", "ask_lifestyle", "ask_coaching"),
        ("is there someone who could guide me through this personally?", "nlu_fallback", "ask_coaching"),
        # The price stays the price; a question that names no coach keeps its reading.
        ("could the coach help me and what does it cost", "ask_coaching", "request_coach"),
        ("can fiber help me with bloating", "ask_fiber_increase", "ask_fiber_increase"),
        # A safety signal is never turned into a coaching question.
        ("can your dietitian help me stop eating for good", "mention_disordered_eating", "mention_disordered_eating"),
    ],
)
def test_asking_whether_the_coach_would_help_is_the_coaching_question(text: str, read: str, intent: str) -> None:
    from practice.dialogue.policy import understanding_of

    assert understanding_of({"text": text, "intent": {"name": read, "confidence": 0.8}}).intent == intent


def test_what_is_it_first_of_several_questions_asks_what_leaky_gut_is() -> None:
    from practice.dialogue.policy import understanding_of

    questions = [
        {"text": "what is it", "intent": "ask_followup_source", "confidence": 0.5},
        {"text": "what causes it", "intent": "ask_causes", "confidence": 0.9},
    ]
    now = understanding_of({"text": "what is it, what causes it", "intent": {"name": "ask_causes"}, "parts": questions})
    assert [p.intent for p in now.parts] == ["ask_what_is_leaky_gut", "ask_causes"]
    # Second, it stays as the classifier read it.
    now = understanding_of({"text": "x", "intent": {"name": "ask_causes"}, "parts": questions[::-1]})
    assert [p.intent for p in now.parts] == ["ask_causes", "ask_followup_source"]


def test_a_leading_question_read_as_a_dialogue_act_gets_its_article_answer() -> None:
    # "you don't really need that much fiber, do you?": the tag reads as a "no".
    scores = (("deny", 0.5), ("ask_fiber_amount", 0.3), ("goodbye", 0.1))
    now = Understanding(intent="deny", confidence=0.5, scores=scores, leading=True)
    assert plan_turn(now, History(offered=True))[:2] == ["utter_premise", "utter_ask_fiber_amount"]
    # Out of scope stays out of scope ("my gut tells me to sell my shares, should i?").
    away = replace(now, intent="out_of_scope", scores=(("out_of_scope", 0.6), ("ask_what_to_do", 0.3)))
    assert plan_turn(away, History(offered=True)) == ["utter_out_of_scope"]


def test_an_unsure_elliptic_message_continues_the_current_topic() -> None:
    history = History(offered=True, topic="linked_conditions")
    now = Understanding(intent="nlu_fallback", confidence=0.35, elliptic=True)
    assert plan_turn(now, history) == ["utter_ask_linked_conditions"]


@pytest.mark.parametrize(
    ("intent", "confidence", "question", "expected"),
    [
        # "which nuts exactly?", "why not?": questions read as "yes" or a request for topics.
        ("affirm", 0.74, True, ["utter_ask_foods_to_eat"]),
        ("ask_topics", 0.8, True, ["utter_ask_foods_to_eat"]),
        # "ok then": a plain acknowledgement stays one.
        ("affirm", 0.9, False, ["utter_topics"]),
        # "how long does healing take?": the classifier is sure the article lacks it.
        ("ask_beyond_article", 0.98, True, ["utter_ask_beyond_article"]),
        ("ask_beyond_article", 0.5, True, ["utter_ask_foods_to_eat"]),
        # "should my kids get tested too?": a follow-up intent resolves against the topic.
        ("ask_followup_children", 0.55, True, ["utter_not_covered"]),
    ],
)
def test_an_elliptic_question_the_classifier_cannot_place_continues_the_topic(
    intent: str, confidence: float, question: bool, expected: List[str]
) -> None:
    history = History(offered=True, topic="foods_to_eat")
    now = Understanding(intent=intent, confidence=confidence, elliptic=True, question=question)
    assert plan_turn(now, history) == expected


def test_an_elliptic_follow_up_about_a_pregnancy_is_not_given_the_adult_answer_again() -> None:
    history = History(offered=True, topic="fiber_amount")
    now = Understanding(
        intent="ask_beyond_article", confidence=0.49, elliptic=True, question=True, situation=("pregnancy",)
    )
    assert plan_turn(now, history) == ["utter_situation_pregnancy", "utter_ask_beyond_article"]


@pytest.mark.parametrize(
    ("situation", "first"),
    [
        (("pregnancy",), "utter_situation_pregnancy"),
        (("allergy",), "utter_situation_allergy"),
        (("medication",), "utter_situation_medication"),
    ],
)
def test_the_visitors_situation_is_acknowledged_before_the_answer(situation: Sequence[str], first: str) -> None:
    assert said("ask_foods_to_eat", situation=tuple(situation))[:2] == [first, "utter_ask_foods_to_eat"]


def test_a_child_is_never_given_the_adult_fiber_amount() -> None:
    assert said("ask_fiber_amount", situation=("child",)) == ["utter_situation_child"]


def test_a_message_not_in_english_gets_the_notice_and_no_link() -> None:
    assert said("ask_causes", language="es", confidence=0.4) == ["utter_language_notice"]
    assert said("nlu_fallback", language="fr", confidence=0.9) == ["utter_language_notice"]
    assert said("ask_causes", language="it", confidence=0.9) == ["utter_language_notice"]
    spanish_crisis = Understanding(intent="express_self_harm", safety=("crisis",), language="es")
    assert plan_turn(spanish_crisis, History()) == ["utter_express_self_harm", "utter_language_notice_care"]


@pytest.mark.parametrize("intent", ["ask_probiotics", "ask_followup_what", "nlu_fallback", "thank"])
def test_a_later_message_not_in_english_gets_the_guidance_again(intent: str) -> None:
    care = History(care_kinds=("eating_disorder",))
    now = Understanding(intent=intent, language="fr")
    assert plan_turn(now, care) == ["utter_mention_disordered_eating", "utter_language_notice_care"]


@pytest.mark.parametrize(
    ("text", "elliptic"),
    [
        ("which ones?", True),
        ("days or weeks?", True),
        ("before or after eating?", True),
        ("now what?", True),
        ("and after that?", True),
        ("skin stuff too?", True),
        ("what is leaky gut", False),
        ("how much fiber do I need every day for my gut health", False),
    ],
)
def test_elliptic_messages_are_recognised(text: str, elliptic: bool) -> None:
    assert is_elliptic(text) is elliptic


def test_a_sure_dialogue_act_is_understood_whatever_language_the_detector_saw() -> None:
    assert said("thank", History(offered=True), language="it", confidence=0.95) == ["utter_closing"]
    assert said("thank", History(offered=True), language="it", confidence=0.5) == ["utter_language_notice"]


def test_a_later_question_of_a_message_follows_up_on_the_earlier_one() -> None:
    now = Understanding(intent="ask_fiber_amount", parts=(Part("ask_fiber_amount"), Part("ask_followup_how")))
    assert plan_turn(now, History()) == ["utter_ask_fiber_amount", "utter_ask_fiber_increase", OFFER]


def test_a_follow_up_that_stands_on_its_own_is_answered_without_a_topic() -> None:
    assert said("ask_followup_source", History(offered=True)) == ["utter_ask_foods_to_eat"]


def test_an_elliptic_question_the_classifier_reads_as_the_same_topic_asks_something_of_it() -> None:
    history = History(offered=True, topic="causes")
    now = Understanding(intent="ask_causes", confidence=0.9, elliptic=True, follow_up="how")
    assert plan_turn(now, history) == ["utter_ask_what_to_do"]


@pytest.mark.parametrize(
    ("intent", "confidence", "ranking", "words"),
    [
        ("nlu_fallback", 0.35, ("nlu_fallback", "ask_exercise", "ask_lifestyle"), 4),
        ("out_of_scope", 0.7, ("out_of_scope", "ask_foods_to_eat", "greet"), 3),
        ("ask_lifestyle", 0.45, ("ask_lifestyle", "ask_exercise", "ask_topics"), 3),
    ],
)
def test_a_short_message_the_classifier_cannot_place_continues_the_topic(
    intent: str, confidence: float, ranking: Tuple[str, ...], words: int
) -> None:
    topic = ranking[1][len("ask_") :]
    now = Understanding(intent=intent, confidence=confidence, scores=ranked(ranking), words=words)
    assert continues_topic(now, topic)
    assert plan_turn(now, History(offered=True, topic=topic)) == [f"utter_ask_{topic}"]


@pytest.mark.parametrize(
    ("intent", "confidence", "ranking", "words", "topic"),
    [
        # A sure guess of another topic: "how much fiber then?" after the fiber increase.
        (
            "ask_fiber_amount",
            0.87,
            ("ask_fiber_amount", "ask_fiber_increase", "ask_followup_amount"),
            4,
            "fiber_increase",
        ),
        # The topic is not among the three best guesses.
        ("nlu_fallback", 0.35, ("nlu_fallback", "ask_gluten", "greet"), 4, "exercise"),
        # Too long to lean on the previous answer.
        ("nlu_fallback", 0.35, ("nlu_fallback", "ask_exercise", "greet"), 12, "exercise"),
        # A dialogue act or a follow-up intent keeps its own handling.
        ("thank", 0.5, ("thank", "ask_exercise", "greet"), 2, "exercise"),
        ("ask_followup_how", 0.8, ("ask_followup_how", "ask_causes", "greet"), 4, "causes"),
        # No topic yet.
        ("nlu_fallback", 0.35, ("nlu_fallback", "ask_exercise", "greet"), 4, None),
    ],
)
def test_a_message_that_says_what_it_asks_is_not_read_as_the_topic(
    intent: str, confidence: float, ranking: Tuple[str, ...], words: int, topic: Optional[str]
) -> None:
    now = Understanding(intent=intent, confidence=confidence, scores=ranked(ranking), words=words)
    assert not continues_topic(now, topic)


@pytest.mark.parametrize(
    ("text", "leading"),
    [
        ("fiber doesn't really matter much for the gut, right?", True),
        ("it isn't linked to anything serious, is it?", True),
        ("probiotics are useless, aren't they", True),
        ("surely sugar is fine", True),
        ("is there a test?", False),
        ("how much fiber do I need", False),
    ],
)
def test_leading_and_negated_questions_are_recognised(text: str, leading: bool) -> None:
    assert is_leading(text) is leading


def test_a_leading_question_gets_the_article_not_a_bare_yes_or_no() -> None:
    now = Understanding(intent="ask_medical_recognition", leading=True)
    assert plan_turn(now, History(offered=True)) == ["utter_premise", "utter_ask_medical_recognition"]
    closing = Understanding(intent="thank", leading=True)
    assert plan_turn(closing, History(offered=True)) == ["utter_closing"]


def test_a_short_follow_up_keeps_the_topic_unless_another_reading_is_far_better() -> None:
    # "what would I even write in it?" after the journal: read as not covered at 0.41.
    scores = (("ask_beyond_article", 0.41), ("ask_what_is_leaky_gut", 0.2), ("ask_journal", 0.12))
    now = Understanding(intent="ask_beyond_article", confidence=0.41, scores=scores, words=7)
    assert stays_on_topic(now, "journal")
    assert plan_turn(now, History(offered=True, topic="journal")) == ["utter_ask_journal"]
    # "ok, and what causes it?" after the symptoms: the classifier is sure of another topic.
    sure = Understanding(
        intent="ask_causes", confidence=0.9, scores=(("ask_causes", 0.9), ("ask_symptoms", 0.05)), words=5
    )
    assert not stays_on_topic(sure, "symptoms")
    # "ok she's a dietitian. what would she tell me to eat?" after the author: unsure, but it
    # says what it asks; only an elliptic message ("and what about that?") leans on the topic.
    says = Understanding(
        intent="ask_foods_to_eat", confidence=0.45, scores=(("ask_foods_to_eat", 0.45), ("ask_author", 0.3)), words=10
    )
    assert not stays_on_topic(says, "author")
    assert stays_on_topic(replace(says, elliptic=True), "author")


@pytest.mark.parametrize(
    "now",
    [
        # Too long to lean on the previous answer.
        Understanding(
            intent="ask_gluten", confidence=0.4, scores=(("ask_gluten", 0.4), ("ask_journal", 0.3)), words=13
        ),
        # A sure goodbye, a safety signal, another language, several questions.
        Understanding(intent="goodbye", confidence=0.95, scores=(("goodbye", 0.95),), words=2),
        Understanding(intent="ask_gluten", scores=(("ask_gluten", 0.4),), words=4, safety=("crisis",)),
        Understanding(intent="ask_gluten", scores=(("ask_gluten", 0.4),), words=4, language="es"),
        Understanding(intent="ask_gluten", scores=(("ask_gluten", 0.4),), words=4, parts=(Part("ask_gluten"),)),
    ],
)
def test_what_keeps_its_own_reading_after_a_topic(now: Understanding) -> None:
    assert not stays_on_topic(now, "journal")
    assert not stays_on_topic(replace(now, scores=(("ask_gluten", 0.1),)), None)


def test_a_greeting_with_a_question_gets_both_and_a_bare_greeting_only_the_greeting() -> None:
    scores = (("greet", 0.56), ("ask_what_is_leaky_gut", 0.41))
    asked = Understanding(intent="greet", confidence=0.56, scores=scores, question=True, words=4)
    assert plan_turn(asked, FRESH) == ["utter_greet", "utter_ask_what_is_leaky_gut", OFFER]
    hello = Understanding(
        intent="greet", confidence=0.9, scores=(("greet", 0.9), ("ask_symptoms", 0.05)), question=True
    )
    assert plan_turn(hello, FRESH) == ["utter_greet"]
    assert plan_turn(replace(asked, question=False), FRESH) == ["utter_greet"]


def test_more_fiber_after_the_visitor_named_ibs_gets_the_ibs_advice() -> None:
    now = Understanding(intent="ask_fiber_increase", confidence=0.8)
    assert plan_turn(now, History(offered=True, ibs=True)) == ["utter_ask_fiber_ibs"]
    assert plan_turn(now, History(offered=True)) == ["utter_ask_fiber_increase"]
    # The amount is still the amount.
    amount = Understanding(intent="ask_fiber_amount", confidence=0.8)
    assert plan_turn(amount, History(offered=True, ibs=True)) == ["utter_ask_fiber_amount"]


def test_a_spanish_or_french_question_understood_gets_the_notice_then_the_english_answer() -> None:
    assert said("ask_causes", language="es", confidence=0.9) == [
        "utter_language_answer_notice",
        "utter_ask_causes",
        OFFER,
    ]
    both = Understanding(
        intent="ask_symptoms", confidence=0.8, language="fr", parts=(Part("ask_symptoms"), Part("ask_foods_to_avoid"))
    )
    assert plan_turn(both, History(offered=True)) == [
        "utter_language_answer_notice",
        "utter_ask_symptoms",
        "utter_ask_foods_to_avoid",
    ]
    unplaced = replace(both, parts=(Part("ask_symptoms"), Part("out_of_scope")))
    assert plan_turn(unplaced, History(offered=True)) == ["utter_language_notice"]


def test_a_message_not_understood_abroad_still_acknowledges_a_pregnancy_or_a_child() -> None:
    # "embarazada de 4 meses, ¿qué puedo hacer ...?": the notice, then "ask your OB"; no link.
    now = Understanding(intent="ask_what_to_do", confidence=0.3, language="es", situation=("pregnancy",))
    assert plan_turn(now, History()) == ["utter_language_notice", "utter_situation_pregnancy"]


def test_a_question_pointing_back_at_a_subject_not_covered_is_about_it_too() -> None:
    from practice.dialogue.policy import parts_of

    parts = parts_of(
        [
            {"text": "what is the AIP diet", "intent": "ask_beyond_article", "not_covered": "the autoimmune protocol"},
            {"text": "and should I try it for leaky gut?", "intent": "ask_what_to_do"},
        ]
    )
    assert [p.not_covered for p in parts] == ["the autoimmune protocol", "the autoimmune protocol"]
    assert plan_turn(Understanding(intent="ask_what_to_do", parts=parts), History(offered=True)) == [
        "utter_not_covered"
    ]
    # A question of its own keeps its own answer.
    separate = parts_of(
        [
            {"text": "is coffee ok", "intent": "ask_foods_to_avoid", "not_covered": "coffee"},
            {"text": "and what foods should I eat more of", "intent": "ask_foods_to_eat"},
        ]
    )
    assert [p.not_covered for p in separate] == ["coffee", None]


def test_two_spanish_questions_each_placed_surely_are_answered() -> None:
    # "¿Qué causa el intestino permeable y qué alimentos debo evitar?": the message's
    # probability is split between its questions; each is sure on its own.
    parts = (Part("ask_causes", confidence=0.8), Part("ask_foods_to_avoid", confidence=0.7))
    now = Understanding(intent="ask_causes", confidence=0.45, language="es", parts=parts)
    assert plan_turn(now, History(offered=True)) == [
        "utter_language_answer_notice",
        "utter_ask_causes",
        "utter_ask_foods_to_avoid",
    ]
    unsure = Understanding(
        intent="ask_causes", confidence=0.45, language="es", parts=(parts[0], Part("ask_gluten", confidence=0.3))
    )
    assert plan_turn(unsure, History(offered=True)) == ["utter_language_notice"]


@pytest.mark.parametrize(
    "text, amount",
    [
        ("and how much fiber is that supposed to add up to?", True),
        ("how many grams of fibre a day", True),
        ("how much fiber should I add each week without bloating", False),
        ("how do I increase fiber", False),
    ],
)
def test_how_much_fiber_asks_the_amount_not_how_to_get_there(text: str, amount: bool) -> None:
    from practice.dialogue.plan import asks_fiber_amount

    assert asks_fiber_amount(text) is amount
    now = Understanding(intent="ask_fiber_increase", fiber_amount=asks_fiber_amount(text))
    expected = "utter_ask_fiber_amount" if amount else "utter_ask_fiber_increase"
    assert plan_turn(now, History(offered=True))[0] == expected


@pytest.mark.parametrize(
    "text, intent, price",
    [
        ("how much is coaching", "ask_coaching", True),
        ("does it cost anything", "ask_after_applying", True),
        ("is the call free?", "ask_after_applying", True),
        ("what will the coaching cost me?", "ask_coaching", True),
        ("how do I apply", "ask_apply", False),
        ("how much fiber a day", "ask_fiber_amount", False),
        ("is it expensive to eat healthy?", "ask_foods_to_eat", False),
    ],
)
def test_a_coaching_question_about_the_price_gets_the_price_answer(text: str, intent: str, price: bool) -> None:
    from practice.dialogue.policy import understanding_of

    whole = understanding_of({"text": text, "intent": {"name": intent, "confidence": 0.8}})
    assert (whole.intent == "request_coach") is price
    two = understanding_of(
        {
            "text": f"what happens after I apply, and {text}",
            "intent": {"name": "ask_after_applying", "confidence": 0.8},
            "parts": [
                {"text": "what happens after I apply", "intent": "ask_after_applying", "confidence": 0.9},
                {"text": text, "intent": intent, "confidence": 0.7},
            ],
        }
    )
    assert (two.parts[1].intent == "request_coach") is price
    assert ("utter_request_coach" in plan_turn(two, History(offered=True))) is price


@pytest.mark.parametrize(
    "text, other",
    [
        ("who wrote pride and prejudice", True),
        ("Who wrote 'One Hundred Years of Solitude'?", True),
        ("who wrote this", False),
        ("who wrote the leaky gut article?", False),
        ("who wrote this info on leaky gut", False),
        ("whos the author of this blog", False),
        ("who wrote the studies it cites", False),
        ("is the author a dietitian", False),
    ],
)
def test_who_wrote_another_work_is_out_of_scope(text: str, other: bool) -> None:
    from practice.dialogue.policy import understanding_of

    now = understanding_of({"text": text, "intent": {"name": "ask_author", "confidence": 0.9}})
    assert (now.intent == "out_of_scope") is other
    assert (plan_turn(now, History()) == ["utter_out_of_scope"]) is other


def test_a_message_in_safety_doubt_gets_its_answer_and_no_offer_it_did_not_ask_for() -> None:
    doubtful = Understanding(intent="ask_probiotics", safety_doubt=True)
    assert plan_turn(doubtful, History()) == ["utter_ask_probiotics"]
    assert plan_turn(replace(doubtful, safety_doubt=False), History()) == [
        "utter_ask_probiotics",
        "utter_offer_coaching",
    ]
    # Asked about the coaching: the offer is the answer.
    asked = Understanding(intent="ask_coaching", safety_doubt=True)
    assert "utter_offer_coaching" in plan_turn(asked, History())


def test_one_spanish_question_naming_a_subject_not_covered_is_as_sure_as_its_message() -> None:
    from practice.dialogue.policy import understanding_of

    unsure = understanding_of(
        {
            "text": "¿el kombucha es bueno?",
            "intent": {"name": "ask_probiotics", "confidence": 0.3},
            "language": "es",
            "not_covered": "kombucha",
        }
    )
    assert plan_turn(unsure, History()) == ["utter_language_notice"]


def test_thanks_beside_a_question_gets_a_welcome_in_its_place_and_the_answer() -> None:
    first = Understanding(intent="thank", parts=(Part("thank"), Part("ask_apply")))
    assert plan_turn(first, History(offered=True)) == ["utter_welcome", "utter_ask_apply"]
    last = Understanding(intent="ask_fiber_amount", parts=(Part("ask_fiber_amount"), Part("thank")))
    assert plan_turn(last, History(offered=True))[:2] == ["utter_ask_fiber_amount", "utter_welcome"]
    # Thanks and goodbye alone still close the conversation.
    bye = Understanding(intent="thank", parts=(Part("thank"), Part("goodbye")))
    assert plan_turn(bye, History(offered=True)) == ["utter_closing"]


def test_a_thanks_read_as_the_whole_message_still_answers_its_question() -> None:
    now = Understanding(intent="thank", question=True, scores=(("thank", 0.7), ("ask_apply", 0.25)))
    assert plan_turn(now, History(offered=True)) == ["utter_welcome", "utter_ask_apply"]
    assert plan_turn(replace(now, question=False), History(offered=True)) == ["utter_closing"]


def test_a_lone_question_that_falls_back_beside_thanks_is_read_as_the_message() -> None:
    now = Understanding(intent="ask_foods_to_eat", parts=(Part(FALLBACK), Part("thank")))
    assert plan_turn(now, History(offered=True))[:2] == ["utter_ask_foods_to_eat", "utter_welcome"]


def test_a_greeting_part_comes_first_even_before_an_acknowledged_situation() -> None:
    now = Understanding(
        intent="ask_foods_to_eat", parts=(Part("greet"), Part("ask_foods_to_eat")), situation=("allergy",)
    )
    assert plan_turn(now, History(offered=True))[:3] == [
        "utter_greet",
        "utter_situation_allergy",
        "utter_ask_foods_to_eat",
    ]
