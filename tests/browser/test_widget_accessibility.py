"""Keyboard, screen readers, contrast, motion and phones: the widget for everyone."""

from __future__ import annotations

from typing import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import (
    LAUNCHER,
    SCREENSHOTS,
    Site,
    ask,
    bot_messages,
    open_widget,
    run_axe,
    visitor_messages,
)

FOCUSED = """() => {
  const host = document.getElementById('practice-chat-widget');
  const active = document.activeElement === host
    ? host.shadowRoot.activeElement : document.activeElement;
  if (!active) return '';
  return (active.getAttribute('aria-label') || active.textContent || active.tagName).trim();
}"""


def focused(page: Page) -> str:
    """The accessible name (or text) of whatever has focus, inside the widget or not."""
    return page.evaluate(FOCUSED)


def test_keyboard_alone_opens_asks_answers_and_closes(page: Page, site: Site) -> None:
    page.goto(site.url)
    for _ in range(10):
        page.keyboard.press("Tab")
        if focused(page) == LAUNCHER:
            break
    assert focused(page) == LAUNCHER, "the launcher cannot be reached with Tab"

    page.keyboard.press("Enter")
    expect(bot_messages(page).first).to_contain_text("not medical advice")
    expect(page.get_by_label("Your message")).to_be_focused()

    page.keyboard.type("What causes leaky gut?")
    page.keyboard.press("Enter")
    expect(page.locator(".lgw-log")).to_contain_text("genes")
    expect(page.get_by_label("Your message")).to_be_focused()

    # Shift+Tab from the message box reaches the latest suggested reply.
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "Ask another question"
    page.keyboard.press("Enter")
    expect(visitor_messages(page).last).to_contain_text("What else can you help with?")
    expect(bot_messages(page).last).to_contain_text("Lifestyle")

    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    assert focused(page) == LAUNCHER
    page.keyboard.press("Enter")
    expect(visitor_messages(page)).to_have_count(2)
    expect(page.get_by_label("Your message")).to_be_focused()


def test_roles_live_region_and_visible_focus(page: Page, site: Site) -> None:
    open_widget(page, site)
    log = page.get_by_role("log", name="Conversation")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("dialog", name=LAUNCHER)).to_be_visible()
    expect(page.get_by_role("group", name="Suggested replies")).to_be_visible()
    # Screen readers hear who said what.
    expect(bot_messages(page).first).to_contain_text("Assistant:")

    page.get_by_label("Your message").focus()
    page.keyboard.press("Tab")  # to Send
    outline = page.get_by_role("button", name="Send", exact=True).evaluate(
        "el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth"
    )
    assert outline == "solid 3px"


@pytest.fixture
def axe_context(browser: Browser) -> Iterator[BrowserContext]:
    """A profile that may inject axe-core despite the page's CSP."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    yield ctx
    ctx.close()


def test_axe_finds_no_serious_or_critical_violation(axe_context: BrowserContext, site: Site) -> None:
    page = axe_context.new_page()
    open_widget(page, site)
    ask(page, "What is leaky gut?")
    assert run_axe(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(500)  # smooth scrolling settles
    page.screenshot(path=str(SCREENSHOTS / "widget-desktop.png"))

    # The failure state too: the alert, a message marked as not sent, the resend button.
    page.route("**/webhooks/website/**", lambda route: route.abort("connectionrefused"))
    page.get_by_label("Your message").fill("Does fiber help?")
    page.get_by_label("Your message").press("Enter")
    expect(page.get_by_role("alert")).to_be_visible()
    assert run_axe(page) == []


def test_reduced_motion_stops_every_animation(browser: Browser, site: Site) -> None:
    for motion, expected in (("reduce", "none"), ("no-preference", "lgw-blink")):
        ctx = browser.new_context(reduced_motion=motion)
        page = ctx.new_page()
        open_widget(page, site)
        dot = page.locator(".lgw-dot").first
        assert dot.evaluate("el => getComputedStyle(el).animationName") == expected
        panel_animation = page.locator(".lgw-panel").evaluate("el => getComputedStyle(el).animationName")
        assert (panel_animation == "none") == (motion == "reduce")
        ctx.close()


def test_phone_360x640_full_screen_with_the_input_above_the_keyboard(browser: Browser, site: Site) -> None:
    ctx = browser.new_context(
        viewport={"width": 360, "height": 640},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        # No opening animation: the panel's size is final as soon as it shows.
        reduced_motion="reduce",
    )
    page = ctx.new_page()
    page.goto(site.url)
    page.get_by_role("button", name=LAUNCHER).tap()
    expect(bot_messages(page).first).to_contain_text("not medical advice")

    panel = page.locator(".lgw-panel").bounding_box()
    assert panel is not None
    assert {k: round(v) for k, v in panel.items()} == {"x": 0, "y": 0, "width": 360, "height": 640}
    # On touch screens focus goes to the title, so the keyboard does not cover the greeting.
    expect(page.get_by_role("heading", name=LAUNCHER)).to_be_focused()

    box = page.get_by_label("Your message")
    box.tap()
    ask(page, "What should I eat?")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(500)  # smooth scrolling settles
    page.screenshot(path=str(SCREENSHOTS / "widget-mobile.png"))

    # The on-screen keyboard shrinks the visual viewport: the panel follows it.
    page.set_viewport_size({"width": 360, "height": 340})
    page.wait_for_function(
        "() => document.getElementById('practice-chat-widget').shadowRoot"
        ".querySelector('.lgw-panel').getBoundingClientRect().height <= 340"
    )
    input_box = box.bounding_box()
    assert input_box is not None and input_box["y"] + input_box["height"] <= 340
    send = page.get_by_role("button", name="Send", exact=True).bounding_box()
    assert send is not None and send["y"] + send["height"] <= 340
    ctx.close()
