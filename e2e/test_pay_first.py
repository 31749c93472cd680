"""Paying before sending in a real browser (issue 18, item 7), on a portal whose catalogue holds
the test-only service of tests/pay_first_services: the check page says the fee the answers come
to in the reader's language, "Continue to payment" goes to the gateway, a declined card comes
back to the check page with why, and a good card ends on the receipt with the application sent.
Each page is axe-clean; the check page and the receipt are photographed in English and Arabic."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from conftest import Sandbox, migrate
from e2e.conftest import (
    axe_violations,
    contexts_on,
    running_portal,
)
from e2e.test_journeys import SIGN_IN
from e2e.test_payments import enter_card
from tests.pay_first_support import SERVICE, pay_first_catalogue

SHOTS = Path(os.environ.get("FRONTDOOR_SHOTS", "/work/notes/shots/payfirst"))
REFERENCE = re.compile(r"FD-[0-9A-Z]{4}-[0-9A-Z]{4}")
SUCCESS, DECLINED = "4444333322221111", "4000000000000002"
# What the reader sees, in their language's words and number format.
FEE = {"en": "€100.00", "ar": "\u200f100.00\xa0€"}
PAY = {"en": "Continue to payment", "ar": "تابع إلى الدفع"}
PAID = {"en": "Payment received", "ar": "تم استلام الدفعة"}


@pytest.fixture(scope="module")
def portal_url(
    sandbox_process: Sandbox,
    postgres_database: Callable[[], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """A portal (and its worker) serving the test service, on a database of its own."""
    database = postgres_database()
    migrate(database)
    catalogue = pay_first_catalogue(tmp_path_factory.mktemp("payfirst") / "catalogue")
    with running_portal(
        sandbox_process, database, tmp_path_factory, "payfirst-portal", catalogue_dir=str(catalogue)
    ) as url:
        yield url


@pytest.fixture
def open_page(portal_url: str, browser: Browser) -> Iterator[Callable[..., Page]]:
    """A page in a fresh browser profile (language); fails if any page shows markup as text."""
    with contexts_on(browser, portal_url) as context:

        def make(language: str = "en") -> Page:
            return context(locale=language).new_page()

        yield make


def clean(page: Page, shot: str | None = None) -> None:
    if shot:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
    assert axe_violations(page) == [], page.url


def go_on(page: Page, step: str) -> None:
    page.locator("main form button.govuk-button").last.click()
    expect(page).to_have_url(re.compile(rf"/{re.escape(step)}(\?.*)?$"))


def to_check(page: Page, user: str, language: str) -> str:
    """Sign in, answer every question (petrol, 2 permits) and arrive on the check page."""
    page.goto(f"/services/{SERVICE}/apply")
    page.get_by_role("button", name=SIGN_IN[language]).click()
    page.get_by_role("button", name=re.compile(rf"\({user}\)")).click()
    expect(page).to_have_url(re.compile(r"/drafts/d_[0-9a-f]+/vehicle-type$"))
    page.locator("#vehicle_type").check()  # the first option: petrol or diesel
    go_on(page, "copies")
    page.locator("#copies").fill("2")
    go_on(page, "contact")
    page.locator("#contact_name").fill("Omar Haddad")
    go_on(page, "check")
    return page.url


@pytest.mark.parametrize(("language", "user"), [("en", "omar"), ("ar", "lee")])
def test_the_fee_is_paid_last_and_the_receipt_says_the_application_was_sent(
    open_page: Callable[..., Page], language: str, user: str
) -> None:
    page = open_page(language)
    check = to_check(page, user, language)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    fee = page.locator("[data-fd-fee]")
    expect(fee).to_be_visible()
    expect(fee.locator("dd")).to_have_text(FEE[language])
    button = page.get_by_role("button", name=PAY[language])
    expect(button).to_be_visible()
    clean(page, f"check-{language}")

    if language == "en":  # a declined card first: back on the check page, answers kept
        button.click()
        expect(page).to_have_url(re.compile(r"/payments/card/pay_[0-9a-f]+$"))
        enter_card(page, DECLINED)
        expect(page).to_have_url(re.compile(r"/check\?payment=pay_[0-9a-f]+$"))
        banner = page.locator(".govuk-notification-banner")
        expect(banner).to_contain_text("Your payment was declined")
        expect(banner).to_contain_text("You have not been charged.")
        expect(page.locator("main")).to_contain_text("Omar Haddad")
        clean(page, "check-declined-en")
        assert page.url.startswith(check.split("?")[0])

    page.get_by_role("button", name=PAY[language]).click()
    expect(page).to_have_url(re.compile(r"/payments/card/pay_[0-9a-f]+$"))
    enter_card(page, SUCCESS)
    expect(page).to_have_url(re.compile(r"/payments/pay_[0-9a-f]+$"))
    main = page.locator("main")
    expect(main.locator(".govuk-panel__title")).to_have_text(PAID[language])
    expect(main.locator(".govuk-panel")).to_contain_text(FEE[language])
    expect(main).to_contain_text("Resident parking permit")  # the fee's description
    text = main.inner_text()
    found = REFERENCE.search(text)
    assert found, text
    clean(page, f"receipt-{language}")
    # The application: sent once, its timeline says the fee was paid.
    page.goto(f"/applications/{found.group(0)}")
    expect(page.locator("main")).to_contain_text(FEE[language])
    clean(page)
