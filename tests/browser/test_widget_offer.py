"""The offer policy in the widget: the first answer, intent and goodbye carry the Apply
button; a later answer, a first "didn't get that" and anything after a safety signal don't
(docs/WIDGET.md, "The offer policy")."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, ask, bot_messages, open_widget

APPLY = "Apply for 1:1 coaching"


def apply_buttons_since(page: Page, count_before: int) -> int:
    """Apply buttons in the bot messages that arrived after `count_before` messages."""
    messages: Any = bot_messages(page)
    return sum(messages.nth(i).get_by_role("link", name=APPLY).count() for i in range(count_before, messages.count()))


def turn(page: Page, text: str) -> int:
    """Ask `text`; the number of Apply buttons in its reply."""
    before = bot_messages(page).count()
    ask(page, text)
    return apply_buttons_since(page, before)


def test_the_offer_comes_with_the_first_answer_on_intent_and_on_goodbye(page: Page, site: Site) -> None:
    open_widget(page, site)
    assert turn(page, "what is leaky gut?") == 1
    assert turn(page, "what are the symptoms?") == 0
    assert turn(page, "what causes it?") == 0
    assert turn(page, "what should I eat?") == 1  # the third answer since the last offer
    assert turn(page, "how do I apply for the coaching?") == 1
    assert turn(page, "thanks, bye") == 1


def test_never_twice_in_a_turn_nor_on_a_first_miss(page: Page, site: Site) -> None:
    open_widget(page, site)
    assert turn(page, "what causes leaky gut and how do I fix it?") == 1
    assert turn(page, "blorp zzkq") == 0


def test_no_offer_after_a_safety_turn_and_the_apply_control_goes(page: Page, site: Site) -> None:
    open_widget(page, site)
    assert turn(page, "what is leaky gut?") == 1
    expect(page.locator(".lgw-apply-bar").get_by_role("link", name=APPLY)).to_be_visible()
    assert turn(page, "I've been vomiting blood since this morning") == 0
    expect(page.locator(".lgw-apply-bar").get_by_role("link", name=APPLY)).to_be_hidden()
    assert turn(page, "how do I apply?") == 0
    assert turn(page, "thanks, bye") == 0
