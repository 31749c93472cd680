"""The pages around an application in a real browser: what the citizen typed reads in its own
direction on Arabic pages, the inline check never moves the Continue button, a draft is deleted
only after confirming, and an application asking for a fee and for information at once is one
region (axe-clean)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from conftest import Sandbox
from e2e.conftest import axe_violations
from e2e.test_journeys import SIGN_IN
from tests.journey_support import BUSINESS_ANSWERS, PDF

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
PHONE = "+212600111222"
DESCRIPTION = "A small café serving coffee and cakes."


def signed_in_draft(page: Page, language: str = "en") -> str:
    """Sign in as Lee through the national sign-in page; a fresh "Open a business" draft."""
    page.goto("/services/open-business/apply")
    page.get_by_role("button", name=SIGN_IN[language]).click()
    page.get_by_role("button", name="Lee Smith (lee)").click()
    expect(page).to_have_url(re.compile(r"/drafts/d_[0-9a-f]+/"))
    base = re.sub(r"(/drafts/d_[0-9a-f]+)/.*", r"\1", page.url)
    post_form(page, "/applications", f"{base}/delete", {})  # an earlier test's draft
    page.goto("/services/open-business/apply")
    return re.sub(r"(/drafts/d_[0-9a-f]+)/.*", r"\1", page.url)


def csrf_of(page: Page, path: str) -> str:
    token = CSRF.search(page.request.get(path).text())
    assert token, path
    return token.group(1)


def post_form(page: Page, form_page: str, action: str, data: dict[str, Any]) -> int:
    """Post a form as the page's own would (its CSRF token, the browser's cookies)."""
    body = urlencode({"_csrf_token": csrf_of(page, form_page), **data}, doseq=True)
    headers = {"content-type": "application/x-www-form-urlencoded"}
    return page.request.post(action, data=body, headers=headers, max_redirects=0).status


def answer_everything(page: Page, base: str, **changes: dict[str, Any]) -> None:
    """Every question of "Open a business" answered through the portal's own forms."""
    for step, data in BUSINESS_ANSWERS:
        data = changes.get(step, data)
        path = f"{base}/{step}"
        if step == "premises-proof":
            proof = {"name": "lease.pdf", "mimeType": "application/pdf", "buffer": PDF}
            multipart = {"_csrf_token": csrf_of(page, path), "premises_proof": proof}
            status = page.request.post(path, multipart=multipart, max_redirects=0).status
        else:
            status = post_form(page, path, path, data)
        assert status == 303, (step, status)


def reading_order(value: Locator, text: str) -> tuple[float, float]:
    """Where on screen the first and the last character of `text` are drawn (x of each)."""
    return tuple(
        value.evaluate(
            """(element, text) => {
              const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
              for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                const at = node.data.indexOf(text);
                if (at < 0) continue;
                const x = (i) => {
                  const range = document.createRange();
                  range.setStart(node, at + i);
                  range.setEnd(node, at + i + 1);
                  return range.getBoundingClientRect().left;
                };
                return [x(0), x(text.length - 1)];
              }
              return null;
            }""",
            text,
        )
    )


def test_typed_answers_read_left_to_right_on_arabic_check_your_answers(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(locale="ar").new_page()
    base = signed_in_draft(page, "ar")
    contact = {"contact_name": "Ana García", "contact_email": "ana@example.org"}
    answer_everything(
        page,
        base,
        contact={**contact, "contact_phone": PHONE},
        **{"activity-description": {"activity_description": DESCRIPTION}},
    )
    page.goto(f"{base}/check")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    phone = page.locator("dd.govuk-summary-list__value", has_text="600111222")
    plus, last_digit = reading_order(phone, PHONE)
    assert plus < last_digit, "the + must be drawn first, on the left"
    description = page.locator("dd.govuk-summary-list__value", has_text="coffee")
    first_letter, full_stop = reading_order(description, DESCRIPTION)
    assert first_letter < full_stop, "the full stop must end the sentence, on the right"
    expect(phone.locator("bdi")).to_have_attribute("dir", "ltr")
    expect(description.locator("bdi")).to_have_attribute("dir", "auto")
    assert axe_violations(page) == [], page.url


@pytest.mark.parametrize(
    ("step", "field_id", "valid"),
    [
        ("contact", "contact_email", "lee.chen@example.org"),
        ("business-name", "business_name", "Café Luna"),
        ("activity-description", "activity_description", "Coffee, cakes and sandwiches."),
        ("turnover", "expected_turnover", "95000"),
    ],
)
def test_leaving_a_valid_field_does_not_move_the_continue_button(
    new_context: Callable[..., BrowserContext], step: str, field_id: str, valid: str
) -> None:
    page = new_context(locale="en-GB").new_page()
    base = signed_in_draft(page)
    answer_everything(page, base)
    page.goto(f"{base}/{step}")
    button = page.locator("main form button.govuk-button").last
    before = button.bounding_box()
    # Every layout the button goes through while the check runs, frame by frame and after each
    # change of the page (the swap and its settling).
    page.evaluate(
        """() => {
          window.fdTops = [];
          const button = [...document.querySelectorAll("main form button.govuk-button")].pop();
          const note = () => window.fdTops.push(button.getBoundingClientRect().top);
          new MutationObserver(note).observe(document.body,
            {subtree: true, childList: true, attributes: true});
          const frame = () => { note(); requestAnimationFrame(frame); };
          requestAnimationFrame(frame);
        }"""
    )
    field = page.locator(f"#{field_id}")
    field.fill(valid)
    with page.expect_response(re.compile(r"/check-field$")):
        field.blur()
    page.wait_for_timeout(300)  # htmx settles 20 ms after the swap
    tops = page.evaluate("window.fdTops")
    assert before is not None and button.bounding_box() == before
    assert {round(top) for top in tops} == {round(before["y"])}, tops
    assert axe_violations(page) == [], page.url


def test_leaving_a_wrong_field_says_what_is_wrong(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(locale="en-GB").new_page()
    base = signed_in_draft(page)
    answer_everything(page, base)
    page.goto(f"{base}/contact")
    field = page.locator("#contact_email")
    field.fill("lee@")
    with page.expect_response(re.compile(r"/check-field$")):
        field.blur()
    expect(page.locator("#contact_email-error")).to_contain_text("Enter an email address")
    expect(field).to_have_attribute("aria-describedby", re.compile("contact_email-error"))
    assert axe_violations(page) == [], page.url
    field.fill("lee@example.org")  # put right: the message goes
    with page.expect_response(re.compile(r"/check-field$")):
        field.blur()
    expect(page.locator("#contact_email-error")).to_have_count(0)


def test_delete_asks_first_and_only_the_confirmation_deletes(
    new_context: Callable[..., BrowserContext],
) -> None:
    for javascript in (True, False):
        page = new_context(locale="en-GB", java_script_enabled=javascript).new_page()
        base = signed_in_draft(page)
        page.goto("/applications")
        page.get_by_role("link", name="Delete Open a business").click()
        expect(page).to_have_url(re.compile(rf"{re.escape(base)}/delete$"))
        expect(page.locator("h1")).to_have_text("Are you sure you want to delete this application?")
        if javascript:
            assert axe_violations(page) == [], page.url
        page.get_by_role("link", name="Cancel").click()  # nothing deleted
        expect(page.get_by_role("link", name="Continue: Open a business")).to_be_visible()
        page.get_by_role("link", name="Delete Open a business").click()
        page.get_by_role("button", name="Yes, delete it").click()
        expect(page).to_have_url(re.compile(r"/applications$"))
        expect(page.get_by_role("link", name="Continue: Open a business")).to_have_count(0)


def test_a_fee_and_a_question_at_once_are_one_action_region(
    new_context: Callable[..., BrowserContext], sandbox_process: Sandbox
) -> None:
    page = new_context(locale="en-GB").new_page()
    base = signed_in_draft(page)
    answer_everything(page, base)
    assert post_form(page, f"{base}/check", f"{base}/submit", {}) == 303
    page.goto("/applications")
    reference = re.search(r"FD-[0-9A-Z]{4}-[0-9A-Z]{4}", page.locator("main table").inner_text())
    assert reference
    for department, statuses in (
        ("trade-licence", ("in_review", "fee_due")),
        ("environment", ("in_review", "information_requested")),
    ):
        for _ in range(40):  # the worker delivers it to the department first
            cases = httpx.get(f"{sandbox_process.url}/_sandbox/departments/{department}/cases")
            case = [
                c
                for c in cases.json()["cases"]
                if c["request"]["application_reference"] == reference.group(0)
            ]
            if case:
                break
            page.wait_for_timeout(250)
        for status in statuses:
            sandbox_process.advance(department, case[0]["case_id"], status=status)
    page.goto(f"/applications/{reference.group(0)}")
    for _ in range(40):  # the webhooks are recorded as they arrive
        if page.locator('form[action$="/pay"]').count() and page.locator("textarea").count():
            break
        page.wait_for_timeout(250)
        page.reload()
    regions = page.get_by_role("region", name="Action needed")
    expect(regions).to_have_count(1)
    expect(regions.get_by_role("heading", level=3)).to_have_count(2)
    expect(regions.get_by_role("button", name=re.compile("^Pay"))).to_be_visible()
    expect(regions.get_by_role("button", name="Send to the department")).to_be_visible()
    assert axe_violations(page) == [], page.url
