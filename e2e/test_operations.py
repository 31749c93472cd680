"""An administrator finds a department's message stuck on the backends page, parks it while the
department is down, and retries it once it is back: the live worker then delivers it. The
pages are looked at in English and Arabic (screenshots) and checked with axe."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import BrowserContext, Locator, Page, expect

from conftest import Sandbox
from e2e.conftest import axe_violations
from e2e.test_assisted import _staff_signs_in
from tests.journey_support import fill_business, reference_of, submit
from tests.support import sign_in_as

SHOTS = Path(os.environ.get("FRONTDOOR_SHOTS", "/work/notes/shots/operations"))
ADMIN = "Ada Admin (admin)"


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _row(page: Page, reference: str) -> Locator:
    """The tax office's message about this application (other tests may leave others)."""
    return page.locator("tbody tr").filter(has_text=reference)


def _waits_for_retry(page: Page, reference: str) -> str:
    """Reload the tax office's page until the worker has tried our message once; its number."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        page.goto("/staff/backends/tax")
        row = _row(page, reference)
        if row.count() and "Retrying" in row.inner_text():
            found = re.search(r"Message (\d+)", row.locator("th").inner_text())
            assert found
            return found.group(1)
        page.wait_for_timeout(300)
    raise AssertionError(f"no retrying tax message for {reference}")


def test_an_administrator_parks_and_retries_a_message(
    base_url: str, new_context: Callable[..., BrowserContext], sandbox: Sandbox
) -> None:
    sandbox.set_fault("tax", down=True)
    with httpx.Client(base_url=base_url) as lee:
        assert sign_in_as(lee, "lee").status_code == 303
        reference = reference_of(submit(lee, fill_business(lee)))
    page = new_context(locale="en-GB").new_page()
    _staff_signs_in(page, "/staff/backends", ADMIN)
    expect(page.get_by_role("heading", level=1)).to_have_text("Backends")
    number = _waits_for_retry(page, reference)

    page.goto("/staff/backends")
    table = page.get_by_role("table", name="Messages per backend")
    tax = table.get_by_role("row").filter(has=page.get_by_role("link", name="Tax office"))
    assert int(tax.get_by_role("cell").nth(1).inner_text()) >= 1  # retrying
    _shot(page, "backends-en")
    assert axe_violations(page) == []

    tax.get_by_role("link", name="Tax office").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tax office")
    _row(page, reference).get_by_role("button", name=f"Park message {number}").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Message {number} is parked. It will not be sent until someone retries it."
    )
    row = _row(page, reference)
    expect(row.get_by_role("cell").nth(1)).to_have_text("Parked")
    expect(row.get_by_role("button", name=f"Park message {number}")).to_have_count(0)
    row.get_by_text(f"Last error of message {number}").click()
    expect(row.locator("pre")).to_contain_text("Parked by Ada Admin")
    expect(row.locator("pre")).to_contain_text("department tax: answered 503")
    _shot(page, "backend-en")
    assert axe_violations(page) == []

    arabic = new_context(locale="ar").new_page()
    _staff_signs_in(arabic, "/staff/backends", ADMIN)
    expect(arabic.locator("html")).to_have_attribute("dir", "rtl")
    _shot(arabic, "backends-ar")
    assert axe_violations(arabic) == []
    arabic.goto("/staff/backends/tax")
    _row(arabic, reference).locator("summary").click()
    _shot(arabic, "backend-ar")
    assert axe_violations(arabic) == []

    sandbox.set_fault("tax", down=False)
    _row(page, reference).get_by_role("button", name=f"Retry message {number} now").click()
    expect(page.get_by_role("alert")).to_contain_text(f"Message {number} will be sent again now.")
    deadline = time.monotonic() + 20
    while _row(page, reference).count() and time.monotonic() < deadline:
        page.wait_for_timeout(300)  # the worker polls its outbox every 0.2 s
        page.reload()
    expect(_row(page, reference)).to_have_count(0)  # delivered: no longer waiting
    assert any(
        case["request"]["application_reference"] == reference for case in sandbox.cases("tax")
    )
