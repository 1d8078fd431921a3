"""The retraining pages of the console in headless Chromium: staff only, CSRF, inert text.

A real `python -m practice.console` process on a seeded SQLite database; no Rasa needed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from practice.retrain import store
from practice.settings import PROJECT_ROOT
from tests.conftest import debian_chromium, free_port

from .conftest import seed_user_messages

PASSWORDS = {"sam": "staff password for sam", "casey": "coach password for casey"}
XSS = '<img src=x onerror="alert(1)"> **bold** <script>alert(2)</script>'
STAFF_PAGES = [
    "/inbox",
    "/inbox/annotated",
    "/retrain",
    "/retrain/run?id=20260101-000000",
    "/retrain/run/confusion.png?id=20260101-000000",
]

expect.set_options(timeout=15_000)


@dataclass(frozen=True)
class Console:
    """A running console: its URL and its database."""

    url: str
    database_url: str


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """The console on a database with a few logged visitor messages."""
    tmp = tmp_path_factory.mktemp("retrain-console")
    url = f"sqlite:///{tmp / 'conversations.db'}"
    seed_user_messages(
        sa.create_engine(url, future=True),
        [
            (XSS, "greet", 0.2),
            (
                "is kefir worth drinking",
                "ask_probiotics",
                0.45,
                [("ask_probiotics", 0.45), ("ask_gluten", 0.2), ("greet", 0.1)],
            ),
            ("is kombucha any good for the gut", "ask_probiotics", 0.52),
        ],
    )
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CONSOLE_PORT": str(port),
        "CONSOLE_HOST": "127.0.0.1",
        "RETRAIN_DIR": str(tmp / "runs"),
        "MODEL_DIR": str(tmp / "models"),
    }
    for username, role in (("sam", "staff"), ("casey", "coach")):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "practice.console.accounts",
                "create",
                "--username",
                username,
                "--role",
                role,
            ],
            input=PASSWORDS[username] + "\n",
            text=True,
            env=env,
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
            timeout=120,
        )
    log = (tmp / "console.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "practice.console"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/login", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"console did not start: {(tmp / 'console.log').read_text()}")
                time.sleep(0.2)
        yield Console(base, url)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    with debian_chromium() as chromium:
        yield chromium


def sign_in(browser: Browser, console: Console, username: str) -> Page:
    """A signed-in page; any dialog (a script that ran) fails the test."""
    page = browser.new_context().new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a script ran: {dialog.message}"))
    page.goto(console.url + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(console.url + "/conversations")
    return page


def test_coaches_cannot_reach_the_retraining_pages(browser: Browser, console: Console) -> None:
    coach = sign_in(browser, console, "casey")
    expect(coach.get_by_role("navigation", name="Main")).not_to_contain_text("NLU inbox")
    for path in STAFF_PAGES:
        response = coach.goto(console.url + path)
        assert response is not None and response.status == 403, path
    csrf = coach.goto(console.url + "/conversations") and coach.locator("input[name=csrf_token]").first.get_attribute(
        "value"
    )
    for path, form in (("/inbox/annotate", {"bulk": "discard"}), ("/inbox/undo", {"one": "0"})):
        answer = coach.request.post(console.url + path, form={"csrf_token": csrf, **form})
        assert answer.status == 403, path
    coach.context.close()


def test_the_inbox_fits_1280_px_searches_text_and_shows_the_top_three(browser: Browser, console: Console) -> None:
    staff = sign_in(browser, console, "sam")
    staff.set_viewport_size({"width": 1280, "height": 800})
    staff.goto(console.url + "/inbox")
    expect(staff.locator("tr.group")).to_have_count(3)
    assert staff.evaluate("document.documentElement.scrollWidth") <= 1280
    for button in staff.get_by_role("button", name="Discard", exact=True).all():
        box = button.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1280
    kefir = staff.locator("tr.group", has_text="is kefir worth drinking")
    expect(kefir.locator(".ranking li")).to_have_text(["probiotics 0.45", "gluten 0.20", "greeting 0.10"])
    expect(kefir.locator(".rank-intent").first).to_have_attribute("data-intent", "ask_probiotics")
    staff.get_by_label("Text").fill("KEFIR")
    staff.get_by_role("button", name="Filter").click()
    expect(staff.locator("tr.group .message")).to_have_text(["is kefir worth drinking"])
    assert "q=KEFIR" in staff.url
    staff.context.close()


def test_staff_see_visitor_text_inert_and_forms_need_the_csrf_token(browser: Browser, console: Console) -> None:
    staff = sign_in(browser, console, "sam")
    staff.get_by_role("navigation", name="Main").get_by_role("link", name="NLU inbox").click()
    expect(staff.locator("tr.group").first.locator(".message")).to_have_text(XSS)
    assert staff.locator("tr.group img, tr.group script, tr.group strong").count() == 0
    # Kefir and kombucha are different questions: two groups, the less certain first.
    expect(staff.locator("tr.group .message")).to_have_text(
        [XSS, "is kefir worth drinking", "is kombucha any good for the gut"]
    )

    forged = staff.request.post(console.url + "/inbox/annotate", form={"bulk": "discard", "group": "0" * 40})
    assert forged.status == 403

    staff.get_by_label("Tick: is kefir worth drinking").check()
    staff.get_by_label("Tick: is kombucha any good for the gut").check()
    staff.locator(".bulk").get_by_role("button", name="Confirm predictions").click()
    expect(staff.get_by_role("status")).to_contain_text("2 message(s) confirmed")
    expect(staff.locator("tr.group .message")).to_have_text([XSS])
    staff.locator(".bulk").get_by_role("button", name="Relabel").click()
    expect(staff.get_by_role("alert")).to_have_text("Tick at least one message first.")

    staff.goto(console.url + "/inbox/annotated")
    rows = staff.locator("table.annotations tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="is kefir worth drinking").locator(".intent").first).to_have_attribute(
        "data-intent", "ask_probiotics"
    )
    rows.filter(has_text="kefir").get_by_role("button", name="Undo").click()
    expect(staff.get_by_role("status")).to_contain_text("1 decision(s) undone")
    expect(staff.locator("table.annotations tbody tr")).to_have_count(1)
    for path in ("/retrain/run?id=../../etc/passwd", "/retrain/run/confusion.png?id=x&which=../a"):
        assert staff.goto(console.url + path).status == 404
    staff.context.close()


def test_decisions_are_stored_with_who_and_the_shown_intent(console: Console) -> None:
    engine = sa.create_engine(console.database_url, future=True)
    decided = store.pending_annotations(engine)
    assert [(a.text, a.action, a.intent, a.annotated_by) for a in decided] == [
        ("is kombucha any good for the gut", "confirm", "ask_probiotics", "sam")
    ]


def test_the_audit_log_names_each_decision_s_message_and_intents(console: Console) -> None:
    from practice.console import audit

    engine = sa.create_engine(console.database_url, future=True)
    details = [(e.action, e.detail) for e in audit.entries(engine, username="sam") if e.action.startswith("nlu_")]
    assert ("nlu_annotate", 'confirmed "is kombucha any good for the gut": ask_probiotics -> ask_probiotics') in details
    assert ("nlu_annotate", 'confirmed "is kefir worth drinking": ask_probiotics -> ask_probiotics') in details
    assert (
        "nlu_undo",
        'undid "is kefir worth drinking": confirmed as ask_probiotics (predicted ask_probiotics)',
    ) in details
