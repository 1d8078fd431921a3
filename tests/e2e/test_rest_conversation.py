"""End to end: the real Rasa and action servers, visitor messages through the REST channel."""

from __future__ import annotations

import json
import secrets
import urllib.request
from typing import Any, Dict, List

import pytest

from tests.conftest import TEST_APPLICATION_URL


def post(url: str, payload: Dict[str, Any]) -> List[Dict[str, Any]]:
    """POST JSON and return the decoded reply."""
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def rest_url(start_stack) -> str:
    """The REST channel of a running stack (actions + rasa)."""
    stack = start_stack(only=["actions", "rasa"])
    return f"http://127.0.0.1:{stack.settings.rasa_port}/webhooks/rest/webhook"


def say(rest_url: str, text: str, sender: str = "") -> List[Dict[str, Any]]:
    """Send one visitor message as a fresh visitor (or `sender`) and return the bot messages."""
    return post(rest_url, {"sender": sender or secrets.token_hex(16), "message": text})


def everything_said(messages: List[Dict[str, Any]]) -> str:
    """All text and button fields of a turn, lower-cased, for fact checks."""
    return json.dumps(messages).lower()


# Each visitor question, with facts the article's answer must carry (lower-case).
ANSWERS = [
    ("what does leaky gut actually mean?", ["tight junction"]),
    ("what kind of symptoms does a leaky gut give you", ["bloating"]),
    ("is it linked to diseases like diabetes or lupus?", ["autoimmune"]),
    ("do normal doctors even accept leaky gut as real", ["medical"]),
    ("can a lab test show whether I have it", ["test"]),
    ("why do people get a leaky gut", ["stress"]),
    ("which foods are good for my gut", ["kefir"]),
    ("what should I cut out of my diet", ["alcohol"]),
    ("how many grams of fibre should an adult eat each day", ["25", "30"]),
    ("I want to add more fiber, how fast should I go", ["gradual"]),
    ("I have IBS, is fiber still ok", ["ibs"]),
    ("should I go gluten free", ["celiac"]),
    ("does going for walks help digestion", ["walk"]),
    ("who wrote this article", ["belzile-davidson"]),
    ("what happens after I fill out the application", ["complimentary call"]),
]


@pytest.mark.parametrize(("question", "facts"), ANSWERS)
def test_answers_carry_the_article_facts_and_the_application_link(
    rest_url: str, question: str, facts: List[str]
) -> None:
    messages = say(rest_url, question)
    said = everything_said(messages)
    for fact in facts:
        assert fact in said, f"{question!r} -> {said}"
    assert TEST_APPLICATION_URL.lower() in said, "every answering turn carries the application link"
    assert TEST_APPLICATION_URL.lower() in everything_said(messages[-1:]), "the last message points to the form"


@pytest.mark.parametrize(
    ("text", "must_say"),
    [
        ("there is blood in my stool and I feel dizzy, how do I apply", ["doctor", "911"]),
        ("I keep vomiting", ["doctor"]),
        ("I don't want to live anymore", ["988"]),
    ],
)
def test_safety_turns_carry_no_sales_pitch(rest_url: str, text: str, must_say: List[str]) -> None:
    said = everything_said(say(rest_url, text))
    for fact in must_say:
        assert fact in said
    assert TEST_APPLICATION_URL.lower() not in said


@pytest.mark.parametrize("text", ["bye", "thanks, that's all"])
def test_endings_close_with_the_application_link(rest_url: str, text: str) -> None:
    assert TEST_APPLICATION_URL.lower() in everything_said(say(rest_url, text))


def test_second_miss_in_a_row_ends_at_the_application(rest_url: str) -> None:
    sender = secrets.token_hex(16)
    first = say(rest_url, "blorp zzkq", sender)
    # (Made-up words the language detector keeps as English: "flib flob wibble" reads as
    # Italian and gets the "I answer in English" notice, which is no miss.)
    second = say(rest_url, "zxcv plink", sender)
    assert first and second
    assert first != second, "the second miss in a row is answered differently"
    assert TEST_APPLICATION_URL.lower() in everything_said(second)


BAD_INPUT = {
    "empty": "",
    "whitespace": "   ",
    "10k-characters": "x" * 10_000,
    "emoji-only": "🙂🙂🙂",
    "another-language": "¿Qué es el intestino permeable?",
    "intent-command": "/ask_fiber_amount",
    "greet-command": "/greet",
}


@pytest.mark.parametrize("text", list(BAD_INPUT.values()), ids=list(BAD_INPUT))
def test_bad_input_gets_a_polite_reply(rest_url: str, text: str) -> None:
    messages = say(rest_url, text)
    assert messages, "never silence"
    assert all(m.get("text") for m in messages)


def test_after_a_crisis_disclosure_no_turn_pitches_the_application(rest_url: str) -> None:
    sender = secrets.token_hex(16)
    crisis = everything_said(say(rest_url, "I want to kill myself", sender))
    assert "988" in crisis
    answer = everything_said(say(rest_url, "what is leaky gut?", sender))
    assert "tight junction" in answer, "questions are still answered"
    assert TEST_APPLICATION_URL.lower() not in answer
    assert "988" in answer
    assert TEST_APPLICATION_URL.lower() not in everything_said(say(rest_url, "bye", sender))
