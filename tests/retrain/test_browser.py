"""End to end, as staff would do it: real visitor logs, the console's inbox in headless
Chromium, the console's Retrain button (`make retrain`'s command in the background), and the
running assistant answering the new phrasings right without a restart; then the console's
Roll back button (`make rollback`'s command) puts everything back.

Runs on a copy of the project (tests/retrain/conftest.py), once with SQLite and once with
PostgreSQL as the conversations' database; screenshots for
docs/RETRAINING.md go to docs/screenshots/retrain-*.png.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from typing import Dict, Iterator, List, Tuple

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from practice.launcher import Stack
from practice.retrain import store
from practice.retrain.project import HOLDOUT_FILE, NLU_FILE, sha256_of
from practice.settings import PROJECT_ROOT, load_settings
from tests.conftest import debian_chromium, stack_environment

from .conftest import Workspace, postgres_database

SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
STAFF, PASSWORD = "robin", "retraining staff password"
# New ways visitors ask things, and what they mean. The baseline model gets at least four of
# them wrong (checked below); the test annotates the ones it gets wrong.
NEW_PHRASINGS = [
    ("my gut feels like a sieve, what's going on", "ask_what_is_leaky_gut"),
    ("can sourdough bread be ok for me", "ask_gluten"),
    ("is kvass worth drinking", "ask_probiotics"),
    ("does pilates help my tummy", "ask_exercise"),
    ("does trampolining help digestion", "ask_exercise"),
    ("could my eczema be from my gut", "ask_linked_conditions"),
    ("is natto any use for me", "ask_probiotics"),
    ("is rye sourdough fine for me", "ask_gluten"),
    ("my psoriasis keeps flaring, gut thing?", "ask_linked_conditions"),
]
NOISE = ["asdf asdf", "test test 123"]

expect.set_options(timeout=20_000)


class Assistant:
    """The running stack's REST channel and its conversation log."""

    def __init__(self, stack: Stack, database_url: str) -> None:
        self.url = f"http://127.0.0.1:{stack.settings.rasa_port}/webhooks/rest/webhook"
        self.engine = sa.create_engine(database_url, future=True)

    def say(self, text: str, sender: str = "") -> Tuple[str, List[str]]:
        """Send a visitor message; return the intent Rasa logged for it and the replies."""
        sender = sender or secrets.token_hex(16)
        request = urllib.request.Request(
            self.url,
            data=json.dumps({"sender": sender, "message": text}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            replies = [m.get("text") or "" for m in json.loads(response.read())]
        return self.last_intent(sender), replies

    def last_intent(self, sender: str) -> str:
        """The intent of the sender's latest message, as logged."""
        with self.engine.connect() as connection:
            return connection.execute(
                sa.text(
                    "SELECT intent_name FROM events WHERE sender_id = :s AND type_name = 'user' "
                    "ORDER BY id DESC LIMIT 1"
                ),
                {"s": sender},
            ).scalar()

    def events(self, sender: str) -> List[Tuple[str, str]]:
        """(type, intent or action) of every event of a conversation, in order."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT type_name, COALESCE(intent_name, action_name, '') FROM events "
                    "WHERE sender_id = :s ORDER BY id"
                ),
                {"s": sender},
            ).all()
        return [(r[0], r[1]) for r in rows]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_workspace(request: pytest.FixtureRequest, workspace: Workspace) -> Workspace:
    """The workspace on SQLite, then on an emptied PostgreSQL database of its own."""
    if request.param == "sqlite":
        return workspace
    url = postgres_database("practice_retrain_browser")
    engine = sa.create_engine(url, future=True)
    try:
        existing = sa.MetaData()
        existing.reflect(engine)
        existing.drop_all(engine)
    finally:
        engine.dispose()
    return dataclasses.replace(workspace, database_url=url)


@pytest.fixture
def running(database_workspace: Workspace) -> Iterator[Tuple[Stack, Dict[str, str]]]:
    """Rasa, the action server and the console on the workspace's copy, reloading every 1 s."""
    env = stack_environment(
        database_workspace.root, **database_workspace.env, MODEL_RELOAD_SECONDS="1", CONSOLE_TIMEZONE="UTC"
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "practice.console.accounts",
            "create",
            "--username",
            STAFF,
            "--role",
            "staff",
        ],
        input=PASSWORD + "\n",
        text=True,
        env={**os.environ, **env},
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    stack = Stack(
        load_settings(env),
        extra_env=env,
        only=["actions", "rasa", "console"],
        log_dir=database_workspace.root / "logs",
    )
    stack.start(timeout=240)
    try:
        yield stack, env
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless; Playwright never downloads a browser."""
    with debian_chromium() as chromium:
        yield chromium


def shot(page: Page, name: str) -> None:
    """A screenshot for docs/RETRAINING.md."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"retrain-{name}.png"), full_page=True)


def sign_in(browser: Browser, console_url: str) -> Page:
    """A staff member's signed-in page on the inbox."""
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    page.goto(console_url + "/inbox")
    page.get_by_label("Username").fill(STAFF)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(console_url + "/inbox")
    return page


def test_staff_annotate_in_the_console_retrain_and_the_running_assistant_answers_right(
    database_workspace: Workspace, running: Tuple[Stack, Dict[str, str]], browser: Browser
) -> None:
    workspace = database_workspace
    stack, env = running
    assistant = Assistant(stack, workspace.database_url)
    data_before = {n: (workspace.project / n).read_bytes() for n in (NLU_FILE, HOLDOUT_FILE)}
    baseline_sha = sha256_of(workspace.model_dir / "current.tar.gz")

    # 1. Real visitors: a conversation that spans the retraining, new phrasings, noise.
    alice = secrets.token_hex(16)
    assert assistant.say("hi", alice)[0] == "greet"
    wrong = []
    for text, meant in NEW_PHRASINGS:
        intent, _ = assistant.say(text)
        if intent != meant:
            wrong.append((text, meant, intent))
    assert len(wrong) >= 4, f"the baseline already answers most new phrasings: {wrong}"
    for text in NOISE:
        assistant.say(text)

    # 2. Staff decide in the console's inbox, per message and in bulk.
    console_url = f"http://127.0.0.1:{stack.settings.console_port}"
    page = sign_in(browser, console_url)
    # The inbox reads a message once it has settled (2 s by default): reload until every
    # new phrasing and the noise said after them are listed, rather than sleeping for a copy
    # of that setting (the page does not change between reloads).
    deadline = time.monotonic() + 30
    while True:
        page.reload()
        listed = [page.locator("tr.group", has_text=text).count() for text in [t for t, _, _ in wrong] + NOISE[:1]]
        if all(listed) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    for text, _, predicted in wrong:
        row = page.locator("tr.group", has_text=text)
        expect(row).to_have_count(1)
        expect(row.locator(".intent")).to_have_attribute("data-intent", predicted)
    expect(page.locator("tr.group", has_text="asdf asdf")).to_have_count(1)
    shot(page, "inbox")
    for text, meant, _ in wrong:
        row = page.locator("tr.group", has_text=text)
        row.get_by_label(f"Intent for: {text}").select_option(meant)
        row.get_by_role("button", name="Relabel").click()
        expect(page.get_by_role("status")).to_contain_text("1 message(s) relabelled")
        expect(page.locator("tr.group", has_text=text)).to_have_count(0)
    for text in NOISE:
        page.get_by_label(f"Tick: {text}").check()
    page.locator(".bulk").get_by_role("button", name="Discard").click()
    expect(page.get_by_role("status")).to_contain_text("2 message(s) discarded")
    page.get_by_role("link", name=f"{len(wrong)} decision(s) waiting").click()
    expect(page.locator("table.annotations tbody tr")).to_have_count(len(wrong))
    expect(page.locator("table.discarded tbody tr")).to_have_count(len(NOISE))
    shot(page, "annotated")

    # 3. Staff click Retrain now (`make retrain` in the background): the gate passes, the
    #    model is promoted, the server reloads it; the page shows progress, then the verdict.
    page.goto(console_url + "/retrain")
    page.get_by_role("button", name="Retrain now").click()
    expect(page.get_by_role("heading", name="Retraining running")).to_be_visible()
    shot(page, "running")
    expect(page.get_by_role("heading", name="Retraining finished")).to_be_visible(timeout=900_000)
    log = page.locator("pre.log").inner_text()
    assert "PROMOTED" in log, log
    assert "server process(es) now answer with the new model" in log
    promoted_sha = sha256_of(workspace.model_dir / "current.tar.gz")
    assert promoted_sha != baseline_sha
    outcome = page.locator("#job-outcome").inner_text()
    assert outcome.startswith(f"gate passed, promoted: model {baseline_sha[:12]} -> {promoted_sha[:12]}"), outcome
    shot(page, "finished")
    nlu = (workspace.project / NLU_FILE).read_text()
    for text, _, _ in wrong:
        assert f"    - {text}\n" in nlu
    assert "asdf" not in nlu

    # 4. The running assistant answers the new phrasings right, no restart...
    for text, meant, _ in wrong:
        assert assistant.say(text)[0] == meant, text
    # ... and the conversation that began before retraining carries on where it was.
    before = assistant.events(alice)
    text, meant, _ = wrong[0]
    assert assistant.say(text, alice)[0] == meant
    after = assistant.events(alice)
    assert after[: len(before)] == before
    assert [e for e in after if e[0] == "session_started"] == [("session_started", "")]

    # 5. The console shows the run and its report.
    page.goto(console_url + "/retrain")
    expect(page.locator("table.runs .badge")).to_have_text("promoted")
    shot(page, "runs")
    page.locator("table.runs a").first.click()
    expect(page.locator("h1")).to_contain_text("promoted")
    expect(page.locator("table.checks .badge.alert")).to_have_count(0)
    expect(page.locator("img[alt='Confusion matrix of the candidate model']")).to_be_visible()
    assert page.locator("img[alt='Confusion matrix of the candidate model']").evaluate("img => img.naturalWidth") > 100
    shot(page, "report")
    page.goto(console_url + "/inbox")
    for text, _, _ in wrong:
        expect(page.locator("tr.group", has_text=text)).to_have_count(0)

    # 6. Roll back from the page (`make rollback`): the previous model and data come back,
    #    the server reloads again; every step is in the audit log with who and which model.
    page.goto(console_url + "/retrain")
    page.get_by_role("button", name="Roll back the last promotion").click()
    expect(page.get_by_role("heading", name="Rollback finished")).to_be_visible(timeout=300_000)
    log = page.locator("pre.log").inner_text()
    assert "ROLLED BACK" in log, log
    assert "server process(es) now answer with the new model" in log
    assert sha256_of(workspace.model_dir / "current.tar.gz") == baseline_sha
    expect(page.locator("#job-outcome")).to_have_text(f"rolled back: model {promoted_sha[:12]} -> {baseline_sha[:12]}")
    from practice.console import audit

    logged = [(e.action, e.detail) for e in audit.entries(workspace.engine(), username=STAFF)]
    assert [a for a, _ in logged if a.startswith(("retrain_", "rollback_"))] == [
        "rollback_finished",
        "rollback_started",
        "retrain_finished",
        "retrain_started",
    ]
    assert any(a == "retrain_finished" and d.startswith("gate passed, promoted: model") for a, d in logged)
    for name, content in data_before.items():
        assert (workspace.project / name).read_bytes() == content, name
    text, meant, predicted = wrong[0]
    assert assistant.say(text)[0] == predicted
    assert len(store.pending_annotations(workspace.engine())) == len(wrong)
