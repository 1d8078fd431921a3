"""The checks both public channels share (practice/channels/validation.py)."""

from __future__ import annotations

import json
from typing import Any, Dict

import pytest

from practice.channels.validation import (
    EMPTY,
    MAX_BODY_BYTES,
    MAX_TEXT_CHARS,
    TOO_LONG,
    ChannelError,
    clean_visitor_text,
    message_metadata,
    parse_json_body,
    require_sender,
    require_string,
)

SENDER = "a" * 16


@pytest.mark.parametrize(
    "body, status, code",
    [
        (b"not json", 400, "invalid_json"),
        (b"", 400, "invalid_json"),
        (b"\xff\xfe{}", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_json"),
        (b'"text"', 400, "invalid_json"),
        (b"null", 400, "invalid_json"),
        (b'{"sender": "' + b"x" * MAX_BODY_BYTES + b'"}', 413, "body_too_large"),
    ],
)
def test_bodies_that_are_refused(body: bytes, status: int, code: str) -> None:
    with pytest.raises(ChannelError) as refused:
        parse_json_body(body)
    assert (refused.value.status, refused.value.code) == (status, code)
    response = refused.value.to_response()
    assert response.status == status
    assert json.loads(response.body) == {"error": code, "message": refused.value.message}


def test_a_body_at_the_cap_is_read() -> None:
    padding = MAX_BODY_BYTES - len(b'{"p": ""}')
    body = b'{"p": "' + b"x" * padding + b'"}'
    assert len(body) == MAX_BODY_BYTES
    assert parse_json_body(body) == {"p": "x" * padding}


@pytest.mark.parametrize(
    "sender",
    ["a" * 16, "A" * 128, "0123456789abcdef0123456789abcdef01234567", "abc_DEF-123_456-789"],
)
def test_well_formed_senders_pass(sender: str) -> None:
    assert require_sender({"sender": sender}) == sender


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"sender": None},
        {"sender": 1234567890123456789},
        {"sender": ["a" * 16]},
        {"sender": "a" * 15},
        {"sender": "a" * 129},
        {"sender": "a" * 15 + " "},
        {"sender": "../../etc/passwd1234"},
        {"sender": "abcdefghijklmnop\n"},
        {"sender": "abcdefghijklmnopé"},
        {"sender": "<script>alert(1)</script>"},
    ],
)
def test_malformed_senders_are_refused(body: Dict[str, Any]) -> None:
    with pytest.raises(ChannelError) as refused:
        require_sender(body)
    assert (refused.value.status, refused.value.code) == (400, "invalid_sender")


@pytest.mark.parametrize("value", [None, 1, 1.5, True, [], {}, ["hi"]])
def test_a_message_must_be_a_string(value: Any) -> None:
    body = {"sender": SENDER} if value is None else {"sender": SENDER, "message": value}
    with pytest.raises(ChannelError) as refused:
        require_string(body, "message")
    assert (refused.value.status, refused.value.code) == (400, "invalid_field")


@pytest.mark.parametrize(
    "raw, text, problem",
    [
        ("What is leaky gut?", "What is leaky gut?", None),
        ("  What is leaky gut?  ", "What is leaky gut?", None),
        # Intent commands never reach the dialogue: NLU and the safety guard always run.
        ("/greet", "greet", None),
        ("//restart", "restart", None),
        ('/ask_apply{"x": 1}', 'ask_apply{"x": 1}', None),
        ("  /  /greet", "greet", None),
        ("\u200b/greet", "greet", None),
        ("\ufeff\u2060/greet", "greet", None),
        ("what is a/b?", "what is a/b?", None),
        ("🥦 fiber?", "🥦 fiber?", None),
        ("什么是肠漏症？", "什么是肠漏症？", None),
        ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>", None),
        ("'; DROP TABLE events; --", "'; DROP TABLE events; --", None),
        ("", "", EMPTY),
        ("   \n\t ", "", EMPTY),
        ("///", "", EMPTY),
        ("\u200b\u200b", "", EMPTY),
        ("x" * MAX_TEXT_CHARS, "x" * MAX_TEXT_CHARS, None),
        ("x" * (MAX_TEXT_CHARS + 1), "x" * (MAX_TEXT_CHARS + 1), TOO_LONG),
        (" " * 50 + "x" * MAX_TEXT_CHARS, "x" * MAX_TEXT_CHARS, None),
    ],
)
def test_visitor_text_is_cleaned_and_flagged(raw: str, text: str, problem: str | None) -> None:
    cleaned = clean_visitor_text(raw)
    assert (cleaned.text, cleaned.problem, cleaned.original) == (text, problem, raw)


@pytest.mark.parametrize(
    "raw, metadata",
    [
        ("What is leaky gut?", None),
        ("/greet", {"original_text": "/greet"}),
        ("  hi  ", {"original_text": "  hi  "}),
    ],
)
def test_the_verbatim_text_is_kept_when_cleaning_changed_it(raw: str, metadata: Dict[str, str] | None) -> None:
    assert message_metadata(clean_visitor_text(raw)) == metadata
