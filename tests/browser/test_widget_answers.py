"""Answers in the widget: their article links, the visitor's feedback, the apply control."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from practice.settings import PROJECT_ROOT
from tests.browser.conftest import (
    LAUNCHER,
    Site,
    ask,
    bot_messages,
    open_widget,
    sender_id,
    wait_for,
)
from tests.conftest import free_port

STAFF, PASSWORD = "staff-feedback", "a staff password for the feedback test"


def answer(page: Page) -> Any:
    """The latest answer from the article (the message that carries the feedback buttons)."""
    return page.locator(".lgw-msg--bot:has(.lgw-feedback)").last


def clicked(site: Site, sender: str) -> bool:
    """Whether the conversation stored a click on the application link."""
    return any(
        e.get("name") == "application_link_clicked" and e.get("value") is True
        for e in site.stored_events(sender, "slot")
    )


def test_an_answer_links_to_its_section_of_the_article(page: Page, site: Site) -> None:
    open_widget(page, site)
    ask(page, "What causes leaky gut?")
    link = answer(page).get_by_role("link", name="From the article: What causes leaky gut?")
    expect(link).to_have_attribute("href", f"{site.url}/#what-causes-leaky-gut")
    # The widget is on the article page: the link jumps to the section, in this tab.
    link.click()
    expect(page).to_have_url(f"{site.url}/#what-causes-leaky-gut")
    heading = page.locator("#what-causes-leaky-gut")
    expect(heading).to_have_text("What causes leaky gut?")
    expect(heading).to_be_in_viewport()
    expect(page.get_by_role("dialog", name=LAUNCHER)).to_be_visible()  # still open beside it


def test_from_another_page_the_article_link_opens_the_section_in_a_new_tab(
    context: BrowserContext, page: Page, site: Site
) -> None:
    open_widget(page, site, "/coaching")
    ask(page, "How much fiber should I eat per day?")
    link = answer(page).locator(".lgw-source")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    section = link.get_attribute("href").split("#", 1)[1]
    with context.expect_page() as new_tab:
        link.click()
    article = new_tab.value
    article.wait_for_load_state()
    assert article.url == f"{site.url}/#{section}"
    expect(article.locator(f"#{section}")).to_be_in_viewport()
    expect(article.locator(f"#{section}")).to_have_text(link.text_content().removeprefix("From the article: "))


def test_the_application_link_is_a_button_never_a_printed_url(page: Page, site: Site) -> None:
    open_widget(page, site)
    ask(page, "What is leaky gut?")
    offer = bot_messages(page).last
    expect(offer.get_by_role("link", name="Apply for 1:1 coaching")).to_have_attribute("href", site.application_url)
    expect(offer.locator(".lgw-bubble")).not_to_contain_text(site.application_url)
    expect(offer.locator(".lgw-bubble")).not_to_contain_text("https://")
    # "... Coaching: <url>" lost its URL and its colon: "... Coaching."
    assert not offer.locator(".lgw-bubble").text_content().rstrip().endswith(":")


@pytest.mark.parametrize(
    "device",
    [
        {"viewport": {"width": 1280, "height": 800}},
        {"viewport": {"width": 360, "height": 640}, "is_mobile": True, "has_touch": True},
    ],
    ids=["desktop", "phone"],
)
def test_the_persistent_apply_control_opens_the_form_and_the_click_is_stored(
    browser: Browser, site: Site, device: Any
) -> None:
    ctx = browser.new_context(**device)
    ctx.route(
        site.application_url.split("?")[0] + "**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<p>form</p>"),
    )
    page = ctx.new_page()
    open_widget(page, site)
    control = page.locator(".lgw-apply-bar").get_by_role("link", name="Apply for 1:1 coaching")
    expect(control).to_be_visible()
    expect(control).to_be_in_viewport()
    expect(control).to_have_attribute("href", site.application_url)
    expect(control).to_have_attribute("target", "_blank")
    sender = sender_id(page)
    assert not clicked(site, sender)
    with ctx.expect_page() as new_tab:
        control.click()
    assert new_tab.value.url == site.application_url
    assert wait_for(lambda: clicked(site, sender)), "the click on the apply control was not stored"
    # Still there after answers and a reload.
    ask(page, "What is leaky gut?")
    page.reload()
    expect(page.locator(".lgw-apply-bar").get_by_role("link")).to_be_visible()
    ctx.close()


# ---- feedback, as far as the console ---------------------------------------------------


@pytest.fixture(scope="module")
def console_url(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The coaches' console on the widget stack's database, with a staff account."""
    tmp: Path = tmp_path_factory.mktemp("feedback-console")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{site.database}",
        "CONSOLE_HOST": "127.0.0.1",
        "CONSOLE_PORT": str(port),
        "RASA_TELEMETRY_ENABLED": "false",
    }
    subprocess.run(
        [sys.executable, "-m", "practice.console.accounts", "create", "--username", STAFF, "--role", "staff"],
        input=PASSWORD + "\n",
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
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the console did not start:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url + "/login", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)


def test_feedback_is_stored_and_shown_in_the_console(
    browser: Browser, page: Page, site: Site, console_url: str
) -> None:
    open_widget(page, site)
    ask(page, "Is gluten bad for leaky gut?")
    rated = answer(page)
    feedback = rated.get_by_role("group", name="Was this answer helpful?")
    expect(feedback).to_be_visible()
    # Only answers are rated: the greeting and the offer are not.
    expect(page.locator(".lgw-feedback")).to_have_count(1)
    feedback.get_by_role("button", name="No").click()
    expect(feedback.get_by_role("status")).to_have_text("Thanks for your feedback.")
    expect(feedback.get_by_role("button", name="No")).to_have_attribute("aria-pressed", "true")
    sender = sender_id(page)

    def verdicts() -> list:
        return [e["value"] for e in site.stored_events(sender, "slot") if e.get("name") == "answer_feedback"]

    stored = wait_for(verdicts)
    assert stored and stored[-1]["helpful"] is False
    utter = stored[-1]["utter_action"]
    assert utter.startswith("utter_ask_")
    bot = [e for e in site.stored_events(sender, "bot") if (e.get("metadata") or {}).get("utter_action") == utter]
    assert bot and bot[-1]["timestamp"] == stored[-1]["timestamp"]

    page.reload()  # the verdict is shown again
    expect(answer(page).get_by_role("button", name="No")).to_have_attribute("aria-pressed", "true")

    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    staff = ctx.new_page()
    staff.goto(console_url + "/login")
    staff.get_by_label("Username").fill(STAFF)
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Sign in").click()
    staff.goto(console_url + "/conversations?" + urlencode({"feedback": "unhelpful"}))
    expect(staff.locator(f"tr[data-conversation='{sender}']")).to_have_count(1)
    expect(staff.get_by_label("Answer feedback")).to_have_value("unhelpful")
    staff.goto(console_url + "/conversations?" + urlencode({"feedback": "helpful"}))
    expect(staff.locator(f"tr[data-conversation='{sender}']")).to_have_count(0)

    staff.goto(console_url + "/conversation?" + urlencode({"id": sender}))
    line = staff.locator(".event.feedback")
    expect(line).to_contain_text("not helpful")
    expect(line).to_contain_text(utter)

    staff.goto(console_url + "/inbox")
    section = staff.get_by_role("region", name='Answers visitors rated "not helpful"')
    expect(section).to_contain_text("Is gluten bad for leaky gut?")
    expect(section).to_contain_text(utter)
    ctx.close()
