"""The console in headless Chromium, as a coach and as staff would use it.

A real `python -m practice.console` process serves a database seeded through Rasa's
tracker store; accounts come from the accounts command. Screenshots go to docs/screenshots/.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Set

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from practice.settings import PROJECT_ROOT
from tests.conftest import debian_chromium

from .conftest import Seeder, postgres_url, reset_database, scenarios

SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
PASSWORDS = {"staff1": "staff password one", "coach1": "coach password one", "locky": "locky password one"}
ALL = {
    "c-yesterday-fallback",
    "c-yesterday-clicked",
    "c-2days-safety",
    "c-2days-lowconf",
    "c-8days-xss",
    "c-8days-search",
    "c-8days-evening",
}

REFUSED = (
    "Wrong username or password. After 3 failed sign-ins in a row an account is "
    "locked for 15 minutes; staff can unlock it."
)

expect.set_options(timeout=10_000)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def utc_day(days_ago: int) -> str:
    """An ISO date `days_ago` days before today (UTC, the console's zone in these tests)."""
    return (dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=days_ago)).isoformat()


@dataclass
class Console:
    """A running console process and where it listens."""

    url: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        """Stop the process (its own group) and wait for it."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def start_console(database_url: str, tmp: Path) -> Console:
    """Seed, create the accounts with the accounts command, and start the console."""
    reset_database(database_url)
    seeder = Seeder(database_url)
    try:
        seeder.seed(scenarios())
    finally:
        seeder.close()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CONSOLE_PORT": str(port),
        "CONSOLE_HOST": "127.0.0.1",
        "CONSOLE_TIMEZONE": "UTC",
        "CONSOLE_LOCKOUT_ATTEMPTS": "3",
    }
    for username, role in (("staff1", "staff"), ("coach1", "coach"), ("locky", "coach")):
        subprocess.run(
            [sys.executable, "-m", "practice.console.accounts", "create", "--username", username, "--role", role],
            input=PASSWORDS[username] + "\n",
            text=True,
            env=env,
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
            timeout=60,
        )
    log = tmp / "console.log"
    with log.open("w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "practice.console"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    console = Console(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"console exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(console.url + "/login", timeout=2):
                return console
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    console.stop()
    pytest.fail(f"console did not answer:\n{log.read_text()}")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def console(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """The console on a seeded database: every test of this module runs on SQLite, then
    on PostgreSQL (a database of its own, emptied and seeded again)."""
    tmp = tmp_path_factory.mktemp("console")
    database = (
        f"sqlite:///{tmp / 'conversations.db'}"
        if request.param == "sqlite"
        else postgres_url("practice_console_browser")
    )
    running = start_console(database, tmp)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless; Playwright never downloads a browser."""
    with debian_chromium() as chromium:
        yield chromium


def sign_in(browser: Browser, console: Console, username: str) -> Page:
    """A fresh browser context signed in as `username`; dialogs fail the test."""
    context: BrowserContext = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    page.goto(console.url + "/conversations")
    expect(page).to_have_url(console.url + "/login?next=%2Fconversations")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(console.url + "/conversations")
    return page


@pytest.fixture(scope="module")
def coach(browser: Browser, console: Console) -> Iterator[Page]:
    """A coach's signed-in page, shared by the read-only tests of this module."""
    page = sign_in(browser, console, "coach1")
    yield page
    page.context.close()


def listed(page: Page) -> Set[str]:
    """The conversation ids the list shows."""
    return set(page.locator("tr[data-conversation]").evaluate_all("rows => rows.map(r => r.dataset.conversation)"))


def shot(page: Page, name: str, full_page: bool = True) -> None:
    """Save a screenshot for the docs."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"), full_page=full_page)


def test_wrong_password_is_refused(browser: Browser, console: Console) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(console.url + "/login")
    page.get_by_label("Username").fill("coach1")
    page.get_by_label("Password").fill("not the password")
    with page.expect_response(lambda r: r.request.method == "POST") as response:
        page.get_by_role("button", name="Sign in").click()
    assert response.value.status == 401
    expect(page.get_by_role("alert")).to_have_text(REFUSED)
    assert "practice_console_session" not in {c["name"] for c in context.cookies()}
    shot(page, "login-wrong-password", full_page=False)
    page.goto(console.url + "/conversations")
    expect(page).to_have_url(console.url + "/login?next=%2Fconversations")
    context.close()


def test_repeated_failures_lock_the_account(browser: Browser, console: Console) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(console.url + "/login")
    for _ in range(3):
        page.get_by_label("Username").fill("locky")
        page.get_by_label("Password").fill("wrong guess")
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(REFUSED)
    page.get_by_label("Username").fill("locky")
    page.get_by_label("Password").fill(PASSWORDS["locky"])
    with page.expect_response(lambda r: r.request.method == "POST") as locked:
        page.get_by_role("button", name="Sign in").click()
    # Locked, even with the right password: the same answer as for a wrong one.
    expect(page.get_by_role("alert")).to_have_text(REFUSED)
    locked_page = page.locator("main").inner_html().replace("locky", "USER")
    page.get_by_label("Username").fill("nobody-here")
    page.get_by_label("Password").fill("wrong guess")
    with page.expect_response(lambda r: r.request.method == "POST") as unknown:
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(REFUSED)
    unknown_page = page.locator("main").inner_html().replace("nobody-here", "USER")
    assert locked.value.status == unknown.value.status == 401

    def without_token(html: str) -> str:
        start = html.index('name="login_csrf" value="') + 25
        return html[:start] + html[html.index('"', start) :]

    assert without_token(locked_page) == without_token(unknown_page)
    context.close()


def test_the_console_has_a_favicon(browser: Browser, console: Console) -> None:
    context = browser.new_context()
    page = context.new_page()
    failed: List[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto(console.url + "/login")
    icon = page.request.get(console.url + "/favicon.ico")
    assert (icon.status, icon.headers["content-type"]) == (200, "image/x-icon")
    assert icon.body()[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert page.locator('link[rel="icon"]').get_attribute("href") == "/favicon.ico"
    assert failed == []
    context.close()


def test_session_cookie_is_httponly_and_samesite(coach: Page) -> None:
    cookie = next(c for c in coach.context.cookies() if c["name"] == "practice_console_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert coach.evaluate("document.cookie") == ""


def test_list_shows_every_conversation_and_its_facts(coach: Page, console: Console) -> None:
    coach.goto(console.url + "/conversations")
    assert listed(coach) == ALL
    expect(coach.locator("#result-count")).to_contain_text("7 conversations")
    row = coach.locator('tr[data-conversation="c-yesterday-clicked"]')
    expect(row).to_contain_text("Which foods help the gut lining?")
    expect(row).to_contain_text("foods to eat")
    expect(row.locator(".badge.yes")).to_have_text(["shown", "clicked"])
    expect(coach.locator('tr[data-conversation="c-2days-safety"] .badge.alert')).to_have_text("1")
    expect(coach.get_by_role("navigation", name="Main").get_by_role("link")).to_have_text(
        ["Conversations", "Dashboard", "Where it fails"]
    )
    shot(coach, "list", full_page=False)


def apply_filters(page: Page) -> None:
    """Submit the filter form and wait for the filtered list."""
    with page.expect_navigation():
        page.get_by_role("button", name="Apply filters").click()


def _select(page: Page, label: str, value: str) -> None:
    page.get_by_label(label, exact=True).select_option(value=value)


FILTERS = {
    "had a fallback": (lambda p: _select(p, "Fallback", "yes"), {"c-yesterday-fallback", "c-8days-xss"}),
    "ended in a fallback": (lambda p: _select(p, "Fallback", "ended"), {"c-yesterday-fallback"}),
    "no fallback": (
        lambda p: _select(p, "Fallback", "no"),
        {"c-yesterday-clicked", "c-2days-safety", "c-2days-lowconf", "c-8days-search", "c-8days-evening"},
    ),
    "topic": (lambda p: _select(p, "Topic / intent", "ask_gluten"), {"c-2days-lowconf"}),
    "low confidence": (
        lambda p: p.get_by_label("Low confidence").check(),
        {"c-yesterday-fallback", "c-2days-lowconf", "c-8days-xss"},
    ),
    "escalation": (lambda p: _select(p, "Safety escalation", "yes"), {"c-2days-safety"}),
    "offer not shown": (
        lambda p: _select(p, "Closing offer shown", "no"),
        {"c-yesterday-fallback", "c-2days-safety", "c-8days-xss", "c-8days-evening"},
    ),
    "clicked": (lambda p: _select(p, "Application clicked", "yes"), {"c-yesterday-clicked", "c-8days-search"}),
    "not clicked": (lambda p: _select(p, "Application clicked", "no"), ALL - {"c-yesterday-clicked", "c-8days-search"}),
    "date range": (
        lambda p: (
            p.get_by_label("From", exact=True).fill(utc_day(2)),
            p.get_by_label("To", exact=True).fill(utc_day(2)),
        ),
        {"c-2days-safety", "c-2days-lowconf"},
    ),
    "search": (lambda p: p.get_by_label("Visitor said").fill("KOMBUCHA"), {"c-8days-search"}),
}


@pytest.mark.parametrize("choose, expected", FILTERS.values(), ids=FILTERS.keys())
def test_each_filter(coach: Page, console: Console, choose, expected: Set[str]) -> None:
    coach.goto(console.url + "/conversations")
    choose(coach)
    apply_filters(coach)
    assert listed(coach) == expected, coach.url
    expect(coach.locator("#result-count")).to_contain_text(f"{len(expected)} conversation")


def test_bad_dates_and_long_searches_are_explained(coach: Page, console: Console) -> None:
    coach.goto(console.url + f"/conversations?from={utc_day(1)}&to={utc_day(2)}")
    expect(coach.get_by_role("alert")).to_contain_text("was after “To”")
    assert listed(coach) == {"c-yesterday-fallback", "c-yesterday-clicked", "c-2days-safety", "c-2days-lowconf"}
    # The form sends empty fields too; the short URL it redirects to keeps the message.
    coach.goto(console.url + f"/conversations?from={utc_day(1)}&to={utc_day(2)}&intent=")
    expect(coach.get_by_role("alert")).to_contain_text("was after “To”")
    coach.goto(console.url + "/conversations?from=31/12/2026")
    expect(coach.get_by_role("alert")).to_contain_text("“From” must be a date like 2026-01-31")
    assert listed(coach) == ALL
    coach.goto(console.url + f"/dashboard?from={utc_day(1)}&to={utc_day(8)}")
    expect(coach.get_by_role("alert")).to_contain_text("the two were swapped")
    expect(coach.locator("#stat-conversations")).to_have_text("7")
    coach.goto(console.url + "/dashboard?to=soon")
    expect(coach.get_by_role("alert")).to_contain_text("“To” must be a date")

    # ~10 KB: over Sanic's default 8 KB head; answered by the list, with its navigation.
    coach.goto(console.url + "/conversations?q=" + "kombucha+" * 1100)
    expect(coach.get_by_role("alert")).to_contain_text("only the first 200 were searched for")
    expect(coach.get_by_role("navigation", name="Main")).to_be_visible()
    assert coach.get_by_label("Visitor said").get_attribute("maxlength") == "200"
    # ~20 KB: the head itself is refused, with a message that says what to do.
    with coach.expect_response(lambda r: "conversations" in r.url) as answer:
        coach.goto(console.url + "/conversations?q=" + "kombucha+" * 2300)
    assert answer.value.status == 413
    expect(coach.get_by_role("alert")).to_contain_text("at most 200 characters")
    coach.get_by_role("link", name="Back to the conversations").click()
    expect(coach).to_have_url(console.url + "/conversations")


def test_yesterday_and_fallback_the_way_a_coach_finds_them(coach: Page, console: Console) -> None:
    coach.goto(console.url + "/conversations")
    coach.get_by_role("link", name="Yesterday").click()
    assert listed(coach) == {"c-yesterday-fallback", "c-yesterday-clicked"}
    _select(coach, "Fallback", "ended")
    apply_filters(coach)
    assert listed(coach) == {"c-yesterday-fallback"}
    expect(coach.get_by_label("From", exact=True)).to_have_value(utc_day(1))
    # A short address that can be bookmarked or sent to a colleague.
    assert coach.url == (f"{console.url}/conversations?from={utc_day(1)}&to={utc_day(1)}&fallback=ended")
    shot(coach, "yesterday-fallbacks", full_page=False)


def test_transcript_reads_as_a_conversation_with_internals_behind_a_toggle(coach: Page, console: Console) -> None:
    coach.goto(console.url + "/conversations?fallback=ended")
    coach.locator('tr[data-conversation="c-yesterday-fallback"] a').click()
    expect(coach.get_by_role("heading", level=1)).to_contain_text("c-yesterday-fallback")
    users = coach.locator(".event.user")
    expect(users.locator(".text")).to_have_text(["What is leaky gut?", "blorp zzz qux"])
    # The same friendly labels as the list and the dashboard; the raw name on hover.
    expect(users.locator(".intent")).to_have_text(["what is leaky gut", "not understood (fallback)"])
    expect(users.locator(".intent").first).to_have_attribute("title", "ask_what_is_leaky_gut")
    expect(users.locator(".confidence")).to_have_text(["0.91", "0.12"])
    expect(users.locator(".confidence.low")).to_have_text(["0.12"])
    expect(coach.locator(".event.bot .text")).to_have_text(
        ["Hello! Ask me about leaky gut.", "An answer about ask_what_is_leaky_gut.", "An answer about nlu_fallback."]
    )
    kinds = coach.locator(".events > li").evaluate_all("items => items.map(i => i.className)")
    # Dialogue only by default: no action_listen, actions, slots or featurization.
    assert kinds == ["event session", "event bot", "event user", "event bot", "event user", "event bot"]
    shot(coach, "transcript")
    coach.get_by_role("link", name="Show Rasa internals (actions, slots, listening)").click()
    kinds = coach.locator(".events > li").evaluate_all("items => items.map(i => i.className)")
    # The widget's greeting trigger (EXTERNAL: greet) is not shown as the visitor's message.
    assert kinds == [
        "event action",
        "event session",
        "event action listen",
        "event action",
        "event bot",
        "event action listen",
        "event user",
        "event action",
        "event bot",
        "event action listen",
        "event user",
        "event action",
        "event bot",
        "event action listen",
    ]
    expect(coach.locator(".event.action .name").nth(6)).to_have_text("action_two_strike_fallback")
    coach.get_by_role("link", name="Hide Rasa internals").click()
    expect(coach.locator(".event.action")).to_have_count(0)
    coach.get_by_role("link", name="← Back to the list").click()
    assert coach.url == console.url + "/conversations?fallback=ended"


def test_a_search_is_highlighted_and_shown_in_the_list(coach: Page, console: Console) -> None:
    coach.goto(console.url + "/conversations?q=kombucha")
    row = coach.locator('tr[data-conversation="c-8days-search"]')
    expect(row.locator(".preview mark")).to_have_text("KOMBUCHA")  # in the first message
    row.get_by_role("link").first.click()
    expect(coach.locator(".event.user .text mark")).to_have_text(["KOMBUCHA"])
    # A match in a later message: its snippet under the first message.
    coach.goto(console.url + "/conversations?q=GLUTEN")
    row = coach.locator('tr[data-conversation="c-2days-lowconf"]')
    expect(row.locator(".snippet")).to_have_text("and is gluten bad")
    expect(row.locator(".snippet mark")).to_have_text("gluten")
    # Markup in a search term or in visitor text stays text around the mark.
    coach.goto(console.url + "/conversations?q=onerror")
    expect(coach.locator('tr[data-conversation="c-8days-xss"] .snippet')).to_have_text(
        '<img src=x onerror="window.__xss=2"> **bold** [x](javascri…'
    )
    expect(coach.locator('tr[data-conversation="c-8days-xss"] .snippet mark')).to_have_text("onerror")
    assert coach.evaluate("window.__xss") is None


def test_the_same_intent_labels_everywhere(coach: Page, console: Console) -> None:
    coach.goto(console.url + "/conversations")
    row = coach.locator('tr[data-conversation="c-2days-lowconf"]')
    expect(row.locator(".topic")).to_have_text(["fiber amount", "gluten"])
    expect(coach.locator('#f-intent option[value="nlu_fallback"]')).to_have_text("not understood (fallback)")
    expect(coach.locator('#f-intent option[value="ask_fiber_amount"]')).to_have_text("fiber amount")
    coach.goto(console.url + "/conversation?id=c-2days-lowconf")
    expect(coach.locator(".event.user .intent")).to_have_text(["fiber amount", "gluten"])
    coach.goto(console.url + f"/dashboard?from={utc_day(8)}&to={utc_day(1)}")
    expect(coach.get_by_role("group", name="Top topics")).to_contain_text("fiber amount")
    expect(coach.locator('#topic-outcomes tr[data-topic="ask_fiber_amount"] th')).to_have_text("fiber amount")
    coach.goto(console.url + "/failures?" + f"from={utc_day(8)}&to={utc_day(1)}")
    expect(coach.locator("tr.failure-group", has_text="fibre?").locator(".intent")).to_have_text("fiber amount")


PHONE_PAGES = [
    "/conversations",
    "/conversations?q=kombucha",
    "/conversation?id=c-8days-xss",
    "/conversation?id=c-8days-xss&internals=1",
    "/dashboard",
    "/failures",
    "/audit",
    "/accounts",
    "/inbox",
    "/inbox/annotated",
    "/retrain",
]


def test_usable_at_360_px(browser: Browser, console: Console) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(console.url + "/login")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_label("Username").fill("staff1")
    page.get_by_label("Password").fill(PASSWORDS["staff1"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(console.url + "/conversations")
    for path in PHONE_PAGES:
        page.goto(console.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width} px wide"
        # Every navigation link and the sign-out button are on screen.
        for item in page.locator(".top nav a, .signout button").all():
            box = item.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, path
    page.goto(console.url + "/conversations")
    page.get_by_label("Fallback", exact=True).select_option("yes")
    apply_filters(page)
    assert listed(page) == {"c-yesterday-fallback", "c-8days-xss"}
    page.locator('tr[data-conversation="c-yesterday-fallback"] a').click()
    expect(page.get_by_role("button", name="Mark as reviewed")).to_be_visible()
    shot(page, "phone-transcript")
    context.close()


def test_previous_and_next_walk_the_filtered_list(coach: Page, console: Console) -> None:
    coach.goto(console.url + "/conversations?offer=yes")
    order = coach.locator("tr[data-conversation]").evaluate_all("rows => rows.map(r => r.dataset.conversation)")
    assert order == ["c-yesterday-clicked", "c-2days-lowconf", "c-8days-search"]
    coach.locator('tr[data-conversation="c-yesterday-clicked"] a').click()
    walk = coach.get_by_role("navigation", name="Conversations in the list")
    expect(walk.get_by_role("link", name="‹ Newer")).to_have_count(0)
    seen = ["c-yesterday-clicked"]
    for _ in range(2):
        walk.get_by_role("link", name="Older ›").click()
        seen.append(coach.get_by_role("heading", level=1).locator("code").inner_text())
    assert seen == order
    expect(walk.get_by_role("link", name="Older ›")).to_have_count(0)
    walk.get_by_role("link", name="‹ Newer").click()
    expect(coach.get_by_role("heading", level=1)).to_contain_text("c-2days-lowconf")
    walk.get_by_role("link", name="← Back to the list").click()
    assert coach.url == console.url + "/conversations?offer=yes"


def test_nothing_the_widget_triggered_shows_anywhere(browser: Browser, console: Console) -> None:
    """Every conversation opens with the widget's `EXTERNAL: greet`: no page may show it."""
    page = sign_in(browser, console, "staff1")
    page.goto(console.url + "/conversations")
    assert "c-empty" not in listed(page)
    page.goto(console.url + "/conversation?id=c-empty")
    seen = [page.locator("body").inner_text()]
    for sender in sorted(ALL):
        page.goto(console.url + "/conversation?id=" + sender)
        seen.append(page.locator("body").inner_text())
    for path in ("/conversations?q=greet", "/conversations?q=external", "/dashboard", "/inbox"):
        page.goto(console.url + path)
        seen.append(page.locator("body").inner_text())
    for path in ("/export.csv", "/export.json"):
        seen.append(page.request.get(console.url + path).text())
    assert not [text for text in seen if "EXTERNAL" in text or "is_external" in text]
    page.goto(console.url + "/conversations?q=greet")
    assert listed(page) == set()
    page.context.close()


def test_review_tag_and_note(browser: Browser, console: Console) -> None:
    page = sign_in(browser, console, "coach1")
    page.goto(console.url + "/conversation?id=c-2days-safety")
    page.get_by_role("button", name="Mark as reviewed").click()
    expect(page.locator(".reviewed")).to_contain_text("by coach1")
    page.get_by_label("New tag").fill("Needs GP referral")
    page.get_by_role("button", name="Add tag").click()
    expect(page.locator(".review .tag")).to_have_text(["needs gp referral"])
    page.get_by_label("Note").fill("Red flag answered correctly.\nNo follow-up needed.")
    # Wait for the form's post-redirect-get to finish: a reload racing it is detached.
    with page.expect_navigation():
        page.get_by_role("button", name="Save note").click()
    page.reload()
    expect(page.get_by_label("Note")).to_have_value("Red flag answered correctly.\nNo follow-up needed.")
    expect(page.locator(".note-meta")).to_contain_text("Last written by coach1 at 20")
    shot(page, "review")

    page.goto(console.url + "/conversations")
    _select(page, "Reviewed", "yes")
    apply_filters(page)
    assert listed(page) == {"c-2days-safety"}
    page.goto(console.url + "/conversations")
    _select(page, "Tag", "needs gp referral")
    apply_filters(page)
    assert listed(page) == {"c-2days-safety"}
    page.goto(console.url + "/conversations?reviewed=no")
    assert listed(page) == ALL - {"c-2days-safety"}

    page.goto(console.url + "/conversation?id=c-2days-safety")
    page.get_by_role("button", name="Remove tag needs gp referral").click()
    expect(page.locator(".review .tag")).to_have_count(0)
    # No conversation carries it any more: it leaves the suggestions and the filter.
    expect(page.locator("#known-tags option")).to_have_count(0)
    page.get_by_role("button", name="Mark as not reviewed").click()
    expect(page.get_by_role("button", name="Mark as reviewed")).to_be_visible()
    page.context.close()


def test_a_tag_is_deleted_from_every_conversation(browser: Browser, console: Console) -> None:
    page = sign_in(browser, console, "coach1")
    for sender in ("c-8days-evening", "c-8days-search"):
        page.goto(console.url + "/conversation?id=" + sender)
        page.get_by_label("New tag").fill("Typo tagg")
        page.get_by_role("button", name="Add tag").click()
        expect(page.locator(".review .tag")).to_have_text(["typo tagg"])
    page.goto(console.url + "/conversations?tag=typo+tagg")
    assert listed(page) == {"c-8days-evening", "c-8days-search"}
    page.get_by_role("button", name="Delete the tag “typo tagg” from every conversation").click()
    expect(page.get_by_role("status")).to_contain_text("Tag “typo tagg” deleted from 2 conversations")
    expect(page.get_by_label("Tag", exact=True).locator("option")).to_have_text(["any"])
    page.context.close()


def _download(page: Page, link: str) -> str:
    with page.expect_download() as info:
        page.get_by_role("link", name=link).click()
    return Path(info.value.path()).read_text(encoding="utf-8")


def test_export_the_week_as_csv_and_json(browser: Browser, console: Console) -> None:
    page = sign_in(browser, console, "coach1")
    page.get_by_role("link", name="Last 7 days").click()
    assert listed(page) == {"c-yesterday-fallback", "c-yesterday-clicked", "c-2days-safety", "c-2days-lowconf"}
    rows = list(csv.DictReader(io.StringIO(_download(page, "Export CSV"))))
    assert {r["conversation_id"] for r in rows} == listed(page)
    assert rows[0]["conversation_id"] == "c-yesterday-clicked"
    assert rows[0]["application_clicked"] == "True"
    records = json.loads(_download(page, "Export JSON"))
    assert [r["conversation_id"] for r in records] == [r["conversation_id"] for r in rows]
    assert records[0]["messages"][0]["text"] == "Hello! Ask me about leaky gut."  # greeting
    assert records[0]["messages"][1] == {
        "at": records[0]["messages"][1]["at"],
        "from": "visitor",
        "text": "Which foods help the gut lining?",
        "intent": "ask_foods_to_eat",
        "confidence": 0.88,
    }
    page.context.close()

    staff = sign_in(browser, console, "staff1")
    staff.get_by_role("link", name="Audit log").click()
    first = staff.locator("table.list tbody tr").filter(has_text="export_csv").first
    expect(first).to_contain_text("coach1")
    expect(first).to_contain_text("4 conversations")
    expect(first).to_contain_text(f"from={utc_day(6)}")
    shot(staff, "audit", full_page=False)
    staff.context.close()


def test_dashboard_charts_render_offline(browser: Browser, console: Console) -> None:
    page = sign_in(browser, console, "coach1")
    requests: List[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(console.url + f"/dashboard?from={utc_day(8)}&to={utc_day(1)}")
    expect(page.locator("#stat-conversations")).to_have_text("7")
    expect(page.locator("#stat-fallback-rate")).to_have_text("28.6%")
    expect(page.locator("#stat-offer-reach")).to_have_text("42.9%")
    expect(page.locator("#stat-click-through")).to_have_text("66.7%")
    expect(page.locator("#stat-escalations")).to_have_text("1")
    per_day = page.get_by_role("group", name="Conversations per day")
    expect(per_day.locator("rect.bar")).to_have_count(8)
    heights = per_day.locator("rect.bar").evaluate_all("rects => rects.map(r => r.getBoundingClientRect().height)")
    assert heights[0] > 0 and heights[-1] > 0 and heights[1] == 0
    topics = page.get_by_role("group", name="Top topics")
    expect(topics.locator("text").first).to_have_text("what is leaky gut")
    assert requests and all(url.startswith(console.url) for url in requests)
    shot(page, "dashboard")
    page.context.close()


def test_dashboard_numbers_and_bars_open_the_list_they_count(browser: Browser, console: Console) -> None:
    page = sign_in(browser, console, "coach1")
    week = f"/dashboard?from={utc_day(8)}&to={utc_day(1)}"
    clicks = {
        "#stat-conversations": ALL,
        "#stat-fallback-rate": {"c-yesterday-fallback", "c-8days-xss"},
        "#stat-offer-reach": {"c-yesterday-clicked", "c-2days-lowconf", "c-8days-search"},
        "#stat-click-through": {"c-yesterday-clicked", "c-8days-search"},
        "#stat-escalations": {"c-2days-safety"},
    }
    for selector, expected in clicks.items():
        page.goto(console.url + week)
        number = page.locator(selector).inner_text()
        page.locator(selector).click()
        expect(page).to_have_url(re.compile(r"/conversations\?"))
        assert listed(page) == expected, selector
        if selector in ("#stat-conversations", "#stat-escalations"):
            assert str(len(expected)) == number
    page.goto(console.url + week)
    page.get_by_role("group", name="Conversations per day").get_by_role(
        "link", name=f"{utc_day(8)}: 3", exact=True
    ).click()
    assert listed(page) == {"c-8days-xss", "c-8days-search", "c-8days-evening"}
    page.goto(console.url + week)
    page.get_by_role("link", name="what is leaky gut: 2").click()
    assert listed(page) == {"c-yesterday-fallback", "c-8days-xss"}
    page.goto(console.url + week)
    page.get_by_role("group", name="Conversations escalated for safety, per day").get_by_role(
        "link", name=f"{utc_day(2)}: 1"
    ).click()
    assert listed(page) == {"c-2days-safety"}
    page.goto(console.url + week)
    page.get_by_role("group", name="Offer reach and click-through").get_by_role(
        "link", name="Clicked the application link: 2"
    ).click()
    assert listed(page) == {"c-yesterday-clicked", "c-8days-search"}
    # Which questions lead to applications: topic x (offer shown, clicked).
    page.goto(console.url + week)
    table = page.locator("#topic-outcomes table")
    expect(table.locator("tbody th")).to_have_text(
        ["foods to eat", "probiotics", "what is leaky gut", "exercise", "fiber amount", "gluten"]
    )
    row = table.locator('tr[data-topic="ask_probiotics"]')
    expect(row.locator("td")).to_have_text(["1", "1 (100.0%)", "1", "100.0%"])
    row.locator("td").nth(2).get_by_role("link").click()
    assert listed(page) == {"c-8days-search"}
    assert "clicked=yes" in page.url and "intent=ask_probiotics" in page.url
    # Quick ranges.
    page.goto(console.url + "/dashboard")
    page.get_by_role("navigation", name="Date ranges").get_by_role("link", name="Yesterday").click()
    expect(page.locator("#stat-conversations")).to_have_text("2")
    expect(page.get_by_role("link", name="Yesterday")).to_have_attribute("aria-current", "true")
    for label in ("Today", "Last 7 days", "Last 30 days", "Last 90 days", "This month", "Last month"):
        expect(page.get_by_role("navigation", name="Date ranges").get_by_role("link", name=label)).to_be_visible()
    page.context.close()


def test_where_it_fails_lists_the_failing_messages(coach: Page, console: Console) -> None:
    coach.goto(console.url + "/conversations")
    coach.get_by_role("navigation", name="Main").get_by_role("link", name="Where it fails").click()
    coach.get_by_role("navigation", name="Date ranges").get_by_role("link", name="Last 30 days").click()
    groups = coach.locator("tr.failure-group")
    expect(groups.locator(".message")).to_have_text(
        ["blorp zzz qux", "fibre?", '<img src=x onerror="window.__xss=2"> **bold** [x](javascript:alert(1))']
    )
    expect(groups.nth(0).locator(".badge")).to_have_text(["fell back", "low confidence"])
    expect(groups.nth(1).locator(".intent")).to_have_text(["fiber amount"])
    expect(groups.nth(0).locator(".intent")).to_have_text(["not understood (fallback)"])
    _select(coach, "Why", "fallback")
    coach.get_by_role("button", name="Show").click()
    expect(groups).to_have_count(2)
    shot(coach, "failures", full_page=False)
    groups.nth(0).locator("td.links a").first.click()
    expect(coach.get_by_role("heading", level=1)).to_contain_text("c-yesterday-fallback")


def test_visitor_markup_is_shown_as_text_and_never_runs(coach: Page, console: Console) -> None:
    coach.goto(console.url + "/conversations?q=%3Cscript%3E")
    row = coach.locator('tr[data-conversation="c-8days-xss"]')
    expect(row.locator(".preview")).to_have_text("<script>window.__xss=1</script>")
    coach.goto(console.url + "/conversation?id=c-8days-xss")
    texts = coach.locator(".event.user .text")
    expect(texts).to_have_text(
        [
            "<script>window.__xss=1</script>",
            '<img src=x onerror="window.__xss=2"> **bold** [x](javascript:alert(1))',
            "thanks",
        ]
    )
    assert coach.evaluate("window.__xss") is None
    assert coach.locator("main script, main img, main a[href^='javascript']").count() == 0
    assert coach.locator("main strong, main b").count() == 0  # markdown stays literal too
    shot(coach, "xss")


def test_a_coach_cannot_reach_staff_pages(coach: Page, console: Console) -> None:
    for path in ("/audit", "/accounts"):
        response = coach.goto(console.url + path)
        assert response is not None and response.status == 403
        expect(coach.get_by_role("alert")).to_have_text("This page is for staff accounts only.")
    csrf = coach.goto(console.url + "/conversations") and coach.locator("input[name=csrf_token]").first.get_attribute(
        "value"
    )
    for path, form in (
        ("/accounts/unlock", {"username": "locky"}),
        ("/accounts/create", {"username": "sneaky", "role": "staff", "password": "p" * 12, "password_again": "p" * 12}),
        ("/accounts/change", {"username": "coach1", "change": "set-role", "role": "staff"}),
    ):
        answer = coach.request.post(console.url + path, form={"csrf_token": csrf, **form})
        assert answer.status == 403, path


def test_staff_see_accounts_and_can_unlock(browser: Browser, console: Console) -> None:
    page = sign_in(browser, console, "staff1")
    page.get_by_role("link", name="Accounts").click()
    locked = page.locator("tr", has_text="locky")
    expect(locked.get_by_role("button", name="Unlock")).to_be_visible()
    locked.get_by_role("button", name="Unlock").click()
    expect(page.get_by_role("status")).to_have_text("locky unlocked.")
    expect(page.locator("tr", has_text="locky").get_by_role("button", name="Unlock")).to_have_count(0)
    page.context.close()
    unlocked = sign_in(browser, console, "locky")
    expect(unlocked.get_by_role("heading", level=1)).to_have_text("Conversations")
    unlocked.context.close()


def _try_sign_in(browser: Browser, console: Console, username: str, password: str) -> Page:
    page = browser.new_context().new_page()
    page.goto(console.url + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    return page


def test_staff_manage_accounts_without_a_terminal(browser: Browser, console: Console) -> None:
    staff = sign_in(browser, console, "staff1")
    staff.goto(console.url + "/accounts")
    new = staff.get_by_role("region", name="New account")

    def create(username: str, password: str, again: str, role: str = "coach") -> None:
        new.get_by_label("Username").fill(username)
        new.get_by_label("Role").select_option(role)
        new.get_by_label("Password", exact=True).fill(password)
        new.get_by_label("Password again").fill(again)
        new.get_by_role("button", name="Create account").click()

    create("casey", "first password here", "another password")
    expect(staff.get_by_role("alert")).to_have_text("Not created: the two passwords differ.")
    # The form's minlength stops a short password in the browser; the server says it too.
    csrf = staff.locator("input[name=csrf_token]").first.get_attribute("value")
    short = staff.request.post(
        console.url + "/accounts/create",
        form={"csrf_token": csrf, "username": "casey", "role": "coach", "password": "short", "password_again": "short"},
    )
    assert "password: at least 10 characters" in short.text()
    create("Bad Name!", "first password here", "first password here")
    expect(staff.get_by_role("alert")).to_contain_text("username: 2-64 characters")
    create("coach1", "first password here", "first password here")
    expect(staff.get_by_role("alert")).to_contain_text("exists")
    create("Casey", "first password here", "first password here")
    expect(staff.get_by_role("status")).to_have_text("Created the coach account casey.")

    casey = _try_sign_in(browser, console, "casey", "first password here")
    expect(casey).to_have_url(console.url + "/conversations")
    expect(casey.get_by_role("navigation", name="Main")).not_to_contain_text("Accounts")

    row = staff.locator('tr[data-account="casey"]')
    row.get_by_text("Role or password…").click()
    row.get_by_label("Role of casey").select_option("staff")
    row.get_by_role("button", name="Change role").click()
    expect(staff.get_by_role("status")).to_have_text("casey given a new role.")
    expect(staff.locator('tr[data-account="casey"] td').nth(1)).to_have_text("staff")
    # A role change ends casey's session.
    casey.goto(console.url + "/dashboard")
    expect(casey).to_have_url(re.compile(r"/login\?next="))

    row = staff.locator('tr[data-account="casey"]')
    row.get_by_text("Role or password…").click()
    row.get_by_label("New password for casey").fill("second password here")
    row.get_by_label("New password again for casey").fill("second password here")
    row.get_by_role("button", name="Reset password").click()
    expect(staff.get_by_role("status")).to_contain_text("casey given a new password")
    old = _try_sign_in(browser, console, "casey", "first password here")
    expect(old.get_by_role("alert")).to_have_text(REFUSED)
    fresh = _try_sign_in(browser, console, "casey", "second password here")
    expect(fresh).to_have_url(console.url + "/conversations")

    staff.get_by_role("button", name="Disable casey").click()
    expect(staff.get_by_role("status")).to_have_text("casey disabled.")
    fresh.goto(console.url + "/dashboard")
    expect(fresh).to_have_url(re.compile(r"/login\?next="))
    refused = _try_sign_in(browser, console, "casey", "second password here")
    expect(refused.get_by_role("alert")).to_have_text(REFUSED)
    staff.get_by_role("button", name="Re-enable casey").click()
    expect(staff.get_by_role("status")).to_have_text("casey re-enabled.")
    back = _try_sign_in(browser, console, "casey", "second password here")
    expect(back).to_have_url(console.url + "/conversations")

    # Nobody disables or demotes themselves; the page offers no Disable for "you".
    expect(staff.get_by_role("button", name="Disable staff1")).to_have_count(0)
    csrf = staff.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = staff.request.post(
        console.url + "/accounts/change", form={"csrf_token": csrf, "username": "staff1", "change": "disable"}
    )
    assert "cannot disable or demote your own account" in answer.text()

    staff.goto(console.url + "/audit?user=staff1")
    log = staff.locator("table.list tbody")
    for text in (
        "account_created",
        "casey (coach)",
        "account_set-role",
        "casey -> staff",
        "account_set-password",
        "account_disable",
        "account_enable",
    ):
        expect(log).to_contain_text(text)
    shot(staff, "accounts-audit", full_page=False)
    for page in (casey, old, fresh, refused, back, staff):
        page.context.close()


def test_forms_without_the_csrf_token_or_from_elsewhere_are_refused(coach: Page, console: Console) -> None:
    missing = coach.request.post(console.url + "/conversation/review", form={"id": "c-8days-search", "reviewed": "1"})
    assert missing.status == 403
    coach.goto(console.url + "/conversations")
    token = coach.locator("input[name=csrf_token]").first.get_attribute("value")
    foreign = coach.request.post(
        console.url + "/conversation/review",
        form={"csrf_token": token, "id": "c-8days-search", "reviewed": "1"},
        headers={"Origin": "http://127.0.0.1:8000"},
    )
    assert foreign.status == 403
    coach.goto(console.url + "/conversations?reviewed=yes")
    assert "c-8days-search" not in listed(coach)


def test_sign_out_ends_the_session(browser: Browser, console: Console) -> None:
    page = sign_in(browser, console, "coach1")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(console.url + "/login")
    page.goto(console.url + "/dashboard")
    expect(page).to_have_url(console.url + "/login?next=%2Fdashboard")
    page.context.close()
