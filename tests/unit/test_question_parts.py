"""How a message is cut into the questions it asks (practice/nlu/question_parts.py)."""

from __future__ import annotations

from typing import List

import pytest

from practice.nlu.question_parts import mask_figures_of_speech, split_questions


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
    ],
)
def test_one_question_stays_whole(text: str) -> None:
    assert split_questions(text) == [text]


def test_figures_of_speech_are_masked_for_the_safety_reading() -> None:
    assert mask_figures_of_speech("this deadline is killing me") == "this deadline something"
