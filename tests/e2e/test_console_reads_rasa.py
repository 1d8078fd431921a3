"""End to end: what the running assistant stores is what the coaches' console shows."""

from __future__ import annotations

import html
import http.cookiejar
import json
import re
import secrets
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, List

import pytest

from practice.settings import PROJECT_ROOT

PASSWORD = "end to end password"


class ConsoleClient:
    """A browser-less client of the console: cookies, the sign-in form's token."""

    def __init__(self, base: str) -> None:
        """Remember where the console is; keep cookies between requests."""
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> str:
        """A page's HTML."""
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.read().decode("utf-8")

    def sign_in(self, username: str, password: str) -> None:
        """Sign in through the form, as a browser would."""
        token = re.search(r'name="login_csrf" value="([^"]+)"', self.get("/login")).group(1)
        form = urllib.parse.urlencode(
            {"login_csrf": token, "username": username, "password": password, "next": "/conversations"}
        )
        with self.opener.open(self.base + "/login", data=form.encode(), timeout=30) as response:
            assert response.url.endswith("/conversations")


@pytest.fixture(scope="module")
def running(start_stack) -> Any:
    """Actions, Rasa and the console on one fresh SQLite database, with a coach account."""
    stack = start_stack(only=["actions", "rasa", "console"])
    subprocess.run(
        [sys.executable, "-m", "practice.console.accounts", "create", "--username", "e2e", "--role", "coach"],
        input=PASSWORD + "\n",
        text=True,
        env={**stack.env, "PATH": "/usr/bin:/bin"},
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return stack


def _say(stack: Any, sender: str, text: str) -> None:
    url = f"http://127.0.0.1:{stack.settings.rasa_port}/webhooks/rest/webhook"
    request = urllib.request.Request(
        url, data=json.dumps({"sender": sender, "message": text}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def _stored(stack: Any, sender: str) -> List[Dict[str, Any]]:
    database = Path(stack.settings.database_url.removeprefix("sqlite:///"))
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()
    return [json.loads(row[0]) for row in rows]


def test_the_console_shows_what_rasa_stored(running: Any) -> None:
    sender = "e2e-" + secrets.token_hex(8)
    for text in ("what is leaky gut?", "which foods should I avoid", "asdf qwerty zxcv"):
        _say(running, sender, text)
    stored = _stored(running, sender)
    users = [e for e in stored if e["event"] == "user"]
    intents = [e["parse_data"]["intent"]["name"] for e in users]
    offered = any(
        e["event"] == "action" and e["name"] in ("utter_offer_coaching", "utter_closing", "utter_request_coach")
        for e in stored
    )

    console = ConsoleClient(f"http://127.0.0.1:{running.settings.console_port}")
    console.sign_in("e2e", PASSWORD)
    expected_topics = sorted({i for i in intents if i.startswith("ask_")})
    assert expected_topics, f"the assistant recognised no question: {intents}"
    # The console folds new events into its summaries as pages are read: on a busy machine
    # the newest turns can take a moment to show, so look again for a few seconds.
    deadline = time.monotonic() + 20
    while True:
        page = console.get("/conversations?" + urllib.parse.urlencode({"q": "qwerty"}))
        row = re.search(rf'<tr data-conversation="{sender}">(.*?)</tr>', page, re.S)
        # Each topic shows its friendly label, with the intent's name as its title.
        shown_topics = (
            []
            if row is None
            else [html.unescape(t) for t in re.findall(r'<span class="topic" title="(.*?)">', row.group(1))]
        )
        if shown_topics == expected_topics or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert row is not None, "the conversation is not in the list"
    assert shown_topics == expected_topics
    assert ('<span class="badge yes">shown</span>' in row.group(1)) == offered

    transcript = console.get("/conversation?" + urllib.parse.urlencode({"id": sender}))
    shown_texts = [html.unescape(t) for t in re.findall(r'<p class="text">(.*?)</p>', transcript)]
    assert [t for t in shown_texts if t in {u["text"] for u in users}] == [u["text"] for u in users]
    assert re.findall(r'<span class="intent" data-intent="(.*?)"', transcript) == intents
