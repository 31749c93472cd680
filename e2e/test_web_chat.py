"""The web chat in a real browser: the panel on any page with JavaScript, the /chat page
without it, both talking to the real bot, axe-clean in every language."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from e2e.conftest import axe_violations
from e2e.test_chatbot import bot_says, in_language

LOCALES = {"en": "en-GB", "es": "es-ES", "ar": "ar"}
HELLO = {"en": "hello", "es": "hola", "ar": "مرحبا"}


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_the_panel_on_any_page_talks_to_the_bot(
    bot: str, new_context: Callable[..., BrowserContext], language: str
) -> None:
    page = new_context(locale=LOCALES[language]).new_page()
    page.goto("/services")
    page.locator("summary").get_by_text(in_language(language, "Ask our assistant")).click()
    page.get_by_label(in_language(language, "Your message")).fill(HELLO[language])
    page.get_by_role("button", name=in_language(language, "Send")).click()
    reply = page.locator(".fd-chat__message--theirs").last
    expect(reply).to_contain_text(bot_says(language, "utter_greet"))
    assert page.url.endswith("/services")  # it stayed on the page
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    assert axe_violations(page) == []
    page.goto("/chat")  # the same conversation as a page of its own
    expect(page.locator(".fd-chat__message--theirs").last).to_contain_text(
        bot_says(language, "utter_greet")
    )
    assert axe_violations(page) == []
    # An empty message is refused in place, in the page's language.
    page.get_by_role("button", name=in_language(language, "Send")).click()
    expect(page.locator("#chat-message-error")).to_contain_text(
        in_language(language, "Type your message")
    )


def test_the_chat_works_without_javascript(
    bot: str, new_context: Callable[..., BrowserContext]
) -> None:
    page = new_context(locale="en-GB", java_script_enabled=False).new_page()
    page.goto("/")
    page.locator("summary").get_by_text(
        "Ask our assistant"
    ).click()  # a details element opens by itself
    page.get_by_label("Your message").fill("I'd like to pay BL-2PWA-H5RA")
    page.get_by_role("button", name="Send").click()
    assert "/chat" in page.url
    reply = page.locator(".fd-chat__message--theirs").last
    expect(reply).to_contain_text("482.50")
    link = reply.get_by_role("link")
    assert link.get_attribute("href", timeout=2000).endswith("/pay-a-bill?reference=BL-2PWA-H5RA")


def test_a_bubble_holds_the_message_and_nothing_above_it(
    new_context: Callable[..., BrowserContext],
) -> None:
    """A bubble keeps the message's own line breaks, so markup whitespace must not add one:
    no empty band above the text, whoever wrote it (the bot need not be running)."""
    page = new_context(locale="en-GB").new_page()
    page.goto("/chat")
    page.get_by_label("Your message").fill("Where is my application?")
    page.get_by_role("button", name="Send").click()
    mine = page.locator(".fd-chat__message--mine").last
    expect(mine.locator(".fd-chat__text")).to_have_text("Where is my application?")
    assert mine.locator(".fd-chat__text").inner_text() == "Where is my application?"
    page.wait_for_timeout(500)  # the assistant's answer (or its apology) too
    for bubble in page.locator(".fd-chat__message").all():
        gap = bubble.evaluate(
            """(bubble) => {
              const style = getComputedStyle(bubble);
              const top = bubble.getBoundingClientRect().top + parseFloat(style.paddingTop)
                + parseFloat(style.borderTopWidth);
              const first = bubble.querySelector(".fd-chat__author:not(.govuk-visually-hidden)")
                || bubble.querySelector(".fd-chat__text");
              return first.getBoundingClientRect().top - top;
            }"""
        )
        assert abs(gap) < 2, (bubble.inner_text(), gap)
