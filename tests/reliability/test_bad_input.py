"""Bad input on every public endpoint, a property-based fuzz, rate limits and log privacy.

Every request gets a 4xx or a polite reply, never a 5xx or a stack trace; what a visitor
typed is stored exactly as typed; no visitor text reaches the logs at the default level.
"""

from __future__ import annotations

import json
import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Iterator, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from practice.launcher import Stack
from tests.reliability.client import Reply, get, new_sender, post, stored_events, user_texts

# The routes a browser on the internet can reach, and the body each one takes.
MESSAGE_ROUTES = ("/webhooks/rest/webhook", "/webhooks/website/message")
SENDER_ONLY_ROUTES = ("/webhooks/website/start", "/webhooks/website/history")
EVENT_ROUTE = "/webhooks/website/event"
POST_ROUTES = MESSAGE_ROUTES + SENDER_ONLY_ROUTES + (EVENT_ROUTE,)
GET_ROUTES = ("/webhooks/rest/", "/webhooks/website/")

VISITOR_TEXTS = [
    "what is leaky gut?",
    "   what is leaky gut?   ",
    "\u200b\u200bwhat is leaky gut?",  # zero-width spaces in front
    "\u202ewhat is leaky gut?",  # right-to-left override
    "what\x00 is\x07 leaky\x1b gut?",  # control characters
    "🥦🥦 what is leaky gut? 🤔",
    "什么是肠漏症？",
    "ما هي متلازمة الأمعاء المتسربة؟",
    "Что такое синдром дырявого кишечника?",
    "<img src=x onerror=alert(1)>",
    "<script>alert('x')</script>",
    "[click me](javascript:alert(1)) **bold** `code`",
    "'; DROP TABLE events; --",
    "Robert'); DELETE FROM events WHERE ('1'='1",
    "/greet",
    "/restart",
    '/ask_symptoms{"crisis_disclosed": true}',
    "//what is leaky gut?",
    "a" * 2000,
]
# Texts that cannot become a turn get a polite reply, not an error.
POLITE_TEXTS = ["", "   ", "\n\t\r", "\u200b\u200b", "/", "///", "a" * 2001, "leaky " * 400]


def malformed_bodies(sender: str, route: str) -> List[bytes]:
    """Bodies the route may not accept: not JSON, not an object, wrong or missing fields."""
    raw = [b"", b"   ", b"{not json", b'{"sender": "', b"\xff\xfe\x00garbage", b"null"]
    bad_senders: List[Any] = [
        None,
        123,
        ["a"],
        "",
        "short",
        "../../../etc/passwd",
        "x" * 200,
        "a b c d e f g h i j k l",
        "<script>alert(1)</script>",
        "ÄÖÜäöüßÄÖÜäöüßÄÖÜ",
        sender + "\n",
        "'; DROP TABLE events; --aaaa",
    ]
    as_json: List[Any] = [[], 42, "text", {}, {"message": "hi"}]
    as_json += [{"sender": bad, "message": "hi"} for bad in bad_senders]
    if route in MESSAGE_ROUTES:
        as_json += [
            {"sender": sender, "message": value}
            for value in (None, 42, ["hi"], {"text": "hi"}, True, "\ud800 lone surrogate")
        ]
        as_json.append({"sender": sender})
    return raw + [json.dumps(body).encode() for body in as_json]


@pytest.fixture(scope="module")
def stack(start_stack) -> Iterator[Stack]:
    """Rasa and the action server with the default rate limits."""
    started = start_stack(only=["actions", "rasa"])
    yield started
    started.stop()


def url(stack: Stack, route: str) -> str:
    """The route on this stack."""
    return f"http://127.0.0.1:{stack.env['RASA_PORT']}{route}"


def assert_no_server_error(reply: Reply) -> None:
    assert reply.status < 500, (reply.status, reply.body)
    body = json.dumps(reply.body) if not isinstance(reply.body, str) else reply.body
    for leak in ("Traceback", 'File "/', "sqlalchemy", "Exception"):
        assert leak not in body, body[:500]


def assert_answered_politely(reply: Reply) -> None:
    assert reply.status == 200, (reply.status, reply.body)
    assert reply.text.strip(), "no reply at all"


@pytest.mark.parametrize("route", POST_ROUTES)
def test_malformed_bodies_get_a_4xx_json_error(stack: Stack, route: str) -> None:
    sender = new_sender()
    for body in malformed_bodies(sender, route):
        reply = post(url(stack, route), body)
        assert_no_server_error(reply)
        assert 400 <= reply.status < 500, (body[:80], reply.status, reply.body)
        assert isinstance(reply.body, dict) and reply.body.get("error"), reply.body


@pytest.mark.parametrize("route", POST_ROUTES)
def test_a_one_megabyte_body_is_refused_with_413(stack: Stack, route: str) -> None:
    body = json.dumps({"sender": new_sender(), "message": "a" * 1024 * 1024}).encode()
    reply = post(url(stack, route), body)
    assert reply.status == 413, reply.body


@pytest.mark.parametrize("route", GET_ROUTES + POST_ROUTES)
def test_other_methods_are_refused(stack: Stack, route: str) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        reply = get(url(stack, route), method=method)
        assert 400 <= reply.status < 500, (method, route, reply.status)


@pytest.mark.parametrize("route", MESSAGE_ROUTES)
@pytest.mark.parametrize("text", VISITOR_TEXTS, ids=range(len(VISITOR_TEXTS)))
def test_odd_visitor_text_is_answered_and_stored_verbatim(stack: Stack, route: str, text: str) -> None:
    sender = new_sender()
    reply = post(url(stack, route), {"sender": sender, "message": text})
    assert_no_server_error(reply)
    assert_answered_politely(reply)
    events = stored_events(stack.env["DATABASE_URL"], sender)
    assert user_texts(events) == [text]
    # No "/command" ever reaches the dialogue unparsed: NLU saw every message.
    for event in events:
        assert not (event.get("text") or "").startswith("/")
        assert event.get("event") != "restart"


@pytest.mark.parametrize("route", MESSAGE_ROUTES)
@pytest.mark.parametrize("text", POLITE_TEXTS, ids=range(len(POLITE_TEXTS)))
def test_empty_or_overlong_text_gets_a_polite_reply(stack: Stack, route: str, text: str) -> None:
    reply = post(url(stack, route), {"sender": new_sender(), "message": text})
    assert_no_server_error(reply)
    assert_answered_politely(reply)


def test_the_link_click_event_refuses_nonsense(stack: Stack) -> None:
    sender = new_sender()
    for body in (
        {"sender": sender, "event": "delete_everything"},
        {"sender": sender, "event": "link_clicked"},
        {"sender": sender, "event": "link_clicked", "url": 42},
        {"sender": sender, "event": "link_clicked", "url": "https://x/" + "a" * 5000},
        {"sender": sender, "event": "feedback"},
        {
            "sender": sender,
            "event": "feedback",
            "utter_action": "utter_ask_causes",
            "timestamp": 10**400,
            "helpful": False,
        },
        {"sender": sender, "event": "feedback", "utter_action": "utter_ask_causes", "timestamp": 1.5, "helpful": "no"},
        {"sender": sender, "event": "feedback", "utter_action": "x" * 5000, "timestamp": 1.5, "helpful": True},
        {
            "sender": sender,
            "event": "feedback",
            "utter_action": "utter_ask_causes",
            "timestamp": 1.5,
            "helpful": True,
        },  # no such conversation: 404
    ):
        reply = post(url(stack, EVENT_ROUTE), body)
        assert_no_server_error(reply)
        assert 400 <= reply.status < 500, (body, reply.body)


# --- property-based fuzz ---------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(text=st.text(max_size=400), route=st.sampled_from(MESSAGE_ROUTES))
def test_fuzz_any_text_is_answered_and_stored_verbatim(stack: Stack, text: str, route: str) -> None:
    sender = new_sender()
    reply = post(url(stack, route), {"sender": sender, "message": text})
    assert_no_server_error(reply)
    assert_answered_politely(reply)
    stored = user_texts(stored_events(stack.env["DATABASE_URL"], sender))
    assert stored in ([text], [])  # nothing stored when only a polite reply was due


@FUZZ
@given(
    body=st.dictionaries(st.sampled_from(["sender", "message", "event", "url", "x"]), json_values, max_size=4),
    route=st.sampled_from(POST_ROUTES),
)
def test_fuzz_any_json_object_gets_no_server_error(stack: Stack, body: Dict[str, Any], route: str) -> None:
    assert_no_server_error(post(url(stack, route), json.dumps(body).encode()))


@FUZZ
@given(raw=st.binary(max_size=300), route=st.sampled_from(POST_ROUTES))
def test_fuzz_any_bytes_get_no_server_error(stack: Stack, raw: bytes, route: str) -> None:
    reply = post(url(stack, route), raw)
    assert_no_server_error(reply)
    assert 400 <= reply.status < 500


# --- abuse -----------------------------------------------------------------------------


def test_one_visitor_flooding_gets_429_with_retry_after(stack: Stack) -> None:
    sender = new_sender()
    replies = [post(url(stack, "/webhooks/website/message"), {"sender": sender, "message": ""}) for _ in range(25)]
    statuses = [r.status for r in replies]
    assert statuses[:20] == [200] * 20  # the default burst: 20 per 30 s
    refused = [r for r in replies if r.status == 429]
    assert refused, statuses
    assert int(refused[0].headers["Retry-After"]) >= 1
    assert refused[0].body["error"] == "rate_limited"
    # Another visitor is not affected.
    other = post(url(stack, "/webhooks/rest/webhook"), {"sender": new_sender(), "message": ""})
    assert other.status == 200


def test_one_client_cycling_sender_ids_gets_429(stack: Stack) -> None:
    # As nginx forwards it: the client's address in X-Real-IP from the trusted loopback proxy.
    flooder = {"X-Real-IP": "198.51.100.23"}

    def send(_: int) -> int:
        body = {"sender": new_sender(), "message": ""}
        return post(url(stack, "/webhooks/rest/webhook"), body, headers=flooder).status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, range(140)))
    assert statuses.count(200) >= 120 and statuses.count(429) >= 1, statuses
    assert set(statuses) <= {200, 429}
    elsewhere = post(
        url(stack, "/webhooks/rest/webhook"),
        {"sender": new_sender(), "message": ""},
        headers={"X-Real-IP": "198.51.100.99"},
    )
    assert elsewhere.status == 200


# --- privacy ---------------------------------------------------------------------------


def test_no_visitor_text_in_the_logs(stack: Stack) -> None:
    marker = f"privacy-marker-{secrets.token_hex(6)}"
    sender = new_sender()
    post(url(stack, "/webhooks/website/start"), {"sender": sender})
    for route in MESSAGE_ROUTES:
        post(url(stack, route), {"sender": sender, "message": f"what is leaky gut {marker}"})
        post(url(stack, route), {"sender": sender, "message": f"zzkq blorp {marker}"})  # fallback
        post(url(stack, route), {"sender": sender, "message": f"{marker} " * 500})  # too long
        post(url(stack, route), {"sender": "bad sender", "message": marker})  # refused
        post(url(stack, route), f'{{"sender": "{sender}", "message": "{marker}'.encode())
    assert marker in json.dumps(stored_events(stack.env["DATABASE_URL"], sender))
    assert stack.log_dir is not None
    logs = {p.name: p.read_text(errors="replace") for p in stack.log_dir.glob("*.log")}
    assert logs and all(logs.values()), "the stack wrote no logs to check"
    for name, text in logs.items():
        assert marker not in text, f"visitor text in {name}"
