"""Every page in a real browser: languages and direction, axe-core, keyboard, no JavaScript."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from e2e.conftest import axe_violations

LANGUAGES = {"en": ("en-GB", "ltr"), "es": ("es-ES", "ltr"), "ar": ("ar-EG", "rtl")}
PAGES = ["/", "/accessibility", "/privacy", "/cookies", "/no-such-page"]
SKIP_LINK = {
    "en": "Skip to main content",
    "es": "Saltar al contenido principal",
    "ar": "انتقل إلى المحتوى الرئيسي",
}
THANKS = {"en": "Thank you for your feedback.", "es": "Gracias por sus comentarios."}


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("language", list(LANGUAGES))
def test_pages_have_no_axe_violations(
    new_context: Callable[..., BrowserContext], language: str, path: str
) -> None:
    page = new_context(locale=LANGUAGES[language][0]).new_page()
    page.goto(path)
    assert page.locator("html").get_attribute("lang") == language
    assert axe_violations(page) == []


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_pages_reflow_on_a_320_pixel_screen(
    new_context: Callable[..., BrowserContext], language: str
) -> None:
    """WCAG 1.4.10: no sideways scrolling at 320 CSS pixels, whatever the language."""
    page = new_context(
        locale=LANGUAGES[language][0], viewport={"width": 320, "height": 640}
    ).new_page()
    for path in PAGES:
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_the_browser_language_sets_lang_and_direction(
    new_context: Callable[..., BrowserContext], language: str
) -> None:
    locale, direction = LANGUAGES[language]
    page = new_context(locale=locale, viewport={"width": 1200, "height": 800}).new_page()
    page.goto("/")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", language)
    expect(html).to_have_attribute("dir", direction)
    assert page.evaluate("getComputedStyle(document.body).direction") == direction
    # The design system's layout follows: the header's name sits at the start of the line.
    box = page.locator(".govuk-generic-header__homepage-link").bounding_box()
    assert box is not None
    at_right = box["x"] + box["width"] > 600
    assert at_right == (direction == "rtl")


def test_keyboard_only_skip_link_then_language_switcher(page: Page) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    expect(focused).to_have_text(SKIP_LINK["en"])
    page.keyboard.press("Enter")
    expect(page.locator(":focus")).to_have_id("main-content")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "العربية":
            break
    else:
        pytest.fail("the language switcher cannot be reached with the keyboard")
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.wait_for_load_state("load")  # a key pressed before the new page is ready is lost
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text(SKIP_LINK["ar"])


def test_everything_works_without_javascript(new_context: Callable[..., BrowserContext]) -> None:
    page = new_context(locale="es-ES", java_script_enabled=False).new_page()
    page.goto("/privacy")
    assert "js-enabled" not in (page.locator("body").get_attribute("class") or "")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="Yes this page is useful").click()
    assert page.url.endswith("/privacy#feedback")
    expect(page.get_by_role("status")).to_have_text(THANKS["en"])


def test_with_javascript_feedback_is_answered_in_place(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(locale="es-ES").new_page()
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/cookies")
    expect(page.locator("body")).to_have_class(
        "govuk-template__body js-enabled govuk-frontend-supported"
    )
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("button", name="No esta página no es útil").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text(THANKS["es"])
    # The button is gone: focus moves to the message, not back to the top of the page.
    expect(page.locator(":focus")).to_have_text(THANKS["es"])
    assert page.evaluate("window.stillTheSamePage") is True
    assert page.url.endswith("/cookies")
    assert errors == []


def test_an_expired_form_says_so_in_place_with_javascript(
    new_context: Callable[..., BrowserContext],
) -> None:
    context = new_context(locale="en-GB")
    page = context.new_page()
    page.goto("/privacy")
    context.clear_cookies()  # as when the CSRF cookie has gone: the form has expired
    page.get_by_role("button", name="Yes this page is useful").click()
    expect(page.get_by_role("alert")).to_contain_text("Your form could not be sent")
    assert page.url.endswith("/privacy")
    assert axe_violations(page) == []
