"""Untrusted text stays text, links stay safe, nothing leaves the site, failures are visible."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any, List
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, Route, expect

from tests.browser.conftest import (
    LAUNCHER,
    Site,
    Watched,
    ask,
    bot_messages,
    open_widget,
    sender_id,
    visitor_messages,
)

XSS_PAYLOADS = [
    '<img src=x onerror="window.__xss=1">',
    "[x](javascript:window.__xss=2)",
    "<script>window.__xss=3</script><b>bold</b>",
]
WIDGET = "#practice-chat-widget"


def assert_inert(page: Page, watched: Watched) -> None:
    """No payload ran, and the widget holds no element a payload could have made.

    Links are https:, mailto:, or (an answer's "From the article" link) the demo site's own
    article page, served over http on loopback.
    """
    assert page.evaluate("window.__xss") is None
    assert watched.dialogs == []
    markup = page.locator(WIDGET).evaluate(
        "host => [...host.shadowRoot.querySelectorAll('img, script, b, iframe, a')]"
        ".map(el => el.tagName + ' ' + (el.getAttribute('href') || ''))"
    )
    own = "A " + page.evaluate("location.origin") + "/"
    assert not [m for m in markup if not m.startswith(("A https:", "A mailto:", own))]


def test_visitor_payloads_render_as_text_and_are_stored_verbatim(page: Page, watched: Watched, site: Site) -> None:
    open_widget(page, site)
    for payload in XSS_PAYLOADS:
        ask(page, payload)
        expect(visitor_messages(page).last.locator(".lgw-bubble")).to_have_text(payload)
    assert_inert(page, watched)

    stored = [e["text"] for e in site.stored_events(sender_id(page), "user") if e.get("text")]
    assert stored[-3:] == XSS_PAYLOADS

    page.reload()  # the same text from history, still inert
    expect(visitor_messages(page)).to_have_count(3)
    for index, payload in enumerate(XSS_PAYLOADS):
        expect(visitor_messages(page).nth(index).locator(".lgw-bubble")).to_have_text(payload)
    assert_inert(page, watched)


def stub_reply(site: Site, messages: List[Any]) -> Any:
    """A route handler answering the widget's message call with `messages`."""

    def handle(route: Route) -> None:
        route.fulfill(
            status=200,
            content_type="application/json",
            headers={"Access-Control-Allow-Origin": site.url},
            body=json.dumps({"messages": messages}),
        )

    return handle


def test_bot_payloads_render_as_text_and_only_https_and_mailto_links(page: Page, watched: Watched, site: Site) -> None:
    open_widget(page, site)
    text = (
        '<img src=x onerror="window.__xss=4"> [x](javascript:window.__xss=5) '
        "see http://plain.example/a and https://ok.example/page."
    )
    buttons = [
        {"title": "<b>Bold?</b>", "payload": "What is leaky gut?"},
        {"title": "Script link", "url": "javascript:window.__xss=6"},
        {"title": "Data link", "url": "data:text/html,<script>alert(1)</script>"},
        {"title": "Plain http", "url": "http://plain.example/"},
        {"title": "Mail us", "url": "mailto:coach@example.com"},
        {"title": "Secure", "url": "https://ok.example/apply"},
    ]
    page.route("**/webhooks/website/message", stub_reply(site, [{"text": text, "buttons": buttons}]))
    ask(page, "Hello")

    reply = bot_messages(page).last
    expect(reply.locator(".lgw-bubble")).to_have_text(text)
    expect(reply.get_by_role("button", name="<b>Bold?</b>")).to_be_visible()
    links = reply.get_by_role("link")
    expect(links).to_have_count(3)
    hrefs = [links.nth(i).get_attribute("href") for i in range(3)]
    assert hrefs == [
        "https://ok.example/page",
        "mailto:coach@example.com",
        "https://ok.example/apply",
    ]
    for title in ("Script link", "Data link", "Plain http"):
        expect(reply.get_by_text(title)).to_be_visible()
        expect(reply.get_by_role("link", name=title)).to_have_count(0)
    assert_inert(page, watched)


def test_only_first_party_requests_and_no_csp_violation(page: Page, watched: Watched, site: Site) -> None:
    response = page.goto(site.url)
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert f"connect-src 'self' {site.chat_url}" in csp
    page.get_by_role("button", name=LAUNCHER).click()
    expect(bot_messages(page).first).to_contain_text("not medical advice")
    ask(page, "What is leaky gut?")
    page.get_by_role("link", name="1:1 coaching", exact=True).click()
    expect(visitor_messages(page)).to_have_count(1)

    allowed = {urlsplit(site.url).netloc, urlsplit(site.chat_url).netloc}
    hosts = {urlsplit(url).netloc for url in watched.requests}
    assert hosts <= allowed, f"requests to {hosts - allowed}"
    assert watched.console_errors == []
    assert watched.page_errors == []


def test_the_sender_id_is_long_random_and_per_browser(browser: Browser, site: Site) -> None:
    ids = []
    for _ in range(2):
        ctx = browser.new_context()
        page = ctx.new_page()
        open_widget(page, site)
        ids.append(sender_id(page))
        ctx.close()
    assert all(re.fullmatch(r"[0-9a-f]{40}", i) for i in ids)  # 160 bits
    assert ids[0] != ids[1]


def refuse(route: Route) -> None:
    """The assistant is down: connection refused."""
    route.abort("connectionrefused")


def test_server_down_on_open_shows_the_error_and_recovers(page: Page, site: Site) -> None:
    page.route("**/webhooks/website/**", refuse)
    page.goto(site.url)
    page.get_by_role("button", name=LAUNCHER).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("can't reach the assistant")

    page.unroute("**/webhooks/website/**", refuse)
    alert.get_by_role("button", name="Retry").click()
    expect(bot_messages(page).first).to_contain_text("not medical advice")
    expect(alert).to_be_hidden()


def test_a_failed_message_is_kept_marked_and_resent_after_reload(page: Page, site: Site) -> None:
    open_widget(page, site)
    page.route("**/webhooks/website/**", refuse)
    box = page.get_by_label("Your message")
    box.fill("What is leaky gut?")
    box.press("Enter")
    failed = visitor_messages(page).last
    expect(failed).to_contain_text("Not sent.")
    expect(page.get_by_role("alert")).to_contain_text("wasn't sent")
    expect(box).to_have_value("")
    box.fill("a draft I have not sent")

    page.unroute("**/webhooks/website/**", refuse)
    page.reload()
    # Still there after the reload, marked, with the draft back in the box.
    expect(visitor_messages(page).last).to_contain_text("What is leaky gut?")
    expect(visitor_messages(page).last).to_contain_text("Not sent.")
    expect(page.get_by_label("Your message")).to_have_value("a draft I have not sent")

    before = bot_messages(page).count()
    visitor_messages(page).last.get_by_role("button", name="Resend").click()
    expect(bot_messages(page)).not_to_have_count(before)
    expect(page.locator(".lgw-log")).to_contain_text("tight junctions")
    expect(visitor_messages(page).last).not_to_contain_text("Not sent.")
    expect(page.get_by_role("alert")).to_be_hidden()

    page.reload()  # sent once: no copy left behind
    expect(visitor_messages(page)).to_have_count(1)


def test_a_slow_server_times_out_into_a_retry(page: Page, site: Site) -> None:
    page.clock.install()
    open_widget(page, site)
    held: List[Route] = []
    page.route("**/webhooks/website/message", lambda route: held.append(route))
    box = page.get_by_label("Your message")
    box.fill("What causes leaky gut?")
    box.press("Enter")
    expect(page.locator(".lgw-typing")).to_be_visible()
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the message request never left"
    page.clock.run_for(21_000)
    expect(page.get_by_role("alert")).to_contain_text("taking too long")
    expect(visitor_messages(page).last).to_contain_text("Not sent.")

    page.unroute("**/webhooks/website/message")
    page.get_by_role("alert").get_by_role("button", name="Retry").click()
    expect(page.locator(".lgw-log")).to_contain_text("genes")
    for route in held:
        with contextlib.suppress(Exception):  # the widget gave up on it already
            route.abort()
