"""The widget's smaller promises: lists, start over, the counter, scrolling, phones, axe."""

from __future__ import annotations

import json
from typing import Any, Iterator, List

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.browser.conftest import (
    LAUNCHER,
    Site,
    ask,
    bot_messages,
    open_widget,
    run_axe,
    sender_id,
    visitor_messages,
)

# Layout is measured with motion reduced: the panel's opening slide would otherwise be
# caught part-way (a panel 1 px from the top); the animations have their own test.
PHONE = {
    "viewport": {"width": 360, "height": 640},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "reduced_motion": "reduce",
}
INSIDE = """() => {
  const host = document.getElementById('practice-chat-widget');
  const active = host.shadowRoot.activeElement;
  return document.activeElement === host && !!active
    && host.shadowRoot.querySelector('.lgw-panel').contains(active);
}"""
AT_BOTTOM = "el => el.scrollHeight - el.clientHeight - el.scrollTop <= 2"


def reply_with(site: Site, messages: List[Any]) -> Any:
    """A route handler answering the widget's message call with `messages`."""

    def handle(route: Route) -> None:
        route.fulfill(
            status=200,
            content_type="application/json",
            headers={"Access-Control-Allow-Origin": site.url},
            body=json.dumps({"messages": messages}),
        )

    return handle


def test_the_bots_lists_render_as_lists_of_text(page: Page, site: Site) -> None:
    open_widget(page, site)
    text = "Foods to enjoy:\n- yogurt or kefir\n- <b>fermented</b> foods\n\nThen a journal."
    page.route("**/webhooks/website/message", reply_with(site, [{"text": text, "timestamp": 1}]))
    ask(page, "What should I eat?")
    bubble = bot_messages(page).last.locator(".lgw-bubble")
    items = bubble.get_by_role("listitem")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_have_text("yogurt or kefir")
    expect(items.nth(1)).to_have_text("<b>fermented</b> foods")  # text, never markup
    expect(bubble.locator("b")).to_have_count(0)
    expect(bubble.locator("p")).to_have_count(2)
    expect(bubble.locator("p").first).to_have_text("Foods to enjoy:")


def test_start_over_asks_first_and_cancel_keeps_the_conversation(page: Page, site: Site) -> None:
    open_widget(page, site)
    ask(page, "What is leaky gut?")
    first = sender_id(page)
    start_over = page.get_by_role("button", name="Start over", exact=True)

    start_over.click()
    expect(page.locator(".lgw-confirm")).to_contain_text("Start a new conversation?")
    expect(start_over).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("button", name="Cancel")).to_be_focused()
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator(".lgw-confirm")).to_be_hidden()
    expect(start_over).to_be_focused()
    expect(visitor_messages(page)).to_have_count(1)

    start_over.click()
    page.keyboard.press("Escape")  # cancels the question, not the panel
    expect(page.locator(".lgw-confirm")).to_be_hidden()
    expect(page.get_by_role("dialog", name=LAUNCHER)).to_be_visible()
    assert sender_id(page) == first

    start_over.click()
    page.get_by_role("button", name="Yes, start over").click()
    expect(visitor_messages(page)).to_have_count(0)
    assert sender_id(page) != first


def test_a_character_counter_near_the_cap(page: Page, site: Site) -> None:
    open_widget(page, site)
    box = page.get_by_label("Your message")
    counter = page.locator(".lgw-counter")
    box.fill("x" * 100)
    expect(counter).to_be_hidden()
    box.fill("x" * 1600)
    expect(counter).to_be_visible()
    expect(counter).to_have_text("1,600 / 2,000 characters")
    expect(box).to_have_attribute("aria-describedby", "lgw-counter")
    box.fill("x" * 2100)  # maxlength keeps it at the cap
    expect(box).to_have_value("x" * 2000)
    expect(counter).to_have_text("2,000 / 2,000 characters")
    expect(counter).to_have_class("lgw-counter lgw-counter--full")
    expect(page.locator(".lgw-form [aria-live]")).to_have_text("Character limit reached: 2,000.")
    box.press("Enter")
    expect(counter).to_be_hidden()


def test_after_a_reload_the_latest_message_is_in_view(page: Page, site: Site) -> None:
    open_widget(page, site)
    for question in ("What is leaky gut?", "What causes leaky gut?", "What should I eat?"):
        ask(page, question)
    log = page.locator(".lgw-log")
    assert log.evaluate("el => el.scrollHeight > el.clientHeight + 100"), "the log must overflow"

    # The stylesheet arrives after the history: the widget was hidden (no layout) when the
    # messages came; it must still end up at the latest one.
    held: List[Route] = []
    page.route("**/widget/widget.css", lambda route: held.append(route))
    with page.expect_response("**/webhooks/website/history"):
        page.reload(wait_until="domcontentloaded")
    page.wait_for_timeout(200)
    for route in held:
        route.continue_()
    page.unroute("**/widget/widget.css")
    expect(bot_messages(page).last).to_be_visible()
    page.wait_for_function(
        "() => { const l = document.getElementById('practice-chat-widget').shadowRoot"
        ".querySelector('.lgw-log'); return l.scrollHeight - l.clientHeight - l.scrollTop <= 2; }"
    )
    expect(bot_messages(page).last).to_be_in_viewport()

    page.reload()  # and with the usual order too
    expect(bot_messages(page).last).to_be_in_viewport()
    assert log.evaluate(AT_BOTTOM)


@pytest.fixture
def phone(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    """A phone-sized, touch profile."""
    ctx = browser.new_context(**PHONE)
    yield ctx
    ctx.close()


def test_on_a_phone_focus_stays_inside_the_full_screen_panel(phone: BrowserContext, site: Site) -> None:
    page = phone.new_page()
    page.goto(site.url)
    page.get_by_role("button", name=LAUNCHER).tap()
    ask(page, "What causes leaky gut?")
    dialog = page.get_by_role("dialog", name=LAUNCHER)
    expect(dialog).to_have_attribute("aria-modal", "true")
    for _ in range(25):
        page.keyboard.press("Tab")
        assert page.evaluate(INSIDE), "Tab left the full-screen panel"
    for _ in range(25):
        page.keyboard.press("Shift+Tab")
        assert page.evaluate(INSIDE), "Shift+Tab left the full-screen panel"
    # The ends wrap: from the first control back to the last, and on.
    page.get_by_role("button", name="Start over", exact=True).focus()
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Start over", exact=True)).to_be_focused()


def test_on_a_desktop_the_panel_does_not_trap_focus(page: Page, site: Site) -> None:
    open_widget(page, site)
    expect(page.get_by_role("dialog", name=LAUNCHER)).not_to_have_attribute("aria-modal", "true")
    page.get_by_role("button", name="Send", exact=True).focus()
    page.keyboard.press("Tab")
    assert not page.evaluate(INSIDE)


def test_a_phone_on_its_side_gets_a_usable_full_screen_panel(browser: Browser, site: Site) -> None:
    ctx = browser.new_context(**{**PHONE, "viewport": {"width": 640, "height": 360}})
    page = ctx.new_page()
    page.goto(site.url)
    page.get_by_role("button", name=LAUNCHER).tap()
    ask(page, "What should I eat?")
    panel = page.locator(".lgw-panel").bounding_box()
    assert panel is not None
    assert {k: round(v) for k, v in panel.items()} == {"x": 0, "y": 0, "width": 640, "height": 360}
    log = page.locator(".lgw-log").bounding_box()
    assert log is not None and log["height"] >= 150, f"messages get only {log['height']} px"
    for control in (
        page.get_by_label("Your message"),
        page.get_by_role("button", name="Send", exact=True),
        page.get_by_role("button", name="Close chat"),
    ):
        expect(control).to_be_in_viewport()
    ctx.close()


@pytest.fixture
def axe_phone(browser: Browser) -> Iterator[BrowserContext]:
    """A phone profile that may inject axe-core despite the page's CSP."""
    ctx = browser.new_context(**PHONE, bypass_csp=True)
    yield ctx
    ctx.close()


def test_axe_is_clean_with_the_new_controls(axe_phone: BrowserContext, site: Site) -> None:
    page = axe_phone.new_page()
    open_widget(page, site)
    ask(page, "How much fiber should I eat per day?")
    expect(page.locator(".lgw-feedback")).to_have_count(1)
    expect(page.locator(".lgw-source")).to_have_count(1)
    expect(page.locator(".lgw-apply-bar")).to_be_visible()
    page.locator(".lgw-feedback").get_by_role("button", name="Yes").click()
    page.get_by_label("Your message").fill("x" * 1900)
    page.get_by_role("button", name="Start over", exact=True).click()
    expect(page.locator(".lgw-confirm")).to_be_visible()
    assert run_axe(page) == []
