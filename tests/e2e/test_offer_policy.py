"""The offer policy end to end on the REST channel (docs/WIDGET.md, "The offer policy").

The application offer comes with the first answer of a conversation, on coaching intent,
on goodbye and after every third answer since the last offer; never twice in one turn,
never on a first "didn't get that", never in or after a safety turn. The REST channel keeps
the URL in the text, so counting it counts the offers.
"""

from __future__ import annotations

import secrets
from typing import Any, Dict, List

import pytest

from tests.conftest import TEST_APPLICATION_URL
from tests.e2e.test_rest_conversation import post


@pytest.fixture(scope="module")
def rest_url(start_stack) -> str:
    """The REST channel of a running stack (actions + rasa)."""
    stack = start_stack(only=["actions", "rasa"])
    return f"http://127.0.0.1:{stack.settings.rasa_port}/webhooks/rest/webhook"


def offers(messages: List[Dict[str, Any]]) -> int:
    """How many of a turn's messages carry the application link (text or button)."""
    return sum(
        1
        for m in messages
        if TEST_APPLICATION_URL in (m.get("text") or "")
        or any(b.get("url") == TEST_APPLICATION_URL for b in m.get("buttons") or [])
    )


class Visitor:
    """One conversation on the REST channel."""

    def __init__(self, rest_url: str) -> None:
        self.rest_url, self.sender = rest_url, secrets.token_hex(16)

    def say(self, text: str) -> List[Dict[str, Any]]:
        return post(self.rest_url, {"sender": self.sender, "message": text})


def test_the_first_answer_carries_the_offer_then_every_third(rest_url: str) -> None:
    visitor = Visitor(rest_url)
    assert offers(visitor.say("what is leaky gut?")) == 1
    assert offers(visitor.say("what are the symptoms?")) == 0
    assert offers(visitor.say("what causes it?")) == 0
    assert offers(visitor.say("what should I eat?")) == 1  # the third answer since the offer
    assert offers(visitor.say("how much fiber do I need a day?")) == 0


def test_coaching_intent_and_goodbye_carry_it_once(rest_url: str) -> None:
    visitor = Visitor(rest_url)
    assert offers(visitor.say("what is leaky gut?")) == 1
    assert offers(visitor.say("how do I apply for the coaching?")) == 1
    assert offers(visitor.say("what does the 1:1 coaching involve?")) == 1
    assert offers(visitor.say("thanks, bye")) == 1


def test_two_questions_in_one_message_get_one_offer(rest_url: str) -> None:
    messages = Visitor(rest_url).say("what causes leaky gut and how do I fix it?")
    assert len([m for m in messages if m.get("text")]) >= 3
    assert offers(messages) == 1


def test_a_first_miss_asks_to_rephrase_without_the_offer(rest_url: str) -> None:
    visitor = Visitor(rest_url)
    assert offers(visitor.say("blorp zzkq")) == 0
    assert offers(visitor.say("zxcv plink")) == 1  # the second miss hands over


@pytest.mark.parametrize(
    "signal",
    [
        "I want to apply for coaching but I'm planning to end my life",
        "there's been blood in my stool for a week, how much is the coaching?",
        "I make myself throw up after every meal, can coaching help me lose more weight?",
    ],
)
def test_no_offer_in_or_after_a_safety_turn(rest_url: str, signal: str) -> None:
    visitor = Visitor(rest_url)
    assert offers(visitor.say(signal)) == 0
    for text in ("what is leaky gut?", "how do I apply?", "what should I eat?", "thanks, bye"):
        assert offers(visitor.say(text)) == 0, text
