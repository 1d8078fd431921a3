"""The production topology on loopback: the edge's limits, the concurrency cases and the
faults, through nginx with TLS in front of two Rasa servers sharing Redis locks and
PostgreSQL. Nothing may be lost."""

from __future__ import annotations

import http.client
import json
import ssl
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import yaml

from practice.settings import PROJECT_ROOT
from practice.topology import Topology
from tests.conftest import TEST_APPLICATION_URL
from tests.reliability.client import (
    HangingServer,
    Reply,
    get,
    new_sender,
    post,
    stored_events,
    user_texts,
)
from tests.reliability.concurrency import (
    Target,
    many_senders_independent,
    one_sender_burst,
    one_sender_in_arrival_order,
)

# Made-up words the language detector keeps as English ("flib flob wibble" reads as Italian).
MISS, ANOTHER_MISS = "blorp zzkq", "zxcv plink"
REPLY_BUDGET_SECONDS = 5.0


def first_text(response: str) -> str:
    """The start of a domain response's first variation, for `in` checks."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return " ".join(domain["responses"][response][0]["text"].split())[:40]


def flat(text: str) -> str:
    """Whitespace folded, for `in` checks on multi-line replies."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def target(topology: Topology, tls: ssl.SSLContext) -> Target:
    """The chat endpoint behind nginx and the conversations' database."""
    return Target(
        f"{topology.base_url}/webhooks/rest/webhook", topology.database_url, tls, lock_store_url=topology.redis_url
    )


def say(target: Target, text: str, sender: str) -> Reply:
    """One visitor message through nginx."""
    return post(target.rest_url, {"sender": sender, "message": text}, timeout=30, context=target.ssl_context)


def upstreams_seen(topology: Topology) -> Dict[str, int]:
    """How many chat requests each Rasa server answered, from nginx's access log."""
    seen: Dict[str, int] = {}
    for upstream in chat_log(topology):
        seen[upstream] = seen.get(upstream, 0) + 1
    return seen


# --- the edge ---------------------------------------------------------------------------


def test_http_redirects_to_tls(topology: Topology) -> None:
    reply = get(f"http://127.0.0.1:{topology.ports.http}/webhooks/rest/webhook")
    assert reply.status == 301
    assert reply.headers["Location"].startswith(f"https://127.0.0.1:{topology.ports.https}/")


def test_only_the_channels_and_the_widget_are_reachable(topology: Topology, tls: ssl.SSLContext) -> None:
    for path in ("/status", "/version", "/model/parse", "/conversations/x/tracker", "/domain", "/webhooks/rest/", "/"):
        assert get(topology.base_url + path, context=tls).status == 404, path
    assert get(topology.base_url + "/widget/widget.js", context=tls).status == 200
    headers = get(topology.base_url + "/", context=tls).headers
    assert "max-age" in headers.get("Strict-Transport-Security", "")


def test_a_foreign_origin_is_refused(topology: Topology, target: Target) -> None:
    body = {"sender": new_sender(), "message": "hello"}
    evil = post(target.rest_url, body, headers={"Origin": "https://evil.example"}, context=target.ssl_context)
    assert evil.status == 403 and evil.body["error"] == "origin_not_allowed"
    origin = topology.website_origins()[0]
    allowed = post(target.rest_url, body, headers={"Origin": origin}, context=target.ssl_context)
    assert allowed.status == 200
    assert allowed.headers.get("Access-Control-Allow-Origin") == origin


def test_a_large_body_is_refused_at_the_edge(target: Target) -> None:
    body = json.dumps({"sender": new_sender(), "message": "a" * 20_000}).encode()
    reply = post(target.rest_url, body, context=target.ssl_context)
    assert reply.status == 413 and reply.body["error"] == "body_too_large"


def post_from(address: str, topology: Topology, tls: ssl.SSLContext, body: Dict[str, Any]) -> int:
    """POST to the edge from another loopback address (another client, to nginx)."""
    connection = http.client.HTTPSConnection(
        "localhost", topology.ports.https, context=tls, timeout=30, source_address=(address, 0)
    )
    try:
        connection.request("POST", "/webhooks/rest/webhook", json.dumps(body), {"Content-Type": "application/json"})
        answer = connection.getresponse()
        answer.read()
        assert answer.status != 429 or answer.getheader("Retry-After")
        return answer.status
    finally:
        connection.close()


def test_one_client_flooding_the_edge_gets_429(topology: Topology, tls: ssl.SSLContext) -> None:
    statuses = [post_from("127.0.0.2", topology, tls, {"sender": new_sender(), "message": ""}) for _ in range(90)]
    assert statuses.count(429) >= 1, statuses
    assert statuses[:60].count(200) >= 55  # the burst passes
    # Another client is not affected.
    assert post_from("127.0.0.3", topology, tls, {"sender": new_sender(), "message": ""}) == 200


# --- concurrency: the same cases as on one server ----------------------------------------


async def test_fifty_simultaneous_messages_of_one_visitor(target: Target) -> None:
    await one_sender_burst(target, 50)


async def test_one_visitor_is_served_in_arrival_order(target: Target) -> None:
    await one_sender_in_arrival_order(target, 40)


async def test_visitors_in_parallel_stay_independent(target: Target) -> None:
    await many_senders_independent(target)


def test_both_rasa_servers_took_part(topology: Topology) -> None:
    seen = upstreams_seen(topology)
    for port in topology.ports.rasa:
        assert seen.get(f"127.0.0.1:{port}", 0) >= 5, seen


def chat_log(topology: Topology) -> List[str]:
    """The upstream of every chat request nginx has logged so far, in order."""
    lines = (topology.log_dir / "nginx-access.log").read_text().splitlines()
    return [line.split('" ', 1)[1].split()[1] for line in lines if '"POST /webhooks/' in line]


def upstreams_since(topology: Topology, before: int, count: int) -> List[str]:
    """The upstreams of the `count` chat requests after the first `before` ones; nginx
    writes a line just after the reply, so wait a moment for the last."""
    deadline = time.monotonic() + 5
    while len(chat_log(topology)) < before + count and time.monotonic() < deadline:
        time.sleep(0.05)
    return chat_log(topology)[before : before + count]


def test_one_visitor_stays_on_one_server(topology: Topology, target: Target) -> None:
    for _ in range(3):
        sender, before = new_sender(), len(chat_log(topology))
        for text in ("hello", "what is leaky gut?", "what should I eat?", "thanks"):
            assert say(target, text, sender).status == 200
        assert len(set(upstreams_since(topology, before, 4))) == 1


# --- faults -------------------------------------------------------------------------------


@pytest.fixture
def restore(topology: Topology) -> Iterator[List[str]]:
    """Names of services a test stops; started again afterwards whatever happened."""
    stopped: List[str] = []
    yield stopped
    for name in stopped:
        if name == "postgres":
            topology.start_postgres()
        elif name == "redis":
            topology.start_redis()
        else:
            topology.start_service(name)


def test_action_server_down_still_answers_with_the_link(topology: Topology, target: Target, restore: List[str]) -> None:
    topology.stop_service("actions")
    restore.append("actions")
    for _ in range(2):  # both Rasa servers
        sender = new_sender()
        # A first miss is asked to rephrase (no offer: docs/WIDGET.md), by the dialogue itself
        # when the action said nothing; the second miss ends with the link.
        first = say(target, MISS, sender)
        assert first.status == 200 and first_text("utter_please_rephrase") in flat(first.text)
        reply = say(target, ANOTHER_MISS, sender)
        assert reply.status == 200 and TEST_APPLICATION_URL in reply.text
        assert reply.seconds < REPLY_BUDGET_SECONDS


def test_hung_action_server_still_answers_with_the_link_in_time(
    topology: Topology, target: Target, restore: List[str]
) -> None:
    topology.stop_service("actions")
    restore.append("actions")
    hung = HangingServer(topology.ports.actions)
    try:
        sender = new_sender()
        first = say(target, MISS, sender)
        assert hung.accepted >= 1
        assert first.status == 200 and first_text("utter_please_rephrase") in flat(first.text)
        assert first.seconds < REPLY_BUDGET_SECONDS, f"took {first.seconds:.1f} s"
        reply = say(target, ANOTHER_MISS, sender)
        assert reply.status == 200 and TEST_APPLICATION_URL in reply.text
        assert reply.seconds < REPLY_BUDGET_SECONDS, f"took {reply.seconds:.1f} s"
    finally:
        hung.close()


def test_a_rasa_server_dying_mid_conversation_loses_nothing(
    topology: Topology, target: Target, restore: List[str]
) -> None:
    sender, before = new_sender(), len(chat_log(topology))
    first = say(target, MISS, sender)
    assert first_text("utter_please_rephrase") in flat(first.text)
    # Stop the server this visitor is on.
    port = int(upstreams_since(topology, before, 1)[0].rsplit(":", 1)[1])
    serving = f"rasa-{topology.ports.rasa.index(port) + 1}"
    topology.stop_service(serving)
    restore.append(serving)
    # Whichever server nginx picks, the conversation goes on with its history: the second
    # miss in a row is recognised, and nginx never answers with an error.
    for text in (ANOTHER_MISS, "what is leaky gut?"):
        reply = say(target, text, sender)
        assert reply.status == 200, reply.body
    events = stored_events(topology.database_url, sender)
    assert user_texts(events) == [MISS, ANOTHER_MISS, "what is leaky gut?"]
    bot = [e.get("text") or "" for e in events if e.get("event") == "bot"]
    assert any(first_text("utter_fallback_to_application") in flat(t) for t in bot)


def test_database_outage_is_a_503_and_history_survives(topology: Topology, target: Target, restore: List[str]) -> None:
    sender = new_sender()
    assert say(target, "what is leaky gut?", sender).status == 200
    topology.stop_postgres()
    restore.append("postgres")
    for _ in range(2):
        refused = say(target, "what are the symptoms?", sender)
        assert refused.status == 503 and refused.body["error"] == "unavailable"
    topology.start_postgres()
    restore.remove("postgres")
    assert say(target, "what are the symptoms?", sender).status == 200
    texts = user_texts(stored_events(topology.database_url, sender))
    assert texts == ["what is leaky gut?", "what are the symptoms?"]


def test_lock_store_outage_is_a_503_and_nothing_is_half_done(
    topology: Topology, target: Target, restore: List[str]
) -> None:
    sender = new_sender()
    assert say(target, "what is leaky gut?", sender).status == 200
    topology.stop_redis()
    restore.append("redis")
    refused = say(target, "what are the symptoms?", sender)
    assert refused.status == 503 and refused.body["error"] == "unavailable"
    topology.start_redis()
    restore.remove("redis")
    assert say(target, "what are the symptoms?", sender).status == 200
    texts = user_texts(stored_events(topology.database_url, sender))
    assert texts == ["what is leaky gut?", "what are the symptoms?"]


def test_the_logs_hold_no_visitor_text(topology: Topology) -> None:
    logs = {p.name: p.read_text(errors="replace") for p in Path(topology.log_dir).glob("*.log")}
    assert "rasa-1.log" in logs and "nginx-access.log" in logs
    for name, text in logs.items():
        for said in (MISS, ANOTHER_MISS, "what are the symptoms", "leaky gut? [burst"):
            assert said not in text, f"{said!r} in {name}"
