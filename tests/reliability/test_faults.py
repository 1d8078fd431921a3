"""Faults on the default stack: the action server down or hung, the Rasa server restarted.

The visitor always gets a reply with the application link within 5 s, and a restart
loses neither history nor context. (Database outages: test_database_outage.py.)
"""

from __future__ import annotations

from typing import Iterator

import pytest
import yaml

from practice.launcher import Stack
from practice.settings import PROJECT_ROOT
from tests.conftest import TEST_APPLICATION_URL
from tests.reliability.client import (
    HangingServer,
    Reply,
    new_sender,
    post,
    restart,
    stored_events,
    user_texts,
)

# Words NLU has never seen: nlu_fallback, so the turn needs the custom fallback action.
MISS = "blorp zzkq"
# (Made-up words the language detector keeps as English: others read as Italian or German
# get the "I answer in English" notice, which is no miss.)
ANOTHER_MISS = "zxcv plink"
REPLY_BUDGET_SECONDS = 5.0


def first_text(response: str) -> str:
    """The first line of a domain response's first variation, for `in` checks."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return " ".join(domain["responses"][response][0]["text"].split())[:40]


@pytest.fixture(scope="module")
def stack(start_stack) -> Iterator[Stack]:
    """Rasa and the real action server, SQLite, in-memory locks."""
    started = start_stack(only=["actions", "rasa"])
    yield started
    started.stop()


def say(stack: Stack, text: str, sender: str) -> Reply:
    """One visitor message on the REST channel."""
    url = f"http://127.0.0.1:{stack.env['RASA_PORT']}/webhooks/rest/webhook"
    return post(url, {"sender": sender, "message": text}, timeout=30)


def assert_answered_with_the_link(reply: Reply) -> None:
    assert reply.status == 200, reply.body
    assert TEST_APPLICATION_URL in reply.text
    assert reply.seconds < REPLY_BUDGET_SECONDS, f"took {reply.seconds:.1f} s"


def assert_asked_to_rephrase(reply: Reply) -> None:
    # A first miss helps the visitor rephrase and carries no offer (docs/WIDGET.md).
    assert reply.status == 200, reply.body
    assert first_text("utter_please_rephrase") in " ".join(reply.text.split())
    assert TEST_APPLICATION_URL not in reply.text
    assert reply.seconds < REPLY_BUDGET_SECONDS, f"took {reply.seconds:.1f} s"


def test_with_the_action_server_up_the_fallback_action_answers(stack: Stack) -> None:
    # The control for the two tests below: the action's own words, then its handover.
    sender = new_sender()
    assert_asked_to_rephrase(say(stack, MISS, sender))
    second = say(stack, ANOTHER_MISS, sender)
    assert_answered_with_the_link(second)
    assert first_text("utter_fallback_to_application") in " ".join(second.text.split())


def test_action_server_down_still_answers_with_the_link(stack: Stack) -> None:
    actions = next(s for s in stack.services if s.name == "actions")
    actions.stop()
    try:
        sender = new_sender()
        # The dialogue asks to rephrase itself when the action said nothing ...
        assert_asked_to_rephrase(say(stack, MISS, sender))
        # ... and the second miss still ends with the link.
        second = say(stack, ANOTHER_MISS, sender)
        assert_answered_with_the_link(second)
        assert first_text("utter_fallback_to_application") not in " ".join(second.text.split())
    finally:
        restart(stack, "actions")


def test_hung_action_server_still_answers_with_the_link_in_time(stack: Stack) -> None:
    actions = next(s for s in stack.services if s.name == "actions")
    actions.stop()
    hung = HangingServer(int(stack.env["ACTION_SERVER_PORT"]))
    try:
        sender = new_sender()
        assert_asked_to_rephrase(say(stack, MISS, sender))
        assert hung.accepted >= 1, "Rasa never called the action server"
        assert_answered_with_the_link(say(stack, ANOTHER_MISS, sender))
    finally:
        hung.close()
        restart(stack, "actions")


def test_restart_mid_conversation_keeps_history_and_context(stack: Stack) -> None:
    sender, crisis_sender = new_sender(), new_sender()
    first = say(stack, MISS, sender)
    assert first_text("utter_please_rephrase") in " ".join(first.text.split())
    # Context held in a slot: after a crisis disclosure no turn pitches the application.
    assert say(stack, "I want to kill myself", crisis_sender).status == 200

    restart(stack, "rasa")

    # The second miss in a row is only recognised with the first one remembered.
    second = say(stack, ANOTHER_MISS, sender)
    assert first_text("utter_fallback_to_application") in " ".join(second.text.split())
    after_crisis = say(stack, "what is leaky gut?", crisis_sender)
    assert after_crisis.status == 200 and after_crisis.text
    assert TEST_APPLICATION_URL not in after_crisis.text
    # Control: the same question from a fresh visitor does carry the link.
    assert TEST_APPLICATION_URL in say(stack, "what is leaky gut?", new_sender()).text

    events = stored_events(stack.env["DATABASE_URL"], sender)
    assert user_texts(events) == [MISS, ANOTHER_MISS]


def test_the_failures_above_left_no_visitor_text_in_the_logs(stack: Stack) -> None:
    # Failed actions and restarts log errors and tracebacks: none may quote the visitor.
    assert stack.log_dir is not None
    logs = {p.name: p.read_text(errors="replace") for p in stack.log_dir.glob("*.log")}
    assert "Failed to execute custom action" in logs["rasa.log"]  # the faults did happen
    for name, text in logs.items():
        for said in (MISS, ANOTHER_MISS, "kill myself"):
            assert said not in text, f"{said!r} in {name}"
