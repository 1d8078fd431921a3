"""The widget's conversation in a real browser: greeting, answers, buttons, links, history."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import (
    LAUNCHER,
    Site,
    ask,
    bot_messages,
    open_widget,
    sender_id,
    visitor_messages,
    wait_for,
)


def test_the_bot_speaks_first_with_the_note_and_topic_buttons(page: Page, site: Site) -> None:
    page.goto(site.url)
    launcher = page.get_by_role("button", name=LAUNCHER)
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.click()

    dialog = page.get_by_role("dialog", name=LAUNCHER)
    expect(dialog).to_be_visible()
    greeting = bot_messages(page).first
    expect(greeting).to_contain_text("not medical advice")
    expect(greeting.get_by_role("button", name="What is leaky gut?")).to_be_visible()
    expect(greeting.get_by_role("button", name="Symptoms")).to_be_visible()
    # Focus moves into the panel, to the message box.
    expect(page.get_by_label("Your message")).to_be_focused()
    # The greeting was the bot's own turn: the visitor said nothing.
    expect(visitor_messages(page)).to_have_count(0)


def test_a_typed_question_gets_its_answer_and_the_application_link(page: Page, site: Site) -> None:
    open_widget(page, site)
    ask(page, "What causes leaky gut?")

    # Who said it, what, and when (a <time> after the bubble, read out too).
    expect(visitor_messages(page).last).to_contain_text("You: What causes leaky gut?")
    expect(visitor_messages(page).last.locator(".lgw-bubble")).to_have_text("What causes leaky gut?")
    expect(visitor_messages(page).last.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    answer = page.locator(".lgw-log")
    expect(answer).to_contain_text("genes")
    link = bot_messages(page).last.get_by_role("link", name="Apply for 1:1 coaching")
    expect(link).to_have_attribute("href", site.application_url)


def test_a_quick_reply_sends_its_payload_and_the_buttons_go_away(page: Page, site: Site) -> None:
    open_widget(page, site)
    before = bot_messages(page).count()
    bot_messages(page).first.get_by_role("button", name="Symptoms").click()

    expect(visitor_messages(page)).to_have_count(1)
    expect(visitor_messages(page).first).to_contain_text("What are the symptoms?")
    expect(bot_messages(page)).not_to_have_count(before)
    expect(page.locator(".lgw-log")).to_contain_text("bloating")
    # Quick replies of earlier messages are gone; only the latest offer stays.
    expect(bot_messages(page).first.get_by_role("button")).to_have_count(0)


def test_the_application_link_opens_a_new_tab_and_the_click_is_stored(
    context: BrowserContext, page: Page, site: Site
) -> None:
    open_widget(page, site)
    ask(page, "How do I apply for coaching?")
    sender = sender_id(page)
    link = bot_messages(page).last.get_by_role("link", name="Apply for 1:1 coaching")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    visitor_count = visitor_messages(page).count()
    assert not site.stored_events(sender, "slot") or not any(
        e.get("name") == "application_link_clicked" for e in site.stored_events(sender, "slot")
    )

    with context.expect_page() as new_tab:
        link.click()
    assert new_tab.value.url == site.application_url

    def clicked() -> bool:
        return any(
            e.get("name") == "application_link_clicked" and e.get("value") is True
            for e in site.stored_events(sender, "slot")
        )

    assert wait_for(clicked), "the click on the application link was not stored"
    # A link button never posts its payload as the visitor's message.
    expect(visitor_messages(page)).to_have_count(visitor_count)


def test_history_survives_reload_and_navigation_with_the_same_sender(page: Page, site: Site) -> None:
    open_widget(page, site)
    ask(page, "What is leaky gut?")
    sender = sender_id(page)
    transcript = page.locator(".lgw-log").text_content()

    page.reload()
    # The panel was open: it opens again, with the conversation, without a second greeting.
    expect(page.locator(".lgw-log")).to_contain_text("What is leaky gut?")
    expect(page.locator(".lgw-log")).to_have_text(transcript)
    assert sender_id(page) == sender

    page.get_by_role("link", name="1:1 coaching", exact=True).click()
    page.wait_for_url(site.url + "/coaching")
    expect(page.locator(".lgw-log")).to_have_text(transcript)
    ask(page, "What should I eat?")
    expect(visitor_messages(page)).to_have_count(2)
    assert sender_id(page) == sender
    typed = [e for e in site.stored_events(sender, "user") if not (e.get("metadata") or {}).get("is_external")]
    assert [e["text"] for e in typed] == ["What is leaky gut?", "What should I eat?"]


def test_start_over_begins_a_new_conversation(page: Page, site: Site) -> None:
    open_widget(page, site)
    ask(page, "What is leaky gut?")
    first = sender_id(page)

    page.get_by_role("button", name="Start over").click()
    # It asks first; the conversation stays until the visitor confirms.
    page.get_by_role("button", name="Yes, start over").click()
    expect(visitor_messages(page)).to_have_count(0)
    expect(bot_messages(page)).to_have_count(1)
    expect(bot_messages(page).first).to_contain_text("not medical advice")
    second = sender_id(page)
    assert second != first
    expect(page.get_by_label("Your message")).to_be_focused()

    page.reload()
    expect(bot_messages(page)).to_have_count(1)
    assert sender_id(page) == second
