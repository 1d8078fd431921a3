"""Small helpers the reliability tests share: HTTP calls, stored rows, service restarts."""

from __future__ import annotations

import json
import secrets
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Dict, List, Union

import sqlalchemy as sa

from practice.launcher import Stack


@dataclass
class Reply:
    """What the server answered and how long it took."""

    status: int
    body: Any
    seconds: float
    headers: Dict[str, str]

    @property
    def text(self) -> str:
        """Everything the bot said (texts and button titles/URLs), for `in` checks."""
        if not isinstance(self.body, (list, dict)):
            return str(self.body)
        messages = self.body.get("messages", []) if isinstance(self.body, dict) else self.body
        parts: List[str] = []
        for message in messages:
            parts.append(str(message.get("text", "")))
            for button in message.get("buttons", []) or []:
                parts.extend([str(button.get("title", "")), str(button.get("url", ""))])
        return "\n".join(parts)


def new_sender() -> str:
    """A sender id like the widget's: 32 hex characters."""
    return secrets.token_hex(16)


def post(
    url: str,
    body: Union[bytes, Dict[str, Any], None],
    timeout: float = 30.0,
    headers: Dict[str, str] | None = None,
    context: ssl.SSLContext | None = None,
) -> Reply:
    """POST `body` (JSON-encoded unless bytes) and return the reply, errors included."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url,
        data=data or b"",
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    return _send(request, timeout, context)


def get(
    url: str,
    timeout: float = 10.0,
    headers: Dict[str, str] | None = None,
    method: str = "GET",
    context: ssl.SSLContext | None = None,
) -> Reply:
    """GET (or another body-less method) and return the reply, errors included."""
    request = urllib.request.Request(url, method=method, headers=headers or {})
    return _send(request, timeout, context)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _send(request: urllib.request.Request, timeout: float, context: ssl.SSLContext | None = None) -> Reply:
    started = time.monotonic()
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _NoRedirects())
    try:
        with opener.open(request, timeout=timeout) as answer:
            raw, status, headers = answer.read(), answer.status, dict(answer.headers)
    except urllib.error.HTTPError as error:
        raw, status, headers = error.read(), error.code, dict(error.headers)
    elapsed = time.monotonic() - started
    try:
        body: Any = json.loads(raw)
    except ValueError:
        body = raw.decode("utf-8", "replace")
    return Reply(status, body, elapsed, headers)


def stored_events(database_url: str, sender: str) -> List[Dict[str, Any]]:
    """Every event row of the conversation, in stored order, as dicts."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :sender ORDER BY id"),
                {"sender": sender},
            ).fetchall()
    finally:
        engine.dispose()
    return [json.loads(row[0]) for row in rows]


def user_texts(events: List[Dict[str, Any]]) -> List[str]:
    """What the visitor said, in stored order (verbatim text where the channel kept it)."""
    texts = []
    for event in events:
        metadata = event.get("metadata") or {}
        # Triggers the channel sends on the visitor's behalf (the greeting) are not words.
        if event.get("event") == "user" and not metadata.get("is_external"):
            original = metadata.get("original_text")
            texts.append(original if original is not None else event.get("text"))
    return texts


def restart(stack: Stack, name: str, timeout: float = 120.0) -> None:
    """Stop one service of the stack and start it again, waiting until it answers."""
    service = next(s for s in stack.services if s.name == name)
    service.stop()
    service.start(stack.log_dir)
    wait_ready(stack, name, timeout)


def wait_ready(stack: Stack, name: str, timeout: float = 120.0) -> None:
    """Block until the named service answers."""
    service = next(s for s in stack.services if s.name == name)
    deadline = time.monotonic() + timeout
    while not service.is_ready():
        assert service.process is not None and service.process.poll() is None, f"{name} died"
        assert time.monotonic() < deadline, f"{name} did not come back"
        time.sleep(0.25)


class HangingServer:
    """Accepts connections on a loopback port and never answers: a stuck action server."""

    def __init__(self, port: int) -> None:
        """Listen on 127.0.0.1:`port` right away."""
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.held: List[socket.socket] = []
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            self.held.append(connection)

    def close(self) -> None:
        """Stop listening and drop every held connection."""
        self._stop.set()
        self._thread.join(timeout=5)
        for connection in self.held:
            connection.close()
        self.sock.close()
