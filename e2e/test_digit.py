"""Services reaching DIGIT, in a real browser against the sandbox's DIGIT (its own portal and
worker, asking DIGIT for news every second): a missed bin reported with a photo becomes a PGR
complaint whose states show on the timeline; a street trading licence is applied for, sent back,
answered from the application's page, approved, and its bill paid at our gateway. Each page is
axe-clean; the application pages are photographed in English and Arabic."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, FilePayload, Locator, Page, expect

from conftest import Sandbox, migrate
from e2e.conftest import axe_violations, contexts_on, running_portal
from e2e.test_journeys import SIGN_IN
from e2e.test_payments import enter_card
from tests.test_digit_contract import employee_action, move, overview

SHOTS = Path(os.environ.get("FRONTDOOR_SHOTS", "/work/notes/shots/digit"))
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
REFERENCE = re.compile(r"FD-[0-9A-Z]{4}-[0-9A-Z]{4}")
USERS = {"en": "lee", "ar": "omar"}
FEE = {"en": "€1,500.00", "ar": "\u200f1,500.00\xa0€"}


@pytest.fixture(scope="module")
def portal_url(
    sandbox_process: Sandbox,
    postgres_database: Callable[[], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """A portal and its worker on a database of their own, asking DIGIT for news every second."""
    database = postgres_database()
    migrate(database)
    with running_portal(
        sandbox_process,
        database,
        tmp_path_factory,
        "digit-portal",
        ready_seconds=90,
        case_check_seconds="1",
    ) as url:
        yield url


@pytest.fixture
def open_page(portal_url: str, browser: Browser) -> Iterator[Callable[[str], Page]]:
    with contexts_on(browser, portal_url) as context:
        yield lambda language: context(locale=language).new_page()


def clean(page: Page, shot: str | None = None) -> None:
    if shot:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
    assert axe_violations(page) == [], page.url


def go_on(page: Page, step: str) -> None:
    page.locator("main form button.govuk-button:not(.govuk-button--secondary)").last.click()
    expect(page).to_have_url(re.compile(rf"/{re.escape(step)}(\?.*)?$"))
    clean(page)


def start(page: Page, service: str, language: str, first_step: str) -> None:
    page.goto(f"/services/{service}")
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    clean(page)
    page.locator(f'a[href="/services/{service}/apply"]').click()
    page.get_by_role("button", name=SIGN_IN[language]).click()
    page.get_by_role("button", name=re.compile(rf"\({USERS[language]}\)")).click()
    expect(page).to_have_url(re.compile(rf"/drafts/d_[0-9a-f]+/{first_step}$"))
    clean(page)


def find_address(page: Page, field: str, query: str) -> None:
    page.locator(f"#{field}-query").fill(query)
    page.locator('button[name="action"]').click()
    page.locator(f'input[name="{field}-choice"]').first.check()
    clean(page)


def send(page: Page) -> str:
    """Accept and send from the check page; the application's page, opened."""
    page.locator('form[action$="/submit"] button').click()
    panel = page.locator(".govuk-panel")
    expect(panel).to_be_visible()
    clean(page)
    found = REFERENCE.search(panel.inner_text())
    assert found, panel.inner_text()
    page.goto(f"/applications/{found.group(0)}")
    return found.group(0)


def wait_for(page: Page, target: Locator, tries: int = 60, gone: bool = False) -> None:
    """Reload until the worker has done its part and `target` shows (or, `gone`, no longer
    does: a page read between two of the worker's commits may still show the old state)."""
    for _ in range(tries):
        if bool(target.count()) != gone:
            break
        page.wait_for_timeout(500)
        page.reload()
    if gone:
        expect(target).to_have_count(0)
    else:
        expect(target.first).to_be_visible()


def case_number(page: Page) -> str:
    return page.locator("main .govuk-summary-list .govuk-hint span[dir=ltr]").first.inner_text()


def timeline(page: Page) -> list[str]:
    return [title.strip() for title in page.locator(".fd-timeline__title").all_inner_texts()]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_missed_bin_reported_with_a_photo_is_followed_in_digit(
    open_page: Callable[[str], Page], sandbox_process: Sandbox, language: str
) -> None:
    page = open_page(language)
    start(page, "report-a-problem", language, "category")
    page.locator("#category-3").check()  # a missed bin collection: DIGIT's PGR
    go_on(page, "place")
    find_address(page, "place", "12 harbour")
    go_on(page, "description")
    page.locator("#description").fill(f"Bins not emptied since Monday ({language})")
    go_on(page, "photo")
    page.locator("#photo").set_input_files(
        files=[FilePayload(name="bins.png", mimeType="image/png", buffer=PNG)]
    )
    go_on(page, "check")
    send(page)
    received = page.locator(".fd-timeline__item")
    wait_for(page, page.locator("main .govuk-summary-list .govuk-hint"))
    complaint_id = case_number(page)
    assert complaint_id.startswith("PB-PGR-")
    [complaint] = [
        c
        for c in overview(sandbox_process)["complaints"]
        if c["service"]["serviceRequestId"] == complaint_id
    ]
    assert complaint["service"]["serviceCode"] == "GarbageNeedsTobeCleared"
    assert len(complaint["workflow"]["verificationDocuments"]) == 1

    move(sandbox_process, complaint_id)  # assigned: being worked on
    wait_for(page, received.nth(2))
    move(sandbox_process, complaint_id)  # resolved
    wait_for(page, received.nth(3))
    expect(received).to_have_count(4)  # sent, received, being reviewed, fixed: once each
    if language == "en":
        assert timeline(page)[:3] == ["Fixed", "Being reviewed", "Received by the department"]
    clean(page, f"complaint-{language}")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_street_trading_licence_is_sent_back_answered_approved_and_paid(
    open_page: Callable[[str], Page], sandbox_process: Sandbox, language: str
) -> None:
    page = open_page(language)
    start(page, "street-trading-licence", language, "trading-name")
    page.locator("#trading_name").fill(f"Churros {language}")
    go_on(page, "goods")
    page.locator("#goods").check()  # food or drink
    go_on(page, "goods-description")
    page.locator("#goods_description").fill("Churros and hot chocolate.")
    go_on(page, "pitch")
    find_address(page, "pitch_address", "plaza espana")
    go_on(page, "photo")
    page.locator("#stand_photo").set_input_files(
        files=[FilePayload(name="cart.png", mimeType="image/png", buffer=PNG)]
    )
    go_on(page, "contact")
    page.locator("#contact_name").fill("Lee Chen")
    page.locator("#contact_email").fill("lee@example.org")
    go_on(page, "check")
    reference = send(page)
    wait_for(page, page.locator("main .govuk-summary-list .govuk-hint"))
    business_id = case_number(page)

    question = "Send the size of your cart, in metres."
    employee_action(sandbox_process, business_id, "SENDBACKTOCITIZEN", question)
    form = page.locator('form[action$="/information/licensing"]')
    wait_for(page, form)
    expect(page.locator(".govuk-notification-banner")).to_contain_text(question)
    clean(page, f"licence-sent-back-{language}")
    page.locator("#information-licensing").fill("It is 2 by 1 metres.")
    form.locator("button").click()
    expect(form).to_have_count(0)

    def resubmitted() -> list[dict[str, str]]:
        steps = overview(sandbox_process)["processes"][business_id]
        return [step for step in steps if step["action"] == "RESUBMIT"]

    for _ in range(40):
        if resubmitted():
            break
        page.wait_for_timeout(250)
    assert [s["comment"] for s in resubmitted()] == ["It is 2 by 1 metres."]

    for _ in range(3):  # forwarded twice, approved: DIGIT raises its bill
        move(sandbox_process, business_id)
    pay = page.locator('form[action$="/fees/licensing/pay"] button')
    wait_for(page, pay)
    expect(pay).to_contain_text(FEE[language])
    clean(page, f"licence-fee-{language}")
    pay.click()
    expect(page).to_have_url(re.compile(r"/payments/card/pay_[0-9a-f]+$"))
    enter_card(page, "4444333322221111")
    expect(page).to_have_url(re.compile(r"/payments/pay_[0-9a-f]+$"))
    expect(page.locator(".govuk-panel")).to_contain_text(FEE[language])
    clean(page)

    page.goto(f"/applications/{reference}")
    items = page.locator(".fd-timeline__item")
    # Sent, received, more information needed, you sent it, being reviewed, fee, paid, approved.
    wait_for(page, items.nth(7))
    expect(items).to_have_count(8)
    expect(pay).to_have_count(0)
    payments = [
        p
        for p in overview(sandbox_process)["payments"]
        if p["paymentDetails"][0]["bill"]["consumerCode"] == business_id
    ]
    assert len(payments) == 1
    if language == "en":
        assert timeline(page)[:2] == ["Approved", "Fee paid"]
    clean(page, f"licence-approved-{language}")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_citizen_is_told_plainly_while_digit_cannot_be_reached(
    open_page: Callable[[str], Page], sandbox_process: Sandbox, language: str
) -> None:
    page = open_page(language)
    start(page, "report-a-problem", language, "category")
    page.locator("#category-3").check()
    go_on(page, "place")
    page.locator("main .govuk-details__summary").click()  # enter the place yourself
    page.locator("#place-line1").fill("Behind the fish market")
    go_on(page, "description")
    page.locator("#description").fill("The bins were not emptied this week.")
    go_on(page, "photo")
    go_on(page, "check")
    sandbox_process.set_fault("digit", down=True)
    try:
        send(page)
        trouble = page.locator("[data-fd-trouble=sanitation]")
        wait_for(page, trouble)
        expect(trouble).to_contain_text(
            {
                "en": "We are having trouble sending this to Street cleaning and sanitation.",
                "ar": "نواجه صعوبة في إرسال هذا إلى تنظيف الشوارع والصرف الصحي.",
            }[language]
        )
        clean(page, f"trouble-{language}")
    finally:
        sandbox_process.set_fault("digit", down=False)
    wait_for(page, page.locator("main .govuk-summary-list .govuk-hint"))  # sent once it is back
    wait_for(page, page.locator("[data-fd-trouble]"), gone=True)
