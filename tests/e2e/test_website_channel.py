"""End to end: the widget's channel on the real servers, with the real response generator."""

from __future__ import annotations

import json
import secrets
import urllib.request
from typing import Any, Dict

import pytest

from tests.conftest import TEST_APPLICATION_URL

ARTICLE_URL = "https://www.practice.example/leaky-gut"


def post(url: str, payload: Dict[str, Any]) -> Dict[str, Any]:
    """POST JSON as the widget does (text/plain) and return the decoded reply."""
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def base(start_stack) -> str:
    """The servers with the article hosted elsewhere (ARTICLE_URL)."""
    stack = start_stack(only=["actions", "rasa"], ARTICLE_URL=ARTICLE_URL)
    return f"http://127.0.0.1:{stack.settings.rasa_port}"


def test_an_answer_carries_its_section_and_the_offer_its_button_not_the_url(base: str) -> None:
    sender = secrets.token_hex(20)
    website = base + "/webhooks/website/"
    started = post(website + "start", {"sender": sender})
    assert started["application_url"] == TEST_APPLICATION_URL

    turn = post(website + "message", {"sender": sender, "message": "What causes leaky gut?"})["messages"]
    [answer] = [m for m in turn if m.get("kind") == "answer"]
    assert answer["utter_action"] == "utter_ask_causes"
    assert answer["source"] == {
        "section": "What causes leaky gut?",
        "url": f"{ARTICLE_URL}#what-causes-leaky-gut",
    }
    assert isinstance(answer["timestamp"], float)
    assert "genes" in answer["text"]
    offers = [m for m in turn if any(b.get("url") == TEST_APPLICATION_URL for b in m.get("buttons", []))]
    assert offers, turn
    assert all(TEST_APPLICATION_URL not in m.get("text", "") for m in turn)

    # The REST channel keeps the URL in the text, for clients without buttons.
    rest = post(base + "/webhooks/rest/webhook", {"sender": secrets.token_hex(16), "message": "What causes leaky gut?"})
    assert any(TEST_APPLICATION_URL in m.get("text", "") for m in rest)
    assert all("source" not in m for m in rest)

    verdict = {
        "sender": sender,
        "event": "feedback",
        "utter_action": answer["utter_action"],
        "timestamp": answer["timestamp"],
        "helpful": False,
    }
    assert post(website + "event", verdict) == {"recorded": True}
    history = post(website + "history", {"sender": sender})["messages"]
    [rated] = [m for m in history if m.get("utter_action") == "utter_ask_causes"]
    assert rated["feedback"] is False
    assert rated["source"] == answer["source"]
    assert [m for m in history if m["from"] == "bot"][-len(turn) :] == [
        {"from": "bot", **m, **({"feedback": False} if m is answer else {})} for m in turn
    ]
