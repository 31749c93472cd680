"""The flagship journey through the portal: one application, four departments, one timeline."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import Sandbox, run_async
from portal.app import create_app
from portal.applications.models import Application, DepartmentRequest
from portal.database import make_engine
from portal.identity.models import Citizen
from portal.outbox.models import OutboxMessage
from portal.settings import Settings
from tests.journey_support import (
    PDF,
    case_of,
    check_token,
    execute,
    fill_business,
    reference_of,
    run_worker,
    sent_application,
    submit,
)
from tests.support import csrf_token, sign_in_as

TWILIO = "/twilio/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json"


def _retry_now(database_url: str) -> None:
    """Let the backoff pass: pending messages are due again."""
    run_async(
        execute(
            database_url,
            update(OutboxMessage)
            .where(OutboxMessage.status == "pending")
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)),
        )
    )


async def _forget_delivery(database_url: str, reference: str, department: str) -> None:
    """As if the worker had died between the department's answer and our commit."""
    engine = make_engine(database_url)
    async with AsyncSession(engine) as db:
        request = await db.scalar(
            select(DepartmentRequest)
            .join(Application, Application.id == DepartmentRequest.application_id)
            .where(Application.reference == reference, DepartmentRequest.department == department)
        )
        assert request is not None
        request.case_id = None
        await db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.key == f"deliver-{request.public_id}")
            .values(status="pending", next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await db.commit()
    await engine.dispose()


async def _choose_channel(
    database_url: str, user: str, channel: str | None, phone: str | None, language: str
) -> None:
    await execute(
        database_url,
        update(Citizen)
        .where(Citizen.subject.like(f"citizen-{user}-%"))
        .values(preferred_channel=channel, phone=phone, language=language),
    )


def _sms(sandbox: Sandbox, to: str) -> list[dict[str, Any]]:
    auth = ("AC00000000000000000000000000000000", "sandbox-auth-token")
    answer = httpx.get(f"{sandbox.url}{TWILIO}", params={"To": to}, auth=auth)
    return list(answer.json()["messages"])


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database_url=database_url)


@pytest.fixture
def ana(settings: Settings) -> Any:
    with TestClient(create_app(settings)) as client:
        assert sign_in_as(client, "ana").status_code == 303
        yield client


def test_open_a_business_reaches_every_department_once(
    ana: Any, settings: Settings, sandbox: Sandbox
) -> None:
    base = fill_business(ana)
    resumed = ana.get("/services/open-business/apply", follow_redirects=False)
    assert resumed.headers["location"] == f"{base}/check"  # all answered: straight to check
    check = ana.get(f"{base}/check")
    assert "Café Sol" in check.text and "Luis Pérez" in check.text and "lease.pdf" in check.text
    assert "€120,000.00" in check.text and "Monday, Saturday" in check.text
    token = check_token(ana, base)
    first = submit(ana, base, token)
    assert first.status_code == 303
    reference = reference_of(first)
    again = submit(ana, base, token)  # a second click, or Back and send again
    assert reference_of(again) == reference
    assert run_worker(settings) == 5  # a café: the markets office is emailed too
    for department in ("trade-licence", "tax", "environment", "employer"):
        cases = [
            c
            for c in sandbox.cases(department)
            if c["request"]["application_reference"] == reference
        ]
        assert len(cases) == 1 and cases[0]["create_calls"] == 1, department
    page = ana.get(f"/applications/{reference}")
    assert page.status_code == 200
    # One timeline: sent, then each department's "received", each named.
    assert page.text.count('class="fd-timeline__item"') == 6
    for name in ("Trade licensing office", "Tax office", "Environment department"):
        assert name in page.text


def test_a_department_down_for_a_while_gets_its_request_once_it_is_back(
    ana: Any, settings: Settings, sandbox: Sandbox, database_url: str
) -> None:
    sandbox.set_fault("tax", down=True)
    base = fill_business(ana)
    reference = reference_of(submit(ana, base))
    assert run_worker(settings) == 4  # the others do not wait for the tax office
    assert run_worker(settings) == 0  # not retried before its backoff
    assert not [
        c for c in sandbox.cases("tax") if c["request"]["application_reference"] == reference
    ]
    sandbox.set_fault("tax", down=False)
    _retry_now(database_url)
    assert run_worker(settings) == 1
    _retry_now(database_url)
    assert run_worker(settings) == 0
    assert case_of(sandbox, "tax", reference)["create_calls"] == 1
    page = ana.get(f"/applications/{reference}")
    assert page.text.count("Received by the department") == 10  # list + timeline, 5 each


def test_a_lost_answer_repeated_by_the_worker_creates_no_second_case(
    ana: Any, settings: Settings, sandbox: Sandbox, database_url: str
) -> None:
    reference = sent_application(ana, settings)
    # The worker died after the department answered and before it wrote that down.
    run_async(_forget_delivery(database_url, reference, "employer"))
    assert run_worker(settings) == 1
    case = case_of(sandbox, "employer", reference)
    assert (
        case["create_calls"] == 2
        and len(
            [
                c
                for c in sandbox.cases("employer")
                if c["request"]["application_reference"] == reference
            ]
        )
        == 1
    )


def test_signed_status_webhooks_are_recorded_once_and_forgeries_change_nothing(
    ana: Any, settings: Settings, sandbox: Sandbox
) -> None:
    reference = sent_application(ana, settings)
    case = case_of(sandbox, "trade-licence", reference)
    pushed = sandbox.advance("trade-licence", case["case_id"])["webhook"]
    url = "/webhooks/departments/trade-licence"
    headers = {"content-type": "application/json", **pushed["headers"]}
    answer = ana.post(url, content=pushed["body"], headers=headers)
    assert answer.status_code == 200 and answer.json() == {"recorded": 1}
    replay = ana.post(url, content=pushed["body"], headers=headers)
    assert replay.status_code == 200 and replay.json() == {"recorded": 0}
    tampered = pushed["body"].replace("in_review", "approved")
    assert ana.post(url, content=tampered, headers=headers).status_code == 401
    unsigned = {"content-type": "application/json"}
    assert ana.post(url, content=pushed["body"], headers=unsigned).status_code == 401
    stale = {**headers, "X-Frontdoor-Signature": _signed(pushed["body"], time.time() - 3600)}
    assert ana.post(url, content=pushed["body"], headers=stale).status_code == 401
    page = ana.get(f"/applications/{reference}").text
    assert page.count('class="fd-timeline__item"') == 7
    assert "Being reviewed" in page and "Approved" not in page


def _signed(body: str, at: float) -> str:
    stamp = int(at)
    digest = hmac.new(
        b"sandbox-webhook-secret", f"{stamp}.".encode() + body.encode(), hashlib.sha256
    ).hexdigest()
    return f"t={stamp},v1={digest}"


def test_more_information_goes_back_to_the_department(
    ana: Any, settings: Settings, sandbox: Sandbox
) -> None:
    reference = sent_application(ana, settings)
    case = case_of(sandbox, "environment", reference)
    sandbox.advance("environment", case["case_id"], status="in_review")
    pushed = sandbox.advance(
        "environment", case["case_id"], status="information_requested", note="Send a site plan"
    )["webhook"]
    headers = {"content-type": "application/json", **pushed["headers"]}
    assert (
        ana.post(
            "/webhooks/departments/environment", content=pushed["body"], headers=headers
        ).status_code
        == 200
    )
    page = ana.get(f"/applications/{reference}")
    assert "Action needed" in page.text and "Send a site plan" in page.text
    token = csrf_token(page.text)
    path = f"/applications/{reference}/information/environment"
    empty = ana.post(path, data={"_csrf_token": token, "information": ""})
    assert empty.status_code == 400 and 'href="#information-environment"' in empty.text
    sent = ana.post(
        path,
        data={"_csrf_token": token, "information": "Plan attached."},
        files={"attachment": ("plan.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert "You sent more information" in ana.get(f"/applications/{reference}").text
    assert run_worker(settings) == 1
    case = case_of(sandbox, "environment", reference)
    assert case["status"] == "in_review"
    assert case["information"][0]["text"] == "Plan attached."


def test_status_changes_reach_the_citizen_on_their_channel_in_their_language(
    ana: Any, settings: Settings, sandbox: Sandbox, database_url: str
) -> None:
    run_async(_choose_channel(database_url, "ana", "sms", "+34600111999", "es"))
    try:
        reference = sent_application(ana, settings)  # the worker also sends "application sent"
        case = case_of(sandbox, "tax", reference)
        pushed = sandbox.advance("tax", case["case_id"])["webhook"]  # now in review
        headers = {"content-type": "application/json", **pushed["headers"]}
        ana.post("/webhooks/departments/tax", content=pushed["body"], headers=headers)
        assert run_worker(settings) == 1
        texts = [m["body"] for m in _sms(sandbox, "+34600111999") if reference in m["body"]]
        assert len(texts) == 2  # sent, then in review: "received" needs no message
        assert any("Abrir un negocio" in t and "Solicitud enviada" in t for t in texts)
        assert any("Oficina tributaria: En revisión" in t for t in texts)
        assert all(f"/applications/{reference}" in text for text in texts)
    finally:
        run_async(_choose_channel(database_url, "ana", None, None, "en"))


def test_nobody_sees_another_citizens_application_or_draft(
    ana: Any, settings: Settings, sandbox: Sandbox
) -> None:
    reference = sent_application(ana, settings)
    other_draft = fill_business(ana, **{})  # a second draft, not sent
    with TestClient(create_app(settings)) as omar:
        sign_in_as(omar, "omar")
        for path in (
            f"/applications/{reference}",
            f"/applications/{reference}/confirmation",
            f"{other_draft}/business-name",
            f"{other_draft}/check",
        ):
            response = omar.get(path)
            assert response.status_code == 404, path
            assert "Café Sol" not in response.text
        token = csrf_token(omar.get("/account/profile").text)
        stolen = omar.post(
            f"{other_draft}/business-name",
            data={"_csrf_token": token, "business_name": "Hijacked"},
        )
        assert stolen.status_code == 404
        assert reference not in omar.get("/applications").text
    assert "Hijacked" not in ana.get(f"{other_draft}/check").text
