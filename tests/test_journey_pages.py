"""How the journey pages behave for a citizen: errors, going back and changing answers,
add-another, address search, uploads, tell-us-once, inline checks, Report a problem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from conftest import Sandbox, run_async
from portal.app import create_app
from portal.settings import Settings
from tests.journey_support import (
    PDF,
    PNG,
    answer,
    draft_path,
    fill_business,
    reference_of,
    run_worker,
    submit,
)
from tests.support import csrf_token, sign_in_as


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database_url=database_url)


@pytest.fixture
def lee(settings: Settings) -> Any:
    with TestClient(create_app(settings)) as client:
        assert sign_in_as(client, "lee").status_code == 303
        yield client


def test_errors_say_what_to_do_link_to_the_field_and_keep_what_was_typed(lee: Any) -> None:
    base = draft_path(lee, "open-business")
    empty = answer(lee, f"{base}/business-name", {"business_name": ""})
    assert empty.status_code == 400
    assert '<a href="#business_name">Enter the name of your business</a>' in empty.text
    assert empty.text.count("Error:") >= 2  # the title and the field
    assert answer(lee, f"{base}/business-name", {"business_name": "Sol"}).status_code == 303
    date = answer(
        lee,
        f"{base}/opening-date",
        {"opening_date-day": "31", "opening_date-month": "2", "opening_date-year": "2027"},
    )
    assert date.status_code == 400 and 'href="#opening_date-day">Enter a real date' in date.text
    assert 'value="31"' in date.text  # nothing typed is lost
    money = answer(lee, f"{base}/turnover", {"expected_turnover": "12,500.50"})
    assert money.status_code == 303
    assert lee.get(f"{base}/check", follow_redirects=False).headers["location"] == (
        f"{base}/legal-form"  # Check your answers waits until everything is answered
    )
    number = answer(lee, f"{base}/floor-area", {"floor_area": "eighty"})
    assert "Floor area must be a whole number" in number.text


def test_uploads_are_checked_by_their_bytes_not_their_name(lee: Any) -> None:
    base = draft_path(lee, "open-business")
    page = lee.get(f"{base}/premises-proof")
    token = csrf_token(page.text)
    fake = lee.post(
        f"{base}/premises-proof",
        data={"_csrf_token": token},
        files={"premises_proof": ("lease.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
    )
    assert fake.status_code == 400 and "must be a PDF, JPG or PNG" in fake.text
    big = lee.post(
        f"{base}/premises-proof",
        data={"_csrf_token": token},
        files={"premises_proof": ("lease.pdf", PDF + b"0" * (5 * 1024 * 1024), "application/pdf")},
    )
    assert big.status_code == 400 and "smaller than 5 MB" in big.text
    good = lee.post(
        f"{base}/premises-proof",
        data={"_csrf_token": token},
        files={"premises_proof": ("C:\\Users\\lee\\lease.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert good.status_code == 303
    again = lee.get(f"{base}/premises-proof")
    assert "File uploaded: lease.pdf" in again.text


def test_the_address_is_found_with_the_geocoder_or_typed_by_hand(
    lee: Any, sandbox: Sandbox
) -> None:
    base = draft_path(lee, "open-business")
    found = answer(
        lee, f"{base}/premises", {"action": "find", "premises_address-query": "plaza espana"}
    )
    assert found.status_code == 200 and "Plaza de España 3, Riverside RV2 6NP" in found.text
    token = csrf_token(found.text)
    chosen = lee.post(
        f"{base}/premises",
        data={"_csrf_token": token, "premises_address-choice": "addr-0027"},
        follow_redirects=False,
    )
    assert chosen.status_code == 303
    assert "Address you gave:" in lee.get(f"{base}/premises").text
    sandbox.set_fault("gis", down=True)
    down = answer(lee, f"{base}/premises", {"action": "find", "premises_address-query": "mill"})
    assert "Address search is not working at the moment" in down.text
    typed = answer(lee, f"{base}/premises", {"premises_address-line1": "Unit 4, Old Mill"})
    assert typed.status_code == 303


def test_changing_an_answer_returns_to_check_and_hidden_questions_drop_out(lee: Any) -> None:
    base = fill_business(lee)
    check = lee.get(f"{base}/check").text
    assert "Luis Pérez" in check and f'href="{base}/legal-form?change=1"' in check
    back = answer(lee, f"{base}/legal-form?change=1", {"legal_form": "sole-trader"})
    assert back.headers["location"] == f"{base}/check"
    assert "Luis Pérez" not in lee.get(f"{base}/check").text
    # Saying yes again to partners asks for them before returning to check.
    again = answer(lee, f"{base}/legal-form?change=1", {"legal_form": "partnership"})
    assert again.headers["location"] == f"{base}/check"  # the partner is still in the draft


def test_add_another_remove_and_a_limit_on_items(lee: Any) -> None:
    base = draft_path(lee, "open-business")
    answer(lee, f"{base}/legal-form", {"legal_form": "partnership"})
    assert (
        lee.get(f"{base}/partners", follow_redirects=False).headers["location"]
        == f"{base}/partners/1"
    )
    for number, name in ((1, "Ana"), (2, "Bea")):
        item = {
            "partner_name": name,
            "partner_birth_date-day": "1",
            "partner_birth_date-month": "1",
            "partner_birth_date-year": "1990",
        }
        assert answer(lee, f"{base}/partners/{number}", item).status_code == 303
    summary = lee.get(f"{base}/partners")
    assert "Partner 1" in summary.text and "Partner 2" in summary.text
    removed = lee.post(
        f"{base}/partners/1/remove",
        data={"_csrf_token": csrf_token(summary.text)},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    page = lee.get(f"{base}/partners").text
    assert "Bea" in page and "Ana" not in page
    missing = answer(lee, f"{base}/partners", {})
    assert missing.status_code == 400 and 'href="#add_another"' in missing.text
    future = answer(
        lee,
        f"{base}/partners/2",
        {
            "partner_name": "Cy",
            "partner_birth_date-day": "1",
            "partner_birth_date-month": "1",
            "partner_birth_date-year": "2999",
        },
    )
    assert "The date must be in the past" in future.text
    assert lee.get(f"{base}/partners/9").status_code == 404


def _save_profile(client: Any, name: str, phone: str, consent: str) -> None:
    page = client.get("/account/profile")
    data = {
        "_csrf_token": csrf_token(page.text),
        "name": name,
        "email": "lee@example.org",
        "phone": phone,
        "address": "",
        "language": "en",
        "channel": "",
        "consent": consent,
    }
    assert client.post("/account/profile", data=data, follow_redirects=False).status_code == 303


def test_the_citizen_is_never_asked_twice_for_what_they_agreed_to_reuse(lee: Any) -> None:
    _save_profile(lee, "Lee Chen", "+34 600 111 333", consent="yes")
    try:
        business = draft_path(lee, "open-business")
        sent = answer(
            lee,
            f"{business}/premises-proof",
            {},
            {"premises_proof": ("p.pdf", PDF, "application/pdf")},
        )
        # The contact step comes next, but it is all known: it is skipped.
        assert sent.headers["location"] == f"{business}/check"
        contact = lee.get(f"{business}/contact").text  # still there to change
        assert 'value="Lee Chen"' in contact and 'value="+34600111333"' in contact
        assert "filled in some answers from the details in your account" in contact
    finally:
        _save_profile(lee, "Lee Smith", "", consent="")
    fresh = draft_path(lee, "open-business")  # without consent, nothing is filled in
    assert 'value="Lee Smith"' not in lee.get(f"{fresh}/contact").text


def test_a_field_is_checked_when_the_citizen_leaves_it(lee: Any) -> None:
    base = draft_path(lee, "open-business")
    page = lee.get(f"{base}/contact")
    token = csrf_token(page.text)
    bad = lee.post(
        f"{base}/check-field",
        data={"_csrf_token": token, "field": "contact_email", "contact_email": "lee@"},
        headers={"hx-request": "true"},
    )
    assert bad.status_code == 200 and "govuk-form-group--error" in bad.text
    assert "<html" not in bad.text  # only the field's group, swapped in place
    empty = lee.post(
        f"{base}/check-field",
        data={"_csrf_token": token, "field": "contact_email", "contact_email": ""},
        headers={"hx-request": "true"},
    )
    assert "govuk-form-group--error" not in empty.text  # not flagged before the page is sent


def test_a_right_answer_changes_nothing_on_leaving_unless_an_error_shows(lee: Any) -> None:
    base = draft_path(lee, "open-business")
    token = csrf_token(lee.get(f"{base}/contact").text)
    right = {"_csrf_token": token, "field": "contact_email", "contact_email": "lee@example.org"}
    htmx = {"hx-request": "true"}
    quiet = lee.post(f"{base}/check-field", data=right, headers=htmx)
    assert quiet.status_code == 204 and quiet.content == b""  # htmx swaps nothing
    mended = lee.post(f"{base}/check-field", data={**right, "shown": "1"}, headers=htmx)
    assert mended.status_code == 200 and "govuk-form-group--error" not in mended.text
    wrong = lee.post(f"{base}/check-field", data={**right, "contact_email": "lee@"}, headers=htmx)
    assert '"shown": "1"' in wrong.text  # the next check knows there is an error to take away


def test_deleting_a_draft_asks_first_and_only_its_owner_can(lee: Any, settings: Settings) -> None:
    base = draft_path(lee, "open-business")
    assert answer(lee, f"{base}/business-name", {"business_name": "Sol"}).status_code == 303
    listed = lee.get("/applications").text
    assert f'href="{base}/delete"' in listed
    asked = lee.get(f"{base}/delete", follow_redirects=False)
    assert asked.status_code == 200
    assert "Are you sure you want to delete this application?" in asked.text
    assert lee.get(f"{base}/business-name").status_code == 200  # following the link kept it
    with TestClient(create_app(settings)) as ana:
        assert sign_in_as(ana, "ana").status_code == 303
        token = csrf_token(ana.get("/applications").text)
        assert ana.get(f"{base}/delete").status_code == 404
        other = ana.post(f"{base}/delete", data={"_csrf_token": token}, follow_redirects=False)
        assert other.status_code == 404
    assert lee.get(f"{base}/business-name").status_code == 200
    forged = lee.post(f"{base}/delete", data={}, follow_redirects=False)
    assert forged.status_code == 403 and lee.get(f"{base}/business-name").status_code == 200
    confirmed = lee.post(
        f"{base}/delete", data={"_csrf_token": csrf_token(asked.text)}, follow_redirects=False
    )
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/applications"
    assert lee.get(f"{base}/business-name").status_code == 404


def test_report_a_problem_goes_to_public_works_and_its_progress_shows(
    lee: Any, settings: Settings, sandbox: Sandbox
) -> None:
    base = draft_path(lee, "report-a-problem")
    answer(lee, f"{base}/category", {"category": "pothole"})
    found = answer(lee, f"{base}/place", {"action": "find", "place-query": "12 harbour"})
    answer(lee, f"{base}/place", {"place-choice": "addr-0003"})
    answer(lee, f"{base}/description", {"description": "Deep hole by the bus stop."})
    photo = answer(lee, f"{base}/photo", {}, {"photo": ("hole.png", PNG, "image/png")})
    assert photo.status_code == 303 and "12 Harbour Street" in found.text
    reference = reference_of(submit(lee, base))
    run_worker(settings)
    page = lee.get(f"/applications/{reference}").text
    assert "Public works" in page and "Received by the department" in page
    report_id = page.split('Case number <span dir="ltr">')[1].split("<")[0]
    sandbox.advance_report(report_id)
    sandbox.advance_report(report_id)
    run_async(_due_now(settings))
    assert run_worker(settings, check_cases=True) >= 1
    assert "Fixed" in lee.get(f"/applications/{reference}").text


async def _due_now(settings: Settings) -> None:
    from sqlalchemy import update
    from sqlalchemy.ext.asyncio import AsyncSession

    from portal.applications.models import DepartmentRequest
    from portal.database import make_engine

    engine = make_engine(settings.database_url)
    async with AsyncSession(engine) as db:
        await db.execute(update(DepartmentRequest).values(checked_at=None))
        await db.commit()
    await engine.dispose()
