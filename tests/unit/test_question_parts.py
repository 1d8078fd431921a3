"""How a message is cut into the questions it asks (practice/nlu/question_parts.py)."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from practice.nlu.question_parts import QuestionMerger, mask_figures_of_speech, split_questions
from practice.nlu.safety_guard import PART_OF_KEY


@pytest.mark.parametrize(
    "text, parts",
    [
        ("what causes it and how do I fix it?", ["what causes it", "how do I fix it?"]),
        ("Is fiber good? What about probiotics?", ["Is fiber good?", "What about probiotics?"]),
        # chat shorthand for "and"
        ("what r the causes n how do u fix it", ["what r the causes", "how do u fix it"]),
        ("what should I avoid + how much fiber a day", ["what should I avoid", "how much fiber a day"]),
        # a statement before a question is its context, not a question of its own
        ("I have IBS. Is fiber ok for me?", ["I have IBS. Is fiber ok for me?"]),
        # a statement that says what the visitor wonders about asks it
        (
            "I'm 70 and wondering if age matters. And who wrote the article?",
            ["I'm 70 and wondering if age matters.", "And who wrote the article?"],
        ),
        # a question may open with "so", "hey", "honestly" before its question word
        ("so what happens in leaky gut and what triggers it", ["so what happens in leaky gut", "what triggers it"]),
        ("hey are u a bot lol. also whats leaky gut", ["hey are u a bot lol.", "also whats leaky gut"]),
        # a condition opens the next question
        (
            "can you test for it, and if not how do i know it's working",
            ["can you test for it", "if not how do i know it's working"],
        ),
        # a statement after a question says more about it
        (
            "is it in my head?? I get rashes and sore knees. also how do i test for it",
            ["is it in my head?? I get rashes and sore knees.", "also how do i test for it"],
        ),
        # a question after a dash or a colon
        ("I'm 55 - does age matter, and what should I eat?", ["I'm 55 - does age matter", "what should I eat?"]),
        # Spanish and French questions joined by "y" / "et"
        ("¿Qué es y cómo se cura?", ["¿Qué es", "cómo se cura?"]),
        (
            "Quels aliments éviter et combien de fibres par jour ?",
            ["Quels aliments éviter", "combien de fibres par jour ?"],
        ),
        # numbered questions
        (
            "Two questions: 1) do doctors recognize it 2) what are the symptoms",
            ["Two questions: do doctors recognize it", "what are the symptoms"],
        ),
        # misspelt and possessive question words open a question too
        ("wat causes leaky gut n how do u fix it", ["wat causes leaky gut", "how do u fix it"]),
        (
            "Whose article is this, and what sources did she use?",
            ["Whose article is this", "what sources did she use?"],
        ),
        # subjects named before a question, with "and" or as a list, are asked about
        ("Typical symptoms, and what is it linked to?", ["Typical symptoms", "what is it linked to?"]),
        (
            "Fiber per day, good sources of it, and does exercise help too?",
            ["Fiber per day", "good sources of it", "does exercise help too?"],
        ),
        (
            "I am writing notes: typical symptoms, and which conditions is it linked to?",
            ["I am writing notes: typical symptoms", "which conditions is it linked to?"],
        ),
    ],
)
def test_questions_are_found_in_order(text: str, parts: List[str]) -> None:
    assert split_questions(text) == parts


@pytest.mark.parametrize(
    "text",
    [
        "what is leaky gut",
        "salt n vinegar crisps ok?",  # "n" joins two questions only before a question word
        "bread and butter and jam, is that bad?",
        "What foods should my daughter (she's 9) eat more of for a healthy gut?",  # not a numbered list
        "how do i know if its SIBO and not leaky gut?",  # "if" without a comma asks the same question
        "Je pense que c'est le gluten et que ça gonfle, c'est possible ?",  # "et que" joins no question
        # a subject before a question without "and" is its context, not a question of its own
        "kimchi vs sauerkraut, which is better for the gut?",
        "nursing mom here, how much fiber per day should I have?",
        # an opener or a statement before "and" is no subject
        "In general, and what foods help?",
        "I have IBS and what fiber is ok?",
        # a listed piece that says something of the first is no subject of its own
        "zinc carnosine supplement, worth trying?",
        "excercise n gut, connected?",
        "and the other ones, outside the gut?",
        "et l'alcool, aussi ?",
        "bloating, gas, fatigue",
        # an ordinal word that counts no question
        "at first I thought it was gluten, is it?",
        "the second time I ate bread I bloated, why?",
        "after I eat I feel bloated, what should I do?",
    ],
)
def test_one_question_stays_whole(text: str) -> None:
    assert split_questions(text) == [text]


def test_figures_of_speech_are_masked_for_the_safety_reading() -> None:
    assert mask_figures_of_speech("this deadline is killing me") == "this deadline something"
    assert mask_figures_of_speech("I wanted to bang my head against the wall") == "I wanted to something"


@pytest.mark.parametrize(
    "text, parts",
    [
        # a question, then a second one said as a wish to know
        ("Is it real? I'd also like to know the price.", ["Is it real?", "I'd also like to know the price."]),
        # a word between the join and the question
        (
            "what happens after I apply, and roughly what does it cost?",
            ["what happens after I apply", "what does it cost?"],
        ),
        # "plus" opening the second question
        ("is it linked to PCOS? plus how do I apply", ["is it linked to PCOS?", "plus how do I apply"]),
        # numbered questions in sentences of their own
        ("1) symptoms? 2) do you think I have it", ["1) symptoms?", "2) do you think I have it"]),
        # "+" opening the second, a yes-or-no question without a question mark
        ("apply how? + what happens after", ["apply how?", "+ what happens after"]),
        ("gluten bad y/n. also should i eat probiotics", ["gluten bad y/n.", "also should i eat probiotics"]),
        # a question word after a preposition
        (
            "fibre: how much, from what foods, and how do i stop the gas",
            ["fibre: how much", "from what foods", "how do i stop the gas"],
        ),
    ],
)
def test_more_ways_of_asking_a_second_question(text: str, parts: List[str]) -> None:
    assert split_questions(text) == parts


@pytest.mark.parametrize(
    "text, parts",
    [
        # a request with "please" asks, and so does a wish to know after "and"
        (
            "Please tell me how to apply. I also want to know the price.",
            ["Please tell me how to apply.", "I also want to know the price."],
        ),
        (
            "tell me the symptoms and I also want to know if it is real",
            ["tell me the symptoms", "I also want to know if it is real"],
        ),
        # a question word run together with "is"
        ("wheres the form, how much does it cost", ["wheres the form", "how much does it cost"]),
        # a sentence that is only a list of subjects, asked
        ("symptoms, causes, treatment?", ["symptoms?", "causes?", "treatment?"]),
        ("symptoms, causes and treatment?", ["symptoms?", "causes?", "treatment?"]),
        # questions counted in words, and a list of lines with bullets
        (
            "first off is it real, second what is it linked to, third who wrote it",
            ["is it real", "what is it linked to", "who wrote it"],
        ),
        ("- how much fiber per day\n- what if I have IBS", ["how much fiber per day", "what if I have IBS"]),
        # a clause before the question word
        ("after I apply what happens, how much is it", ["after I apply what happens", "how much is it"]),
    ],
)
def test_requests_and_lists_of_subjects(text: str, parts: List[str]) -> None:
    assert split_questions(text) == parts


def _question(intent: str, ranking: List[Dict[str, Any]]) -> Message:
    question = Message({TEXT: "a question", PART_OF_KEY: 0})
    question.set(INTENT, {"name": intent, "confidence": ranking[0]["confidence"]})
    question.set(INTENT_RANKING_KEY, ranking)
    return question


@pytest.mark.parametrize(
    "second_ranking, expected",
    [
        # The next guess stands in for a repeated reading ...
        ([{"name": "ask_ageing", "confidence": 0.5}, {"name": "ask_what_to_do", "confidence": 0.4}], "ask_what_to_do"),
        # ... not when it is weak, a follow-up or not a question of the article.
        ([{"name": "ask_ageing", "confidence": 0.8}, {"name": "ask_what_to_do", "confidence": 0.1}], "ask_ageing"),
        ([{"name": "ask_ageing", "confidence": 0.5}, {"name": "ask_followup_how", "confidence": 0.4}], "ask_ageing"),
        ([{"name": "ask_ageing", "confidence": 0.5}, {"name": "greet", "confidence": 0.4}], "ask_ageing"),
    ],
)
def test_two_questions_read_alike_take_the_second_ones_next_guess(
    second_ranking: List[Dict[str, Any]], expected: str
) -> None:
    message = Message({TEXT: "does age matter, and what can people my age do?"})
    message.set(INTENT, {"name": "ask_ageing", "confidence": 0.9})
    first = _question("ask_ageing", [{"name": "ask_ageing", "confidence": 0.9}])
    second = _question(second_ranking[0]["name"], second_ranking)
    [merged] = QuestionMerger().process([message, first, second])
    assert [p["intent"] for p in merged.get("parts")] == ["ask_ageing", expected]


@pytest.mark.parametrize(
    "text, parts",
    [
        (
            "prebiotics vs probiotics, whats the difference. also how much fiber",
            ["prebiotics vs probiotics whats the difference.", "also how much fiber"],
        ),
        ("symptoms pls. and how much is coaching", ["symptoms pls.", "and how much is coaching"]),
    ],
)
def test_a_question_after_a_comma_or_a_subject_asked_for_with_please(text: str, parts: List[str]) -> None:
    assert split_questions(text) == parts


def test_a_longer_request_with_please_stays_with_its_question() -> None:
    assert split_questions("sign me up for coaching pls, where do i go") == [
        "sign me up for coaching pls, where do i go"
    ]


@pytest.mark.parametrize(
    "text, parts",
    [
        (
            "Thanks so much, this is more helpful than 3 doctors! How do I sign up for the free call?",
            ["Thanks so much, this is more helpful than 3 doctors!", "How do I sign up for the free call?"],
        ),
        ("thanks! how do I apply?", ["thanks!", "how do I apply?"]),
        (
            "Thanks! Really appreciate it. does the coaching cover IBS too?",
            ["Thanks! Really appreciate it.", "does the coaching cover IBS too?"],
        ),
        ("is fiber good? thanks", ["is fiber good?", "thanks"]),
    ],
)
def test_thanks_said_beside_a_question_is_a_part_of_its_own(text: str, parts: List[str]) -> None:
    assert split_questions(text) == parts


@pytest.mark.parametrize("text", ["thanks, bye", "Thanks! Really appreciate it.", "thank you so much for this"])
def test_thanks_alone_stays_whole(text: str) -> None:
    assert split_questions(text) == [text]


@pytest.mark.parametrize(
    "text, parts",
    [
        ("Hi there! 👋 What is leaky gut exactly?", ["Hi there!", "👋 What is leaky gut exactly?"]),
        (
            "Hello there, hope you're well. I have constant bloating and I'm wondering whether I have leaky gut?",
            ["Hello there, hope you're well.", "I have constant bloating and I'm wondering whether I have leaky gut?"],
        ),
        # A greeting and a thanks do not count among the three questions.
        (
            "Good morning. Is there a test? Is it linked to diabetes? What should I eat? Thank you very much.",
            [
                "Good morning.",
                "Is there a test?",
                "Is it linked to diabetes?",
                "What should I eat?",
                "Thank you very much.",
            ],
        ),
    ],
)
def test_a_greeting_beside_a_question_is_a_part_of_its_own(text: str, parts: List[str]) -> None:
    assert split_questions(text) == parts


@pytest.mark.parametrize("text", ["hi", "hello, how are you", "hey! how are you doing today?", "Hi there! Thanks!"])
def test_a_greeting_with_small_talk_or_thanks_stays_whole(text: str) -> None:
    assert split_questions(text) == [text]
