"""The building blocks of service definitions in a real browser (issue 18, item 7), on a portal
whose catalogue holds the test-only service of tests/blocks_services: an eligibility question
that ends the journey, a date with earliest/latest, several documents one at a time, a delivery
choice with an address only for post, and the department chosen by the district. Each page is
axe-clean; the pages new to these blocks are photographed in English and Arabic."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from conftest import Sandbox, migrate
from e2e.conftest import (
    axe_violations,
    contexts_on,
    running_portal,
)
from e2e.test_journeys import SIGN_IN
from tests.blocks_support import blocks_catalogue
from tests.journey_support import PDF, PNG

SHOTS = Path(os.environ.get("FRONTDOOR_SHOTS", "/work/notes/shots/blocks"))
REFERENCE = re.compile(r"FD-[0-9A-Z]{4}-[0-9A-Z]{4}")


@pytest.fixture(scope="module")
def blocks_url(
    sandbox_process: Sandbox,
    postgres_database: Callable[[], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """A portal (and its worker) serving the test service as the city's catalogue, on a
    database of its own."""
    database = postgres_database()
    migrate(database)
    catalogue = blocks_catalogue(tmp_path_factory.mktemp("blocks") / "catalogue")
    with running_portal(
        sandbox_process, database, tmp_path_factory, "blocks-portal", catalogue_dir=str(catalogue)
    ) as url:
        yield url


@pytest.fixture
def open_page(blocks_url: str, browser: Browser) -> Iterator[Callable[..., Page]]:
    """A page in a fresh browser profile on the blocks portal (language, JavaScript on or off);
    fails the test if any page shows markup as text."""
    with contexts_on(browser, blocks_url) as context:

        def make(language: str = "en", javascript: bool = True) -> Page:
            return context(locale=language, java_script_enabled=javascript).new_page()

        yield make


def clean(page: Page, shot: str | None = None, javascript: bool = True) -> None:
    """axe finds nothing (axe needs JavaScript: the runs with it check the same pages); a
    screenshot for people to look at."""
    if shot:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
    if javascript:
        assert axe_violations(page) == [], page.url


def draft_of(url: str) -> str:
    """The /drafts/<id> path of a journey page's address."""
    found = re.search(r"/drafts/d_[0-9a-f]+", url)
    assert found, url
    return found.group(0)


def start(page: Page, user: str, language: str = "en") -> str:
    """Sign in and start the test service afresh; its /drafts/<id> path."""
    page.goto("/services/blocks-permit/apply")
    page.get_by_role("button", name=SIGN_IN[language]).click()
    page.get_by_role("button", name=re.compile(rf"\({user}\)")).click()
    expect(page).to_have_url(re.compile(r"/drafts/d_[0-9a-f]+/"))
    base = draft_of(page.url)
    if not page.url.endswith("/live-in-city"):  # an earlier test's draft
        page.goto(f"{base}/delete")
        page.locator("main form button").click()
        page.goto("/services/blocks-permit/apply")
        base = draft_of(page.url)
    expect(page).to_have_url(re.compile(r"/live-in-city$"))
    return base


def go_on(page: Page, step: str) -> None:
    """Press Continue and arrive on `step`."""
    page.locator("main form button.govuk-button:not(.govuk-button--secondary)").last.click()
    expect(page).to_have_url(re.compile(rf"/{re.escape(step)}(\?.*)?$"))


def date_in(page: Page, days: int) -> None:
    day = datetime.now(ZoneInfo("Europe/Madrid")).date() + timedelta(days=days)
    page.locator("#collection_date-day").fill(str(day.day))
    page.locator("#collection_date-month").fill(str(day.month))
    page.locator("#collection_date-year").fill(str(day.year))


@pytest.mark.parametrize(
    ("language", "javascript"), [("en", True), ("ar", True), ("en", False)], ids=str
)
def test_an_eligibility_no_ends_the_journey_with_where_to_go_instead(
    open_page: Callable[..., Page], language: str, javascript: bool
) -> None:
    page = open_page(language, javascript)
    base = start(page, "lee", language)
    page.locator("#lives_here-2").check()  # No
    go_on(page, "stop")
    expect(page.locator("h1")).to_have_text("You cannot apply for a resident parking permit")
    expect(page.get_by_text("Only people who live in the city")).to_be_visible()
    expect(page.locator('main a[href="/pay-a-bill"]')).to_have_text("Apply for a visitor permit")
    clean(page, f"stop-{language}" if javascript else None, javascript)
    # Nothing further opens while the answer holds.
    for path in ("collection-date", "check"):
        page.goto(f"{base}/{path}")
        expect(page).to_have_url(re.compile(r"/stop$"))
    page.locator(f'main a[href="{base}/live-in-city"]').last.click()  # Change your answer
    expect(page.locator("#lives_here-2")).to_be_checked()
    page.locator("#lives_here").check()  # Yes
    go_on(page, "collection-date")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_date_before_the_earliest_names_the_first_day_allowed(
    open_page: Callable[..., Page], language: str
) -> None:
    page = open_page(language)
    start(page, "omar", language)
    page.locator("#lives_here").check()
    go_on(page, "collection-date")
    expect(page.locator("#collection_date-range")).to_be_visible()
    clean(page)
    date_in(page, 1)
    go_on(page, "collection-date")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    first_day = datetime.now(ZoneInfo("Europe/Madrid")).date() + timedelta(days=2)
    if language == "en":
        expected = f"The date must be on or after {first_day.day} {first_day:%B %Y}"
        expect(summary).to_contain_text(expected)
    else:
        expect(summary).to_contain_text(str(first_day.year))
    clean(page, f"date-error-{language}")
    date_in(page, 2)
    go_on(page, "delivery")


def _through_to_documents(page: Page, delivery: str, javascript: bool = True) -> None:
    page.locator("#lives_here").check()
    go_on(page, "collection-date")
    date_in(page, 14)
    go_on(page, "delivery")
    page.locator(f"input[name=delivery][value={delivery}]").check()  # labels are translated
    if delivery == "post":
        go_on(page, "postal-address")
        clean(page, None, javascript)
        page.get_by_text("Enter the address yourself").click()
        page.locator("#postal_address-line1").fill("4 Mill Lane")
        page.locator("#postal_address-town").fill("Riverside")
    go_on(page, "district")
    page.locator("input[name=district][value=south]").check()
    go_on(page, "documents")


def _upload(page: Page, name: str, content: bytes) -> None:
    kind = "application/pdf" if name.endswith(".pdf") else "image/png"
    page.locator("#proofs").set_input_files({"name": name, "mimeType": kind, "buffer": content})
    page.locator('button[name="action"][value="upload"]').click()
    expect(page.locator("main")).to_contain_text(name)


@pytest.mark.parametrize(
    ("language", "javascript"), [("en", True), ("ar", True), ("en", False)], ids=str
)
def test_several_documents_are_added_one_at_a_time_and_removed(
    open_page: Callable[..., Page], language: str, javascript: bool
) -> None:
    page = open_page(language, javascript)
    base = start(page, "ana", language)
    _through_to_documents(page, "collect", javascript)
    clean(page, None, javascript)
    go_on(page, "documents")  # Continue with no file: the error
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    clean(page, None, javascript)
    _upload(page, "lease.pdf", PDF)
    _upload(page, "bill.png", PNG)
    expect(page.locator(".govuk-summary-list__row")).to_have_count(2)
    clean(page, f"documents-{language}" if javascript else None, javascript)
    page.locator(".govuk-summary-list__row", has_text="lease.pdf").get_by_role("button").click()
    expect(page.locator(".govuk-summary-list__row")).to_have_count(1)
    expect(page.locator("main")).not_to_contain_text("lease.pdf")
    _upload(page, "deeds.pdf", PDF)
    _upload(page, "photo.png", PNG)
    expect(page.locator("input#proofs")).to_have_count(0)  # three: no more can be added
    clean(page, f"documents-full-{language}" if javascript else None, javascript)
    go_on(page, "contact")
    page.locator("#contact_name").fill("Ana García")
    go_on(page, "check")
    files = page.locator(".govuk-summary-list__value ul.govuk-list li")
    expect(files).to_have_text(["bill.png", "deeds.pdf", "photo.png"])
    clean(page, f"check-{language}" if javascript else None, javascript)
    assert base


def test_post_asks_for_an_address_and_the_district_picks_the_department(
    open_page: Callable[..., Page], sandbox_process: Sandbox
) -> None:
    page = open_page()
    base = start(page, "lee")
    _through_to_documents(page, "post")
    _upload(page, "lease.pdf", PDF)
    go_on(page, "contact")
    page.locator("#contact_name").fill("Lee Smith")
    go_on(page, "check")
    expect(page.locator("main")).to_contain_text("4 Mill Lane")
    # Changing the delivery to collect drops the address page and its answer.
    page.goto(f"{base}/delivery?change=1")
    page.get_by_label("Collect it from the town hall").check()
    go_on(page, "check")
    expect(page.locator("main")).not_to_contain_text("4 Mill Lane")
    page.goto(f"{base}/delivery?change=1")
    page.get_by_label("By post").check()
    go_on(page, "check")  # the address given before is still there
    expect(page.locator("main")).to_contain_text("4 Mill Lane")
    page.locator('form[action$="/submit"] button').click()
    expect(page.locator(".govuk-panel")).to_be_visible()
    reference = REFERENCE.search(page.locator(".govuk-panel").inner_text())
    assert reference
    page.goto(f"/applications/{reference.group(0)}")
    expect(page.locator("main li", has_text="lease.pdf")).to_be_visible()  # Documents you sent
    clean(page)
    # The worker sends it to the south's department only.
    cases: dict[str, list[Any]] = {}
    for _ in range(40):
        cases = {
            department: [
                case
                for case in httpx.get(
                    f"{sandbox_process.url}/_sandbox/departments/{department}/cases"
                ).json()["cases"]
                if case["request"]["application_reference"] == reference.group(0)
            ]
            for department in ("tax", "trade-licence")
        }
        if cases["tax"]:
            break
        page.wait_for_timeout(250)
    assert len(cases["tax"]) == 1 and cases["trade-licence"] == []
    data = cases["tax"][0]["request"]["data"]
    assert data["postal_address"]["line1"] == "4 Mill Lane"
    assert [item["filename"] for item in data["proofs"]] == ["lease.pdf"]
