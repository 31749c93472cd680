"""The designers' area in a real browser (issue 18): a designer clones a service, sees every
problem of a broken definition with its line, the outline of a correct one, previews the draft
in Arabic under the Preview banner and submits it; publishing it themselves is refused. Each
page axe-clean in English and Arabic, photographed."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from e2e.conftest import axe_violations

SHOTS = Path(os.environ.get("FRONTDOOR_SHOTS", "/work/notes/shots/designer"))


def clean(page: Page, shot: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
    assert axe_violations(page) == [], page.url


def designer(new_context: Callable[..., BrowserContext], language: str, user: str) -> Page:
    page = new_context(locale=language).new_page()
    page.goto("/staff/services")
    page.locator('a[href^="/staff/sign-in/start"], button[type=submit]').first.click()
    page.get_by_role("button", name=re.compile(rf"\({user}\)")).click()
    page.wait_for_url("**/staff/services")
    return page


def test_a_designer_clones_checks_previews_and_submits(
    new_context: Callable[..., BrowserContext],
) -> None:
    dana = designer(new_context, "en-GB", "designer")
    expect(dana.get_by_role("heading", level=1)).to_have_text("Services")
    expect(dana.locator("tbody")).to_contain_text("open-business")
    clean(dana, "list-en")

    new_id = f"open-business-{uuid.uuid4().hex[:6]}"
    dana.locator("#new_id").fill(new_id)
    dana.locator("#clone_from").select_option("open-business")
    dana.get_by_role("button", name="Create the draft").click()
    expect(dana.locator("textarea#source")).to_be_visible()
    editor = dana.url
    source = dana.locator("textarea#source").input_value()
    assert f"id: {new_id}" in source
    clean(dana, "outline-en")
    expect(dana.get_by_role("heading", name="Outline")).to_be_visible()

    broken = source.replace("type: text", "type: txet", 1)
    line = source[: source.index("type: text")].count("\n") + 1
    dana.locator("textarea#source").fill(broken)
    dana.get_by_role("button", name="Save", exact=True).click()
    summary = dana.locator(".govuk-error-summary")
    expect(summary).to_contain_text(f"Line {line}:")
    expect(summary).to_contain_text("'txet' is not a field type; did you mean 'text'?")
    assert "type: txet" in dana.locator("textarea#source").input_value()  # nothing lost
    clean(dana, "editor-errors-en")

    dana.locator("textarea#source").fill(source)
    dana.get_by_role("button", name="Save", exact=True).click()
    expect(dana.locator(".govuk-error-summary")).to_have_count(0)

    arabic = designer(new_context, "ar", "designer")
    expect(arabic.locator("html")).to_have_attribute("dir", "rtl")
    clean(arabic, "list-ar")
    arabic.goto(editor)
    arabic.locator("textarea#source").fill(broken)
    arabic.locator("button[value=save]").click()
    expect(arabic.locator(".govuk-error-summary")).to_be_visible()
    clean(arabic, "editor-errors-ar")
    arabic.locator("textarea#source").fill(source)
    arabic.locator("button[value=save]").click()
    expect(arabic.locator(".govuk-error-summary")).to_have_count(0)
    clean(arabic, "outline-ar")

    arabic.locator(f'form[action$="/{new_id}/versions/1/preview"] button').click()
    banner = arabic.locator("#preview-title")
    expect(banner).to_be_visible()
    expect(arabic.locator("html")).to_have_attribute("dir", "rtl")
    clean(arabic, "preview-ar")

    dana.goto(editor)
    dana.locator(f'form[action$="/{new_id}/versions/1/preview"] button').click()
    expect(dana.locator("#preview-title")).to_have_text("Preview")
    clean(dana, "preview-en")

    dana.goto(editor)
    dana.get_by_role("button", name="Save and submit for review").click()
    expect(
        dana.get_by_text("Another designer must publish this version: you wrote or submitted it.")
    ).to_be_visible()
    dana.get_by_role("button", name="Publish this version").click()
    expect(dana.locator(".govuk-error-summary")).to_contain_text("This was refused")
    clean(dana, "self-publish-refused-en")
