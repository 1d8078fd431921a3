"""One script tag on a practice's own site: data attributes, a strict CSP, the allow-list."""

from __future__ import annotations

from typing import Dict

from playwright.sync_api import Page, expect

from tests.browser.conftest import PageServer, Site, bot_messages


def embed(server: PageServer, site: Site, path: str, attributes: str) -> str:
    """Put a page on `server` that embeds the widget from the demo site; returns its URL."""
    html = (
        "<!doctype html><html lang='en'><head><title>The practice</title></head><body>"
        "<h1>The practice</h1><a href='/'>Home</a>"
        f"<script src='{site.url}/widget/widget.js' data-server='{site.chat_url}' "
        f"{attributes} defer></script></body></html>"
    )
    # No inline code anywhere, so the strictest policy that still names its two hosts holds.
    csp = f"default-src 'self' {site.url}; connect-src {site.chat_url}"
    return server.page(path, html, {"Content-Security-Policy": csp})


def test_title_accent_position_and_open_on_load(page: Page, site: Site, practice_sites: Dict[str, PageServer]) -> None:
    url = embed(
        practice_sites["allowed"],
        site,
        "/custom",
        "data-title='Ask the dietitian' data-accent='#ffd166' data-position='left' data-open='true'",
    )
    page.goto(url)

    expect(page.get_by_role("dialog", name="Ask the dietitian")).to_be_visible()  # open on load
    expect(bot_messages(page).first).to_contain_text("not medical advice")
    expect(page.get_by_label("Your message")).not_to_be_focused()  # without taking focus
    box = page.locator(".lgw-panel").bounding_box()
    assert box is not None and box["x"] < 100  # on the left

    header = page.locator(".lgw-header")
    assert header.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(255, 209, 102)"
    # A light accent gets dark text, so the contrast stays above 4.5:1.
    assert header.evaluate("el => getComputedStyle(el).color") == "rgb(17, 17, 17)"

    page.get_by_role("button", name="Close chat").click()
    launcher = page.get_by_role("button", name="Ask the dietitian")
    expect(launcher).to_be_focused()
    assert launcher.evaluate("el => getComputedStyle(el).color") == "rgb(17, 17, 17)"


def test_defaults_and_a_malformed_accent_falls_back(
    page: Page, site: Site, practice_sites: Dict[str, PageServer]
) -> None:
    page.goto(embed(practice_sites["allowed"], site, "/defaults", "data-accent='red; x: url(y)'"))
    launcher = page.get_by_role("button", name="Questions? Chat with us")
    expect(launcher).to_be_visible()
    expect(page.get_by_role("dialog")).to_be_hidden()  # closed until asked
    assert launcher.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(15, 107, 92)"
    assert launcher.evaluate("el => getComputedStyle(el).color") == "rgb(255, 255, 255)"
    box = launcher.bounding_box()
    assert box is not None and box["x"] > 600  # on the right
    launcher.click()
    expect(bot_messages(page).first).to_contain_text("not medical advice")


def test_a_site_off_the_allow_list_cannot_use_the_assistant(
    page: Page, site: Site, practice_sites: Dict[str, PageServer]
) -> None:
    page.goto(embed(practice_sites["foreign"], site, "/foreign", "data-open='true'"))
    expect(page.get_by_role("alert")).to_contain_text("can't reach the assistant")
    expect(bot_messages(page)).to_have_count(0)
