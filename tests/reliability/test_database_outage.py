"""The conversation database goes down and comes back (a real PostgreSQL server).

Stock Rasa keeps answering from memory while the database is down and forgets those
turns; here the client gets a clear 503, the log an error, nothing is kept in memory, and
once the database is back the conversation goes on with its history.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from practice.launcher import Stack
from tests.reliability.client import Reply, new_sender, post, stored_events, user_texts
from tests.reliability.services import PostgresServer

QUESTION = "what is leaky gut?"
DURING_OUTAGE = "what are the symptoms?"


@pytest.fixture(scope="module")
def database_url(postgres: PostgresServer) -> str:
    """This module's own database on the session's PostgreSQL cluster."""
    return postgres.database_url("outage")


@pytest.fixture(scope="module")
def stack(start_stack, database_url: str) -> Iterator[Stack]:
    """Rasa with its conversations in PostgreSQL."""
    started = start_stack(only=["rasa"], DATABASE_URL=database_url)
    yield started
    started.stop()


def widget(stack: Stack, route: str, body: dict) -> Reply:
    """A call to the widget's channel."""
    return post(f"http://127.0.0.1:{stack.env['RASA_PORT']}/webhooks/website/{route}", body)


def rest(stack: Stack, body: dict) -> Reply:
    """A call to the REST channel."""
    return post(f"http://127.0.0.1:{stack.env['RASA_PORT']}/webhooks/rest/webhook", body)


def rasa_log(stack: Stack) -> str:
    """Everything the Rasa server logged so far."""
    assert stack.log_dir is not None
    return (stack.log_dir / "rasa.log").read_text(encoding="utf-8", errors="replace")


def test_outage_is_a_503_and_the_conversation_resumes_with_its_history(
    stack: Stack, postgres: PostgresServer, database_url: str
) -> None:
    sender = new_sender()
    assert widget(stack, "start", {"sender": sender}).status == 200
    assert widget(stack, "message", {"sender": sender, "message": QUESTION}).status == 200
    before = stored_events(database_url, sender)
    assert user_texts(before) == [QUESTION]

    postgres.stop()
    try:
        refused = [
            widget(stack, "message", {"sender": sender, "message": DURING_OUTAGE}),
            rest(stack, {"sender": sender, "message": DURING_OUTAGE}),
            widget(stack, "history", {"sender": sender}),
            widget(stack, "start", {"sender": new_sender()}),
        ]
        for reply in refused:
            assert reply.status == 503, reply.body
            assert reply.body["error"] == "unavailable"
            assert reply.seconds < 10
        log = rasa_log(stack)
        assert "Conversation store unavailable" in log
        assert DURING_OUTAGE not in log
    finally:
        postgres.start()

    # Nothing said during the outage was kept anywhere.
    assert stored_events(database_url, sender) == before
    resumed = widget(stack, "message", {"sender": sender, "message": DURING_OUTAGE})
    assert resumed.status == 200 and resumed.body["messages"]
    history = widget(stack, "history", {"sender": sender})
    visitor_lines = [m["text"] for m in history.body["messages"] if m["from"] == "visitor"]
    assert visitor_lines == [QUESTION, DURING_OUTAGE]
    assert user_texts(stored_events(database_url, sender)) == [QUESTION, DURING_OUTAGE]
