"""Open a business in a real browser: with and without JavaScript, in English and in Arabic,
axe-clean on every page, then the application followed on one timeline."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from conftest import Sandbox
from e2e.conftest import axe_violations

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
SIGN_IN = {"en": "Continue to national sign-in", "ar": "المتابعة إلى تسجيل الدخول الوطني"}
REFERENCE = re.compile(r"FD-[0-9A-Z]{4}-[0-9A-Z]{4}")


class Journey:
    """A citizen going through the pages; every page is checked with axe when JS runs."""

    def __init__(self, page: Page, javascript: bool) -> None:
        self.page = page
        self.javascript = javascript
        self.pages_checked = 0

    def check(self) -> None:
        if self.javascript:
            assert axe_violations(self.page) == [], self.page.url
            self.pages_checked += 1

    def next(self, step: str) -> None:
        """Continue, and arrive on `step` (the page's path ends with it)."""
        self.page.locator(
            "main form button.govuk-button:not(.govuk-button--secondary)"
        ).last.click()
        expect(self.page).to_have_url(re.compile(rf"/{re.escape(step)}(\?.*)?$"))
        self.check()

    def type_and_enter(self, selector: str, text: str, step: str) -> None:
        """Type an answer and press Enter, as a keyboard user sends a form."""
        self.page.locator(selector).fill(text)
        self.page.locator(selector).press("Enter")
        expect(self.page).to_have_url(re.compile(rf"/{re.escape(step)}(\?.*)?$"))
        self.check()


@pytest.mark.parametrize(
    ("language", "javascript"),
    [("en", True), ("en", False), ("ar", True), ("ar", False)],
    ids=["en-js", "en-nojs", "ar-js", "ar-nojs"],
)
def test_open_a_business_from_the_catalogue_to_the_timeline(
    new_context: Callable[..., BrowserContext],
    sandbox_process: Sandbox,
    language: str,
    javascript: bool,
) -> None:
    page = new_context(locale=language, java_script_enabled=javascript).new_page()
    journey = Journey(page, javascript)
    page.goto("/services")
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    journey.check()
    page.locator('a[href="/services/open-business"]').first.click()
    journey.check()
    page.locator('a[href="/services/open-business/apply"]').click()
    page.get_by_role("button", name=SIGN_IN[language]).click()
    page.get_by_role("button", name="Lee Smith (lee)").click()
    expect(page).to_have_url(re.compile(r"/drafts/d_[0-9a-f]+/business-name$"))
    journey.check()

    # An error first: the summary links to the field.
    journey.next("business-name")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    journey.check()
    answer_open_a_business(journey)
    expect(page.get_by_text("Café Sol")).to_be_visible()
    expect(page.get_by_text("Luis Pérez")).to_be_visible()
    page.locator('form[action$="/submit"] button').click()
    expect(page.locator(".govuk-panel")).to_be_visible()
    journey.check()
    reference = REFERENCE.search(page.locator(".govuk-panel").inner_text())
    assert reference, page.locator(".govuk-panel").inner_text()

    page.goto("/applications")
    expect(page.get_by_text(reference.group(0))).to_be_visible()
    journey.check()
    page.goto(f"/applications/{reference.group(0)}")
    # The worker delivers to the four departments and emails the markets office (a café);
    # each "received" joins the timeline after "sent".
    for _ in range(20):
        if page.locator(".fd-timeline__item").count() >= 6:
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator(".fd-timeline__item")).to_have_count(6)
    journey.check()
    pay_the_fee(journey, sandbox_process, reference.group(0))
    if javascript:
        assert journey.pages_checked >= 22


def answer_open_a_business(journey: Journey) -> None:
    """From the business name to "Check your answers": a partnership selling food, with
    employees, so that four departments receive it."""
    page = journey.page
    javascript = journey.javascript
    journey.type_and_enter("#business_name", "Café Sol", "legal-form")
    page.locator("#legal_form-2").check()  # a partnership
    journey.next("partners/1")
    page.locator("#partner_name").fill("Luis Pérez")
    page.locator("#partner_birth_date-day").fill("3")
    page.locator("#partner_birth_date-month").fill("7")
    journey.type_and_enter("#partner_birth_date-year", "1980", "partners")
    page.locator("#add_another-2").check()  # no more
    journey.next("activity")
    page.locator("#activity-2").check()  # food: the environment department too
    journey.next("activity-description")
    journey.type_and_enter("#activity_description", "Coffee and cakes.", "activity-description")
    journey.next("premises")
    page.locator("#premises_address-query").fill("plaza espana")
    page.locator('button[name="action"]').click()
    page.locator('input[name="premises_address-choice"]').first.check()
    journey.check()
    journey.next("floor-area")
    journey.type_and_enter("#floor_area", "85", "opening-date")
    page.locator("#opening_date-day").fill("1")
    page.locator("#opening_date-month").fill("3")
    journey.type_and_enter("#opening_date-year", "2027", "opening-days")
    page.locator("#opening_days").check()
    page.locator("#opening_days-6").check()
    journey.next("has-employees")
    page.locator("#has_employees").check()  # yes: the employment office too
    journey.next("employees")
    journey.type_and_enter("#employee_count", "3", "turnover")
    journey.type_and_enter("#expected_turnover", "120000", "tax-scheme")
    page.locator("#tax_scheme").select_option("simplified")
    journey.next("premises-proof")
    page.locator("#premises_proof").set_input_files(
        files=[{"name": "lease.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    journey.next("contact")
    page.locator("#contact_name").fill("Lee Chen")
    page.locator("#contact_email").fill("lee@")
    if javascript:  # checked as soon as the citizen leaves the field
        page.locator("#contact_phone").focus()
        expect(page.locator("#contact_email-error")).to_be_visible()
    page.locator("#contact_email").fill("lee@example.org")
    journey.next("check")


def pay_the_fee(journey: Journey, sandbox: Sandbox, reference: str) -> None:
    """The trade licence department asks for its fee (pushed to the portal); the citizen pays
    it on the gateway's page and comes back to a receipt; the timeline says it was paid."""
    page = journey.page
    cases = httpx.get(f"{sandbox.url}/_sandbox/departments/trade-licence/cases").json()["cases"]
    case = next(c for c in cases if c["request"]["application_reference"] == reference)
    for status in ("in_review", "fee_due"):
        sandbox.advance("trade-licence", case["case_id"], status=status)
    pay = page.locator('form[action$="/fees/trade-licence/pay"] button')
    for _ in range(20):
        if pay.count():
            break
        page.wait_for_timeout(250)
        page.reload()
    journey.check()
    pay.click()
    page.locator("#card-number").fill("4444333322221111")
    page.locator("#expiry").fill("12/39")
    page.locator("#cvc").fill("123")
    page.locator("#name").fill("Lee Chen")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator(".govuk-panel")).to_be_visible()
    journey.check()
    page.goto(f"/applications/{reference}")
    expect(page.locator(".fd-timeline__item")).to_have_count(9)  # in review, fee, paid
    expect(pay).to_have_count(0)
