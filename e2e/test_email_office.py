"""The markets office has only a mailbox: a member of its staff, in a browser without JavaScript,
finds a café's application emailed to the office, opens it, and moves it on (received, more
information needed with a note, approved); the citizen's page shows each step. The pages are
looked at in English and Arabic (screenshots) and checked with axe."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import BrowserContext, Page, expect

from conftest import Sandbox
from e2e.conftest import axe_violations
from e2e.test_assisted import _staff_signs_in
from tests.journey_support import fill_business, reference_of, submit
from tests.support import sign_in_as

SHOTS = Path(os.environ.get("FRONTDOOR_SHOTS", "/work/notes/shots/offices"))
OLU = "Olu Office (office)"


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _emailed(sandbox: Sandbox, reference: str) -> None:
    """The live worker has emailed the application to the markets office."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if any(reference in m["subject"] for m in sandbox.mail(to="markets@city.example")):
            return
        time.sleep(0.2)
    raise AssertionError(f"{reference} was not emailed to the markets office")


def _visible(page: Page) -> str:
    return " ".join(page.locator("main").inner_text().split())


def test_an_office_member_moves_an_emailed_application_on(
    base_url: str, new_context: Callable[..., BrowserContext], sandbox: Sandbox
) -> None:
    with httpx.Client(base_url=base_url) as lee:
        assert sign_in_as(lee, "lee").status_code == 303
        reference = reference_of(submit(lee, fill_business(lee)))  # a café: food
        _emailed(sandbox, reference)

        # Olu works without JavaScript; a second window of hers (with it) runs axe on each page.
        page = new_context(locale="en-GB", java_script_enabled=False).new_page()
        _staff_signs_in(page, "/staff/office", OLU)
        checker = new_context(locale="en-GB").new_page()
        _staff_signs_in(checker, "/staff/office", OLU)
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Applications sent to your office"
        )
        row = page.locator("tbody tr").filter(has_text=reference)
        expect(row).to_contain_text("Open a business")
        _shot(page, "list-en")
        assert axe_violations(checker) == []

        row.get_by_role("link", name=reference).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Open a business")
        expect(page.get_by_role("link", name="lease.pdf")).to_be_visible()
        assert "Café Sol" in _visible(page)
        _shot(page, "application-en")
        checker.goto(page.url)
        assert axe_violations(checker) == []

        page.get_by_role("button", name="Received").click()
        expect(page.get_by_role("alert")).to_contain_text("Recorded: received.")
        expect(page.get_by_role("button", name="Received")).to_have_count(0)

        page.get_by_role("button", name="More information needed").click()  # no note yet
        expect(page.get_by_role("alert")).to_contain_text("Enter a note for the citizen")
        _shot(page, "note-missing-en")
        checker.goto(page.url.split("/steps/")[0])
        checker.get_by_role("button", name="More information needed").click()
        expect(checker.get_by_role("alert")).to_contain_text("Enter a note for the citizen")
        assert axe_violations(checker) == []
        page.get_by_label("What the citizen needs to send").fill(
            "Send your food hygiene certificate."
        )
        page.get_by_role("button", name="More information needed").click()
        expect(page.get_by_role("alert")).to_contain_text("Recorded: more information needed.")
        citizen = " ".join(lee.get(f"/applications/{reference}").text.split())
        assert "More information needed" in citizen
        assert "Send your food hygiene certificate." in citizen

        page.get_by_role("button", name="Approved").click()
        expect(page.get_by_role("alert")).to_contain_text("Recorded: approved.")
        expect(page.get_by_role("main")).to_contain_text("there is nothing more to record")
        _shot(page, "approved-en")
        checker.goto(page.url)
        assert axe_violations(checker) == []
        assert "Approved" in lee.get(f"/applications/{reference}").text

    arabic = new_context(locale="ar").new_page()
    _staff_signs_in(arabic, "/staff/office", OLU)
    expect(arabic.locator("html")).to_have_attribute("dir", "rtl")
    _shot(arabic, "list-ar")
    assert axe_violations(arabic) == []
    arabic.locator("tbody tr").filter(has_text=reference).get_by_role("link").click()
    expect(arabic.locator("html")).to_have_attribute("dir", "rtl")
    _shot(arabic, "application-ar")
    assert axe_violations(arabic) == []
