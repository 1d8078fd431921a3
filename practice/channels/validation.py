"""What every public chat endpoint checks before a visitor's text goes anywhere near NLU.

Shared by the widget's channel (`website`) and the guarded REST channel (`rest`), so both
doors refuse the same things the same way: a JSON error with a 4xx status, never a
stack trace.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Dict, Mapping

from sanic import response
from sanic.response import HTTPResponse

# 16 KB (as nginx in deploy/): a pasted 10,000-character message still gets the polite
# "please shorten" reply, while anything bigger is refused before it is parsed.
MAX_BODY_BYTES = 16 * 1024

# Longer text gets a polite "please shorten" reply (the widget's input stops here too).
MAX_TEXT_CHARS = 2000
# The widget makes 40 hex characters from crypto.getRandomValues; other clients must at
# least not be trivially guessable or smuggle separators into logs and keys.
SENDER_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")
# Whitespace, "/" and invisible format characters in front of the text. Rasa treats text
# starting with "/" as an intent command that skips NLU and the safety guard; visitors
# never get to send one.
_LEADING_NOISE = re.compile(r"^[\s/\u200b-\u200f\u2060\ufeff]+")

EMPTY = "empty"
TOO_LONG = "too_long"


class ChannelError(Exception):
    """A request the channel refuses, with the status and JSON body the client gets."""

    def __init__(self, status: int, code: str, message: str) -> None:
        """Keep what the client will be told."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def to_response(self) -> HTTPResponse:
        """The JSON error response: `{"error": code, "message": message}`."""
        return error_response(self.status, self.code, self.message)


def error_response(status: int, code: str, message: str) -> HTTPResponse:
    """A JSON error body every client can read, without internals."""
    return response.json({"error": code, "message": message}, status=status)


def parse_json_body(body: bytes | None, max_bytes: int = MAX_BODY_BYTES) -> Dict[str, Any]:
    """The request body as a JSON object, or a `ChannelError` (413 too big, 400 not JSON)."""
    raw = body or b""
    if len(raw) > max_bytes:
        raise ChannelError(413, "body_too_large", f"The request body is over {max_bytes} bytes.")
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ChannelError(400, "invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(parsed, dict):
        raise ChannelError(400, "invalid_json", "The request body must be a JSON object.")
    return parsed


def require_sender(body: Mapping[str, Any], key: str = "sender") -> str:
    """The well-formed sender id in `body[key]`, or a 400."""
    sender = body.get(key)
    if not isinstance(sender, str) or not SENDER_ID.fullmatch(sender):
        raise ChannelError(
            400,
            "invalid_sender",
            f"'{key}' must be 16 to 128 characters of letters, digits, '-' or '_'.",
        )
    return sender


def require_string(body: Mapping[str, Any], key: str) -> str:
    """The string in `body[key]`, or a 400 when it is missing or not a string."""
    value = body.get(key)
    if not isinstance(value, str):
        raise ChannelError(400, "invalid_field", f"'{key}' must be a string.")
    try:
        # JSON may carry lone surrogates ("\ud800"): not text, and no database stores it.
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ChannelError(400, "invalid_field", f"'{key}' is not valid Unicode text.") from None
    return value


@dataclass(frozen=True)
class VisitorText:
    """A visitor's message: what NLU gets, what arrived, and why it cannot go on (if so)."""

    text: str
    original: str
    problem: str | None = None

    @property
    def changed(self) -> bool:
        """True when the text NLU gets differs in any way from what arrived."""
        return self.text != self.original


def clean_visitor_text(raw: str, max_chars: int = MAX_TEXT_CHARS) -> VisitorText:
    """Strip leading "/" and invisible characters; flag empty and over-long text."""
    text = _LEADING_NOISE.sub("", raw).strip()
    if not text:
        return VisitorText(text="", original=raw, problem=EMPTY)
    if len(text) > max_chars:
        return VisitorText(text=text, original=raw, problem=TOO_LONG)
    return VisitorText(text=text, original=raw)


def message_metadata(visitor_text: VisitorText) -> Dict[str, Any] | None:
    """Metadata stored with the message: the text verbatim when cleaning changed it."""
    if visitor_text.changed:
        return {"original_text": visitor_text.original}
    return None
