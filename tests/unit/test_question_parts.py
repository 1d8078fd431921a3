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
    ],
)
def test_one_question_stays_whole(text: str) -> None:
    assert split_questions(text) == [text]


def test_figures_of_speech_are_masked_for_the_safety_reading() -> None:
    assert mask_figures_of_speech("this deadline is killing me") == "this deadline something"
