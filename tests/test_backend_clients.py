"""The typed clients for departments, GIS, documents and Open311 against the sandbox."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import pydantic
import pytest

from backend_clients.departments import (
    Applicant,
    CaseRequest,
    DepartmentClient,
    PaymentReport,
    StatusWebhook,
    sign,
    verify,
)
from backend_clients.documents import DocumentClient
from backend_clients.gis import GeocoderClient
from backend_clients.http import BackendClient, BackendRejected, BackendUnavailable, ClientConfig
from backend_clients.open311 import Open311Client, ServiceRequest
from conftest import Sandbox, free_port

SECRET = os.environ.get("FRONTDOOR_WEBHOOK_SECRET", "sandbox-webhook-secret").encode()
API_KEY = os.environ.get("FRONTDOOR_OPEN311_API_KEY", "sandbox-open311-key")
REQUEST_ID = "clients-test-0001"
ClientT = TypeVar("ClientT", bound=BackendClient)


def config(base_url: str, timeout: float = 2.0) -> ClientConfig:
    return ClientConfig(
        base_url=base_url,
        timeout=httpx.Timeout(timeout),
        headers=lambda: {"X-Request-ID": REQUEST_ID},
    )


@pytest.fixture
async def clients() -> AsyncIterator[Callable[[ClientT], ClientT]]:
    """Registers clients made in a test so that each is closed after it."""
    made: list[BackendClient] = []

    def keep(client: ClientT) -> ClientT:
        made.append(client)
        return client

    yield keep
    for client in made:
        await client.aclose()


def case_request(**overrides: Any) -> CaseRequest:
    values: dict[str, Any] = {
        "client_reference": f"dr_{uuid.uuid4().hex}",
        "application_reference": "FD-7K3M-9QX2",
        "service": "open-business",
        "language": "es",
        "applicant": Applicant(name="Ana García", email="ana@example.org", phone="+34600111222"),
        "data": {"business_name": "Café Sol"},
        "documents": ["doc_plan"],
    }
    values.update(overrides)
    return CaseRequest(**values)


# Departments


async def test_a_case_is_opened_once_followed_and_answered(
    sandbox: Sandbox, clients: Callable[[DepartmentClient], DepartmentClient]
) -> None:
    environment = clients(
        DepartmentClient(config(f"{sandbox.url}/departments/environment"), "environment")
    )
    request, key = case_request(), uuid.uuid4().hex
    receipt = await environment.create_case(request, key)
    again = await environment.create_case(request, key)
    assert receipt.created and not again.created and again.case_id == receipt.case_id
    assert receipt.status == "received" and receipt.received_at.tzinfo is not None
    assert receipt.client_reference == request.client_reference
    sandbox.advance("environment", receipt.case_id)
    sandbox.advance("environment", receipt.case_id)
    case = await environment.get_case(receipt.case_id)
    assert case.status == "information_requested"
    assert case.events[-1].note == "Send a site plan of the premises"
    assert case.events[-1].note_language == "en"  # not said: the contract's default
    assert case.events[-1].notes == {
        "es": "Envíe un plano de situación del local",
        "ar": "أرسلوا مخطط موقع المحل",
    }
    answer_key = uuid.uuid4().hex
    answered = await environment.send_information(
        receipt.case_id, "Here is the plan.", ["doc_plan"], answer_key
    )
    repeated = await environment.send_information(
        receipt.case_id, "Here is the plan.", ["doc_plan"], answer_key
    )
    assert answered.status == "in_review" and repeated == answered
    assert [event.status for event in answered.events][-2:] == [
        "information_requested",
        "in_review",
    ]
    with pytest.raises(BackendRejected) as refused:
        await environment.send_information(receipt.case_id, "again", [], uuid.uuid4().hex)
    assert refused.value.status_code == 409
    sent = [item for item in sandbox.requests("environment") if item["method"] == "POST"]
    assert sent and {item["request_id"] for item in sent} == {REQUEST_ID}
    [listed] = [c for c in sandbox.cases("environment") if c["case_id"] == receipt.case_id]
    assert listed["request"]["applicant"]["name"] == "Ana García"
    assert listed["request"]["callback_url"] is None


async def test_a_trade_licence_case_shows_its_fee_and_ends_with_the_certificate(
    sandbox: Sandbox, clients: Callable[[DepartmentClient], DepartmentClient]
) -> None:
    trade = clients(
        DepartmentClient(config(f"{sandbox.url}/departments/trade-licence"), "trade-licence")
    )
    receipt = await trade.create_case(case_request(), uuid.uuid4().hex)
    sandbox.advance("trade-licence", receipt.case_id, status="fee_due")
    case = await trade.get_case(receipt.case_id)
    assert case.status == "fee_due"
    fee = case.events[-1].fee
    assert fee is not None and (fee.amount_minor, fee.currency) == (15000, "EUR")
    for _ in range(3):
        sandbox.advance("trade-licence", receipt.case_id)
    case = await trade.get_case(receipt.case_id)
    assert case.status == "certificate_issued"


async def test_a_paid_fee_is_reported_once_and_only_for_the_amount_asked(
    sandbox: Sandbox, clients: Callable[[DepartmentClient], DepartmentClient]
) -> None:
    trade = clients(
        DepartmentClient(config(f"{sandbox.url}/departments/trade-licence"), "trade-licence")
    )
    receipt = await trade.create_case(case_request(), uuid.uuid4().hex)
    paid_at = datetime.now(UTC)
    report = PaymentReport(
        payment_id="pay_0001", amount_minor=15000, currency="EUR", paid_at=paid_at
    )
    with pytest.raises(BackendRejected) as too_early:  # nothing is due yet
        await trade.report_payment(receipt.case_id, report, uuid.uuid4().hex)
    assert too_early.value.status_code == 409
    sandbox.advance("trade-licence", receipt.case_id, status="fee_due")
    tampered = report.model_copy(update={"amount_minor": 100})
    with pytest.raises(BackendRejected) as wrong_amount:
        await trade.report_payment(receipt.case_id, tampered, uuid.uuid4().hex)
    assert wrong_amount.value.status_code == 422
    key = uuid.uuid4().hex
    case = await trade.report_payment(receipt.case_id, report, key)
    assert case.status == "paid"
    paid = case.events[-1]
    assert paid.payment_id == "pay_0001"
    assert paid.fee is not None and (paid.fee.amount_minor, paid.fee.currency) == (15000, "EUR")
    again = await trade.report_payment(receipt.case_id, report, key)  # a retry after a timeout
    assert again == case
    assert len((await trade.get_case(receipt.case_id)).events) == len(case.events)


async def test_department_refusals_and_outages_are_told_apart(
    sandbox: Sandbox, clients: Callable[[DepartmentClient], DepartmentClient]
) -> None:
    tax = clients(DepartmentClient(config(f"{sandbox.url}/departments/tax"), "tax"))
    with pytest.raises(BackendRejected) as unknown:
        await tax.get_case("TX-999999")
    assert unknown.value.status_code == 404
    with pytest.raises(BackendRejected) as no_key:
        await tax.create_case(case_request(), "")
    assert no_key.value.status_code == 400
    sandbox.set_fault("tax", down=True)
    with pytest.raises(BackendUnavailable):
        await tax.create_case(case_request(), uuid.uuid4().hex)
    employer = clients(DepartmentClient(config(f"{sandbox.url}/departments/employer"), "employer"))
    assert (await employer.create_case(case_request(), uuid.uuid4().hex)).created


async def test_an_unreachable_department_is_unavailable(
    clients: Callable[[DepartmentClient], DepartmentClient],
) -> None:
    tax = clients(DepartmentClient(config(f"http://127.0.0.1:{free_port()}"), "tax"))
    with pytest.raises(BackendUnavailable, match="unreachable"):
        await tax.get_case("TX-000001")


async def test_a_slow_department_times_out(
    sandbox: Sandbox, clients: Callable[[DepartmentClient], DepartmentClient]
) -> None:
    sandbox.set_fault("employer", delay_ms=1500)
    employer = clients(
        DepartmentClient(config(f"{sandbox.url}/departments/employer", timeout=0.3), "employer")
    )
    with pytest.raises(BackendUnavailable, match="timed out"):
        await employer.get_case("EM-000001")


def test_requests_are_checked_before_they_leave() -> None:
    with pytest.raises(pydantic.ValidationError):
        Applicant(name="")
    with pytest.raises(pydantic.ValidationError):
        ServiceRequest(service_code="pothole", description="x", lat=40.1)
    with pytest.raises(pydantic.ValidationError):
        ServiceRequest(service_code="pothole", description="x")


# Webhook signatures


def sandbox_push(sandbox: Sandbox) -> tuple[str, bytes]:
    """A signed push as the sandbox makes it: its header and raw body."""
    nobody = f"http://127.0.0.1:{free_port()}/webhooks"
    created = httpx.post(
        f"{sandbox.url}/departments/tax/cases",
        json=case_request(callback_url=nobody).model_dump(mode="json"),
        headers={"Idempotency-Key": uuid.uuid4().hex},
    ).json()
    webhook = sandbox.advance("tax", created["case_id"], note="Revisión: ok")["webhook"]
    return webhook["headers"]["X-Frontdoor-Signature"], webhook["body"].encode()


def test_verify_accepts_the_sandboxs_signature_and_its_body_parses(sandbox: Sandbox) -> None:
    header, body = sandbox_push(sandbox)
    assert verify(SECRET, header, body, now=time.time())
    timestamp = int(header.split(",")[0].removeprefix("t="))
    assert sign(SECRET, body, timestamp) == header
    event = StatusWebhook.model_validate_json(body)
    assert event.department == "tax" and event.status == "in_review"
    assert event.note == "Revisión: ok" and event.fee is None


def test_verify_refuses_tampering_other_secrets_and_old_or_future_pushes(
    sandbox: Sandbox,
) -> None:
    header, body = sandbox_push(sandbox)
    timestamp = int(header.split(",")[0].removeprefix("t="))
    assert not verify(SECRET, header, body.replace(b"in_review", b"approved"), time.time())
    assert not verify(SECRET, header, body + b" ", time.time())
    assert not verify(b"another-secret", header, body, time.time())
    assert verify(SECRET, header, body, now=timestamp + 300)
    assert not verify(SECRET, header, body, now=timestamp + 301)
    assert not verify(SECRET, header, body, now=timestamp - 301)
    assert not verify(SECRET, header, body, now=timestamp + 31, tolerance=30)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t, d: "",
        lambda t, d: f"v1={d}",
        lambda t, d: f"t={t}",
        lambda t, d: f"t={t},v1=",
        lambda t, d: f"t={t},v1={d[:-1]}",
        lambda t, d: f"t={t},v1={d.upper()}",
        lambda t, d: f"t={t},v1={d}zz",
        lambda t, d: f"t=-{t},v1={d}",
        lambda t, d: f"t={t}.0,v1={d}",
        lambda t, d: f"t={t},t={t},v1={d}",
        lambda t, d: f"t={t};v1={d}",
        lambda t, d: f"t={t},v1={d},junk",
        lambda t, d: f"t=١٢٣,v1={d}",
        lambda t, d: f"t={t},v1={'é' * 64}",
    ],
)
def test_verify_refuses_malformed_headers(mangle: Callable[[int, str], str]) -> None:
    body, now = b'{"event_id":"ev_1"}', int(time.time())
    digest = sign(SECRET, body, now).split("v1=")[1]
    assert verify(SECRET, f"t={now},v1={digest}", body, now)
    assert not verify(SECRET, mangle(now, digest), body, now)


def test_verify_allows_a_second_v1_while_a_secret_is_rotated() -> None:
    body, now = b"{}", int(time.time())
    old = sign(b"old-secret", body, now).split("v1=")[1]
    new = sign(SECRET, body, now).split("v1=")[1]
    assert verify(SECRET, f"t={now},v1={old},v1={new}", body, now)
    assert verify(SECRET, f"t={now},v0=ignored,v1={new}", body, now)
    assert not verify(SECRET, f"t={now},v1={old}", body, now)


# GIS geocoder


async def test_the_geocoder_finds_addresses_whatever_the_accents(
    sandbox: Sandbox, clients: Callable[[GeocoderClient], GeocoderClient]
) -> None:
    gis = clients(GeocoderClient(config(f"{sandbox.url}/gis")))
    found = await gis.search("plaza de espana", limit=2)
    assert len(found) == 2 and {a.street for a in found} == {"Plaza de España"}
    assert found[0].town == "Riverside" and found[0].postcode.startswith("RV")
    assert await gis.address(found[0].id) == found[0]
    assert len(await gis.search("street")) == 5
    with pytest.raises(BackendRejected) as unknown:
        await gis.address("addr-9999")
    assert unknown.value.status_code == 404
    with pytest.raises(BackendRejected) as short:
        await gis.search("x")
    assert short.value.status_code == 422
    assert {item["request_id"] for item in sandbox.requests("gis")} == {REQUEST_ID}
    sandbox.set_fault("gis", down=True)
    with pytest.raises(BackendUnavailable):
        await gis.search("harbour")


# Document service


async def test_documents_go_up_and_come_back(
    sandbox: Sandbox, clients: Callable[[DocumentClient], DocumentClient]
) -> None:
    documents = clients(DocumentClient(config(f"{sandbox.url}/documents")))
    content = "Plan del local: 40 m²\n".encode()
    stored = await documents.upload("plano (1).txt", "text/plain", content)
    assert stored.id.startswith("doc_") and stored.filename == "plano (1).txt"
    assert stored.size == len(content) and stored.sha256 == hashlib.sha256(content).hexdigest()
    data, content_type = await documents.download(stored.id)
    assert (data, content_type) == (content, "text/plain")
    assert await documents.metadata(stored.id) == stored
    with pytest.raises(BackendRejected) as unknown:
        await documents.metadata("doc_nope")
    assert unknown.value.status_code == 404
    sandbox.set_fault("documents", error_rate=1.0)
    with pytest.raises(BackendUnavailable):
        await documents.download(stored.id)


async def test_a_document_over_ten_megabytes_is_refused(
    sandbox: Sandbox, clients: Callable[[DocumentClient], DocumentClient]
) -> None:
    documents = clients(DocumentClient(config(f"{sandbox.url}/documents", timeout=10)))
    with pytest.raises(BackendRejected) as refused:
        await documents.upload("big.pdf", "application/pdf", b"x" * (10 * 1024 * 1024 + 1))
    assert refused.value.status_code == 413


# Open311


async def test_a_problem_report_is_filed_once_and_followed_until_fixed(
    sandbox: Sandbox, clients: Callable[[Open311Client], Open311Client]
) -> None:
    open311 = clients(Open311Client(config(f"{sandbox.url}/open311"), API_KEY))
    services = await open311.services()
    assert {s.service_code for s in services} == {
        "pothole",
        "street-light",
        "street-light-day",
        "street-light-damaged",
        "missed-bin",
        "graffiti",
        "noise-music",
        "noise-works",
        "noise-alarm",
        "noise-other",
    }
    report = ServiceRequest(
        service_code="street-light",
        description="The light outside number 12 is out",
        lat=40.4168,
        long=-3.7038,
        email="ana@example.org",
        first_name="Ana",
    )
    key = uuid.uuid4().hex
    request_id = await open311.create_request(report, key)
    assert await open311.create_request(report, key) == request_id
    status = await open311.get_request(request_id)
    assert (status.status, status.status_notes) == ("open", "Received")
    assert status.service_code == "street-light" and status.lat == 40.4168
    assert status.requested_datetime.tzinfo is not None
    by_address = await open311.create_request(
        ServiceRequest(
            service_code="missed-bin", description="Not collected", address_string="Calle Mayor 5"
        ),
        uuid.uuid4().hex,
    )
    sandbox.advance_report(request_id)
    sandbox.advance_report(request_id)
    both = await open311.get_requests([request_id, by_address, "PW-999999"])
    assert [(s.service_request_id, s.status) for s in both] == [
        (request_id, "closed"),
        (by_address, "open"),
    ]
    assert both[0].status_notes == "Fixed" and both[1].address == "Calle Mayor 5"
    assert await open311.get_requests([]) == []


async def test_open311_refusals_and_outages_are_told_apart(
    sandbox: Sandbox, clients: Callable[[Open311Client], Open311Client]
) -> None:
    report = ServiceRequest(service_code="graffiti", description="Tag", address_string="x")
    wrong_key = clients(Open311Client(config(f"{sandbox.url}/open311"), "wrong"))
    with pytest.raises(BackendRejected) as refused:
        await wrong_key.create_request(report, uuid.uuid4().hex)
    assert refused.value.status_code == 403
    open311 = clients(Open311Client(config(f"{sandbox.url}/open311"), API_KEY))
    unknown_service = report.model_copy(update={"service_code": "noise"})
    with pytest.raises(BackendRejected) as bad:
        await open311.create_request(unknown_service, uuid.uuid4().hex)
    assert bad.value.status_code == 400
    with pytest.raises(BackendRejected) as missing:
        await open311.get_request("PW-999999")
    assert missing.value.status_code == 404
    sandbox.set_fault("open311", down=True)
    with pytest.raises(BackendUnavailable):
        await open311.services()


def test_an_event_may_carry_its_note_in_other_languages_and_say_which_it_is_in() -> None:
    """CONTRACTS.md §1: `notes` by language is optional; `note_language` defaults to English."""
    event = StatusWebhook.model_validate(
        {
            "event_id": "ev_1",
            "department": "tax",
            "case_id": "TX-000001",
            "client_reference": "dr_1",
            "status": "information_requested",
            "at": "2026-12-04T10:00:00+00:00",
            "note": "Envíe el último recibo",
            "note_language": "es",
            "notes": {"en": "Send the last receipt"},
        }
    )
    assert (event.note, event.note_language) == ("Envíe el último recibo", "es")
    assert event.notes == {"en": "Send the last receipt"}
    bare = StatusWebhook.model_validate(
        {**event.model_dump(), "notes": None, "note_language": None}
    )
    assert bare.notes == {} and bare.note_language == "en"
