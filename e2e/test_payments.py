"""Paying a bill in a real browser with every test card of the sandbox gateway: the citizen's
pages are axe-clean in each language, right to left in Arabic, and work without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from conftest import Sandbox
from e2e.conftest import axe_violations
from portal.applications.references import new_reference

# card, what the citizen reads on coming back (English)
CARDS = {
    "success": ("4444333322221111", "Payment received"),
    "declined": ("4000000000000002", "Your payment was declined"),
    "insufficient-funds": ("4000000000009995", "does not have enough money"),
    "expired-card": ("4000000000000069", "Your card has expired"),
    "slow": ("4000000000000077", "Payment received"),
}
PAID = {"en": "Payment received", "es": "Pago recibido", "ar": "تم استلام الدفعة"}
FIND = {"en": "Find the bill", "es": "Buscar el recibo", "ar": "ابحث عن الفاتورة"}
PAY = {"en": "Pay €", "es": "Pagar", "ar": "ادفع"}


def new_bill(sandbox: Sandbox, amount_minor: int = 6000) -> str:
    reference = new_reference("BL")
    bill = {"reference": reference, "description": "Parking fine", "amount_minor": amount_minor}
    httpx.post(f"{sandbox.url}/_sandbox/bills", json=bill).raise_for_status()
    return reference


def find_and_pay(page: Page, reference: str, language: str, javascript: bool) -> None:
    """From the look-up to the gateway's card page, checking our pages on the way."""
    page.goto("/pay-a-bill")
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    if javascript:
        assert axe_violations(page) == [], page.url
    page.locator("#reference").fill(reference)
    page.get_by_role("button", name=FIND[language]).click()
    expect(page).to_have_url(re.compile(rf"/pay-a-bill/{reference}$"))
    if javascript:
        assert axe_violations(page) == [], page.url
    page.get_by_role("button", name=re.compile(re.escape(PAY[language]))).click()
    expect(page).to_have_url(re.compile(r"/payments/card/pay_[0-9a-f]+$"))


def enter_card(page: Page, number: str) -> None:
    """What the citizen types on the gateway's page (in English: it is the gateway's)."""
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry date (MM/YY)").fill("12/39")
    page.get_by_label("Security code").fill("123")
    page.get_by_label("Name on card").fill("Ana García")
    page.get_by_role("button", name="Pay", exact=True).click()


@pytest.mark.parametrize("card", list(CARDS))
def test_every_test_card_ends_on_the_right_page(
    new_context: Callable[..., BrowserContext], sandbox_process: Sandbox, card: str
) -> None:
    page = new_context(locale="en-GB").new_page()
    number, expected = CARDS[card]
    find_and_pay(page, new_bill(sandbox_process), "en", javascript=True)
    enter_card(page, number)
    expect(page).to_have_url(re.compile(r"/payments/pay_[0-9a-f]+$"))
    expect(page.locator("main")).to_contain_text(expected)
    assert axe_violations(page) == [], page.url
    if card in ("success", "slow"):
        expect(page.get_by_text("ending in")).to_be_visible()
        return
    expect(page.locator("main")).to_contain_text("You have not been charged")
    page.get_by_role("button", name="Try again").click()  # a new attempt, a good card
    enter_card(page, CARDS["success"][0])
    expect(page.locator("main")).to_contain_text("Payment received")


@pytest.mark.parametrize(
    ("language", "javascript"),
    [("es", True), ("ar", True), ("ar", False)],
    ids=["es-js", "ar-js", "ar-nojs"],
)
def test_the_receipt_in_the_citizens_language(
    new_context: Callable[..., BrowserContext],
    sandbox_process: Sandbox,
    language: str,
    javascript: bool,
) -> None:
    page = new_context(locale=language, java_script_enabled=javascript).new_page()
    find_and_pay(page, new_bill(sandbox_process), language, javascript)
    enter_card(page, CARDS["success"][0])
    expect(page.locator("h1, .govuk-panel__title").first).to_have_text(PAID[language])
    expect(page.locator("html")).to_have_attribute("lang", language)
    if javascript:
        assert axe_violations(page) == [], page.url
    link = page.locator('a[href$="/receipt.pdf"]')
    pdf = page.request.get(str(link.get_attribute("href")))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    # Cancelling on the gateway's page comes back to a clear message and a way to try again.
    find_and_pay(page, new_bill(sandbox_process), language, javascript)
    page.get_by_role("button", name="Cancel payment").click()
    expect(page.locator("main form button")).to_be_visible()
    if javascript:
        assert axe_violations(page) == [], page.url
