"""The sandbox honours the department, GIS, document and Open311 contracts (CONTRACTS.md).

Checked over real HTTP with plain httpx, never through the typed clients, so a drift between a
client and the sandbox shows up in one of the two suites.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from conftest import ROOT, Sandbox, free_port, wait_for

SECRET = os.environ.get("FRONTDOOR_WEBHOOK_SECRET", "sandbox-webhook-secret").encode()
API_KEY = os.environ.get("FRONTDOOR_OPEN311_API_KEY", "sandbox-open311-key")
SCRIPTS = {
    "trade-licence": [
        "received",
        "in_review",
        "fee_due",
        "paid",
        "approved",
        "certificate_issued",
    ],
    "tax": ["received", "in_review", "approved"],
    "environment": ["received", "in_review", "information_requested", "in_review", "approved"],
    "employer": ["received", "in_review", "approved"],
}


def case_body(callback_url: str | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client_reference": f"dr_{uuid.uuid4().hex}",
        "application_reference": "FD-7K3M-9QX2",
        "service": "open-business",
        "language": "es",
        "applicant": {"name": "Ana García", "email": "ana@example.org", "phone": "+34600111222"},
        "data": {"business_name": "Café Sol"},
        "documents": [],
        "callback_url": callback_url,
    }
    body.update(overrides)
    return body


def create(
    sandbox: Sandbox, department: str, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    headers = {"Idempotency-Key": key or uuid.uuid4().hex, "X-Request-ID": "backends-test"}
    return httpx.post(f"{sandbox.url}/departments/{department}/cases", json=body, headers=headers)


def new_case(sandbox: Sandbox, department: str, callback_url: str | None = None) -> str:
    response = create(sandbox, department, case_body(callback_url))
    assert response.status_code == 201, response.text
    return str(response.json()["case_id"])


def information(
    sandbox: Sandbox, department: str, case_id: str, key: str, text: str = "Attached."
) -> httpx.Response:
    return httpx.post(
        f"{sandbox.url}/departments/{department}/cases/{case_id}/information",
        json={"text": text, "documents": ["doc_plan"]},
        headers={"Idempotency-Key": key},
    )


def get_case(sandbox: Sandbox, department: str, case_id: str) -> dict[str, Any]:
    response = httpx.get(f"{sandbox.url}/departments/{department}/cases/{case_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def listed(sandbox: Sandbox, department: str, case_id: str) -> dict[str, Any]:
    [case] = [case for case in sandbox.cases(department) if case["case_id"] == case_id]
    return case


def eventually(check: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {seconds}s")
        time.sleep(0.05)


# Department case API


def test_a_repeated_create_answers_the_same_case_and_opens_no_second_one(
    sandbox: Sandbox,
) -> None:
    body = case_body()
    key = uuid.uuid4().hex
    first = create(sandbox, "trade-licence", body, key)
    again = create(sandbox, "trade-licence", body, key)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["created"] is True and again.json()["created"] is False
    assert first.json()["case_id"] == again.json()["case_id"]
    assert first.json()["case_id"].startswith("TL-")
    assert first.json()["status"] == "received"
    assert first.json()["received_at"].endswith("+00:00")
    mine = [
        case
        for case in sandbox.cases("trade-licence")
        if case["client_reference"] == body["client_reference"]
    ]
    assert len(mine) == 1 and mine[0]["create_calls"] == 2


def test_creates_need_a_key_and_a_client_reference_and_an_applicant_name(
    sandbox: Sandbox,
) -> None:
    url = f"{sandbox.url}/departments/tax/cases"
    assert httpx.post(url, json=case_body()).status_code == 400
    too_long = {"Idempotency-Key": "k" * 201}
    assert httpx.post(url, json=case_body(), headers=too_long).status_code == 400
    no_reference = case_body()
    del no_reference["client_reference"]
    refused = create(sandbox, "tax", no_reference)
    assert refused.status_code == 422 and "client_reference" in refused.json()["error"]
    no_name = case_body(applicant={"email": "ana@example.org"})
    assert create(sandbox, "tax", no_name).status_code == 422
    not_json = httpx.post(url, content=b"{", headers={"Idempotency-Key": "x"})
    assert not_json.status_code == 422
    assert create(sandbox, "no-such-office", case_body()).status_code == 404
    assert httpx.get(f"{url}/TX-999999").status_code == 404


def test_information_is_refused_while_the_case_is_not_asking_for_it(sandbox: Sandbox) -> None:
    case_id = new_case(sandbox, "environment")
    refused = information(sandbox, "environment", case_id, uuid.uuid4().hex)
    assert refused.status_code == 409
    assert get_case(sandbox, "environment", case_id)["status"] == "received"
    assert (
        httpx.post(
            f"{sandbox.url}/departments/environment/cases/{case_id}/information", json={"text": "x"}
        ).status_code
        == 400
    )
    assert information(sandbox, "environment", "EN-999999", "k").status_code == 404


@pytest.mark.parametrize("department", list(SCRIPTS))
def test_each_department_follows_its_script_through_its_waits(
    sandbox: Sandbox, department: str
) -> None:
    case_id = new_case(sandbox, department)
    while (case := get_case(sandbox, department, case_id))["status"] != SCRIPTS[department][-1]:
        if case["status"] == "information_requested":
            key = uuid.uuid4().hex
            answered = information(sandbox, department, case_id, key)
            assert answered.status_code == 200 and answered.json()["status"] == "in_review"
            repeated = information(sandbox, department, case_id, key)
            assert repeated.status_code == 200 and repeated.json() == answered.json()
        else:
            sandbox.advance(department, case_id)
    assert [event["status"] for event in case["events"]] == SCRIPTS[department]
    assert len({event["event_id"] for event in case["events"]}) == len(case["events"])
    fees = {event["status"]: event["fee"] for event in case["events"] if event["fee"]}
    fee_due = {"amount_minor": 15000, "currency": "EUR"}
    assert fees == ({"fee_due": fee_due} if department == "trade-licence" else {})
    if department == "environment":
        [asked] = [e for e in case["events"] if e["status"] == "information_requested"]
        assert asked["note"] == "Send a site plan of the premises"
        assert listed(sandbox, department, case_id)["information"][0]["text"] == "Attached."
    finished = httpx.post(
        f"{sandbox.url}/_sandbox/departments/{department}/cases/{case_id}/advance"
    )
    assert finished.status_code == 409


def test_advance_moves_a_case_to_the_status_given_even_past_a_wait(sandbox: Sandbox) -> None:
    case_id = new_case(sandbox, "environment")
    asked = sandbox.advance("environment", case_id, status="information_requested")
    assert asked["event"]["note"] == "Send a site plan of the premises"
    # Past the wait on command: the applicant's answer is not needed to go on.
    assert sandbox.advance("environment", case_id)["event"]["status"] == "in_review"
    rejected = sandbox.advance("environment", case_id, status="rejected", note="Wrong zone")
    assert rejected["event"]["status"] == "rejected"
    assert rejected["event"]["note"] == "Wrong zone"
    assert get_case(sandbox, "environment", case_id)["status"] == "rejected"
    unknown = httpx.post(
        f"{sandbox.url}/_sandbox/departments/tax/cases/{new_case(sandbox, 'tax')}/advance",
        json={"status": "lost"},
    )
    assert unknown.status_code == 422


def test_department_fault_switches_act_on_that_department_alone(sandbox: Sandbox) -> None:
    case_id = new_case(sandbox, "tax")
    url = f"{sandbox.url}/departments/tax/cases/{case_id}"
    sandbox.set_fault("tax", down=True)
    assert httpx.get(url).status_code == 503
    assert create(sandbox, "employer", case_body()).status_code == 201
    sandbox.set_fault("tax", error_rate=1.0)
    assert httpx.get(url).status_code == 500
    sandbox.reset()
    assert httpx.get(url, headers={"X-Request-ID": "fault-test-0001"}).status_code == 200
    [logged, *_] = sandbox.requests("tax")
    assert logged["request_id"] == "fault-test-0001" and logged["path"].endswith(case_id)
    for backend in ("trade-licence", "environment", "gis", "documents", "open311"):
        sandbox.set_fault(backend, delay_ms=1)
    assert set(httpx.get(f"{sandbox.url}/_sandbox/faults").json()) >= {
        "trade-licence",
        "tax",
        "environment",
        "employer",
        "gis",
        "documents",
        "open311",
    }


# Webhooks


@dataclass
class Receiver:
    """A tiny webhook receiver: records every POST and answers the next status in `answers`."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    port = free_port()
    state = Receiver(url=f"http://127.0.0.1:{port}/webhooks/departments")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
            self.send_response(state.answers.pop(0) if state.answers else 204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def independent_check(header: str, body: bytes) -> bool:
    """The signature checked from the contract's words alone, without the client's code."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(SECRET, parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(parts["t"])) <= 300
    return fresh and hmac.compare_digest(expected.encode(), parts["v1"].encode())


def test_each_new_event_is_pushed_signed_to_the_callback_url(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    case_id = new_case(sandbox, "tax", receiver.url)
    assert receiver.received == []  # the create's answer is the receipt; no push for it
    answer = sandbox.advance("tax", case_id)
    webhook = answer["webhook"]
    assert webhook["delivered"] is True and webhook["url"] == receiver.url
    [push] = receiver.received
    assert push["path"] == "/webhooks/departments"
    assert push["body"] == webhook["body"].encode()
    assert push["headers"]["Content-Type"] == "application/json"
    assert push["headers"]["X-Request-ID"]
    assert independent_check(push["headers"]["X-Frontdoor-Signature"], push["body"])
    tampered = push["body"].replace(b"in_review", b"approved")
    assert not independent_check(push["headers"]["X-Frontdoor-Signature"], tampered)
    event = json.loads(push["body"])
    assert event == {
        "department": "tax",
        "case_id": case_id,
        "client_reference": listed(sandbox, "tax", case_id)["client_reference"],
        **answer["event"],
    }
    assert event["status"] == "in_review" and event["fee"] is None


def test_the_answer_to_a_request_for_information_is_pushed_too(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    case_id = new_case(sandbox, "environment", receiver.url)
    sandbox.advance("environment", case_id, status="information_requested")
    assert information(sandbox, "environment", case_id, uuid.uuid4().hex).status_code == 200
    eventually(lambda: len(receiver.received) == 2)
    pushed = json.loads(receiver.received[1]["body"])
    assert pushed["status"] == "in_review" and pushed["case_id"] == case_id


def test_a_failed_push_is_tried_again_a_second_later(sandbox: Sandbox, receiver: Receiver) -> None:
    receiver.answers = [500]
    case_id = new_case(sandbox, "trade-licence", receiver.url)
    answer = sandbox.advance("trade-licence", case_id)
    assert answer["webhook"]["delivered"] is False
    started = time.monotonic()
    eventually(lambda: listed(sandbox, "trade-licence", case_id)["deliveries"][0]["delivered"])
    assert time.monotonic() - started >= 0.5
    first, second = receiver.received
    assert first["body"] == second["body"] == answer["webhook"]["body"].encode()
    assert listed(sandbox, "trade-licence", case_id)["deliveries"][0]["attempts"] == 2


def test_a_push_nobody_takes_is_retried_three_times_then_given_up(sandbox: Sandbox) -> None:
    nobody = f"http://127.0.0.1:{free_port()}/webhooks"
    case_id = new_case(sandbox, "environment", nobody)
    assert sandbox.advance("environment", case_id)["webhook"]["delivered"] is False
    eventually(lambda: listed(sandbox, "environment", case_id)["deliveries"][0]["gave_up"], 15)
    assert listed(sandbox, "environment", case_id)["deliveries"][0]["attempts"] == 4


def test_employer_does_not_push_the_portal_polls(sandbox: Sandbox, receiver: Receiver) -> None:
    case_id = new_case(sandbox, "employer", receiver.url)
    assert sandbox.advance("employer", case_id)["webhook"] is None
    assert get_case(sandbox, "employer", case_id)["status"] == "in_review"
    assert receiver.received == []


@pytest.fixture(scope="module")
def moving_sandbox() -> Iterator[str]:
    """A second sandbox whose cases move on their own every 0.2 s."""
    port, smtp_port = free_port(), free_port()
    env = {**os.environ, "FRONTDOOR_SANDBOX_CASE_STEP_SECONDS": "0.2"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backend_clients.sandbox",
            "--port",
            str(port),
            "--smtp-port",
            str(smtp_port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_cases_move_on_their_own_and_stop_where_they_wait_for_someone(
    moving_sandbox: str,
) -> None:
    sandbox = Sandbox(url=moving_sandbox, smtp_port=0)
    ids = {department: new_case(sandbox, department) for department in SCRIPTS}
    report = httpx.post(
        f"{moving_sandbox}/open311/requests.json",
        data={
            "api_key": API_KEY,
            "service_code": "graffiti",
            "address_string": "x",
            "description": "y",
        },
    ).json()[0]["service_request_id"]

    def status(department: str) -> str:
        return str(get_case(sandbox, department, ids[department])["status"])

    def report_status() -> str:
        found = httpx.get(f"{moving_sandbox}/open311/requests/{report}.json").json()[0]
        return f"{found['status']}/{found['status_notes']}"

    eventually(lambda: status("tax") == status("employer") == "approved")
    eventually(lambda: status("trade-licence") == "fee_due")
    eventually(lambda: status("environment") == "information_requested")
    eventually(lambda: report_status() == "closed/Fixed")
    time.sleep(1)  # several steps: the waiting cases stay where they are
    assert status("trade-licence") == "fee_due"
    assert status("environment") == "information_requested"
    assert information(sandbox, "environment", ids["environment"], "k").status_code == 200
    eventually(lambda: status("environment") == "approved")


# GIS geocoder


def geocode(sandbox: Sandbox, q: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{sandbox.url}/gis/geocode", params={"q": q, **params})


def test_geocoder_finds_addresses_containing_every_word(sandbox: Sandbox) -> None:
    results = geocode(sandbox, "12 harbour").json()["results"]
    assert results[0]["label"] == "12 Harbour Street, Riverside RV1 2AB"
    first = results[0]
    assert first["street"] == "Harbour Street" and first["number"] == "12"
    assert first["postcode"] == "RV1 2AB" and first["town"] == "Riverside"
    assert isinstance(first["lat"], float) and isinstance(first["lon"], float)
    assert all("harbour" in item["label"].lower() for item in results)
    assert httpx.get(f"{sandbox.url}/gis/addresses/{first['id']}").json() == first
    assert len(geocode(sandbox, "riverside", limit=20).json()["results"]) == 20
    assert len(geocode(sandbox, "street").json()["results"]) == 5
    assert geocode(sandbox, "nowhere lane").json() == {"results": []}


def test_geocoder_ignores_case_and_accents(sandbox: Sandbox) -> None:
    plain = geocode(sandbox, "plaza de espana").json()["results"]
    accented = geocode(sandbox, "PLAZA DE ESPAÑA").json()["results"]
    assert plain == accented and len(plain) >= 2
    assert all(item["street"] == "Plaza de España" for item in plain)
    [church] = geocode(sandbox, "rue de l eglise 13").json()["results"]
    assert church["street"] == "Rue de l'Église"
    assert geocode(sandbox, "calle mayor 18").json()["results"][0]["number"] == "18"


def test_geocoder_refuses_short_queries_bad_limits_and_unknown_ids(sandbox: Sandbox) -> None:
    assert geocode(sandbox, "h").status_code == 422
    assert geocode(sandbox, " ").status_code == 422
    assert geocode(sandbox, "high", limit=21).status_code == 422
    assert geocode(sandbox, "high", limit=0).status_code == 422
    assert httpx.get(f"{sandbox.url}/gis/addresses/addr-9999").status_code == 404


# Document service


def test_documents_are_stored_and_given_back_as_they_came(sandbox: Sandbox) -> None:
    content = b"%PDF-1.7 site plan \x00\xff"
    uploaded = httpx.post(
        f"{sandbox.url}/documents/documents",
        files={"file": ("plano del local.pdf", content, "application/pdf")},
    )
    assert uploaded.status_code == 201
    stored = uploaded.json()
    assert stored["id"].startswith("doc_") and stored["filename"] == "plano del local.pdf"
    assert stored["content_type"] == "application/pdf" and stored["size"] == len(content)
    assert stored["sha256"] == hashlib.sha256(content).hexdigest()
    downloaded = httpx.get(f"{sandbox.url}/documents/documents/{stored['id']}")
    assert downloaded.content == content
    assert downloaded.headers["content-type"] == "application/pdf"
    metadata = httpx.get(f"{sandbox.url}/documents/documents/{stored['id']}/metadata")
    assert metadata.json() == stored


def test_documents_over_ten_megabytes_and_unknown_ids_are_refused(sandbox: Sandbox) -> None:
    url = f"{sandbox.url}/documents/documents"
    big = b"x" * (10 * 1024 * 1024 + 1)
    too_big = httpx.post(url, files={"file": ("big.bin", big, "application/octet-stream")})
    assert too_big.status_code == 413
    assert httpx.post(url, data={"nofile": "x"}, files={"other": ("a", b"a")}).status_code == 422
    assert httpx.get(f"{url}/doc_nope").status_code == 404
    assert httpx.get(f"{url}/doc_nope/metadata").status_code == 404


# Open311 GeoReport v2


def open311_create(sandbox: Sandbox, key: str | None = None, **fields: str) -> httpx.Response:
    form = {
        "api_key": API_KEY,
        "service_code": "pothole",
        "lat": "40.4168",
        "long": "-3.7038",
        "description": "Deep pothole by the bus stop",
        "email": "ana@example.org",
        **fields,
    }
    headers = {"Idempotency-Key": key} if key else {}
    return httpx.post(f"{sandbox.url}/open311/requests.json", data=form, headers=headers)


def test_open311_lists_its_services(sandbox: Sandbox) -> None:
    services = httpx.get(f"{sandbox.url}/open311/services.json").json()
    assert [item["service_code"] for item in services] == [
        "pothole",
        "street-light",
        "missed-bin",
        "graffiti",
        "street-light-day",
        "street-light-damaged",
        "noise-music",
        "noise-works",
        "noise-alarm",
        "noise-other",
    ]
    assert all(item["metadata"] is False and item["type"] == "realtime" for item in services)


def test_open311_report_is_filed_once_and_followed_until_fixed(sandbox: Sandbox) -> None:
    key = uuid.uuid4().hex
    created = open311_create(sandbox, key)
    assert created.status_code == 201
    [receipt] = created.json()
    assert receipt["service_request_id"].startswith("PW-") and receipt["account_id"] is None
    assert open311_create(sandbox, key).json() == created.json()
    request_id = receipt["service_request_id"]
    [found] = httpx.get(f"{sandbox.url}/open311/requests/{request_id}.json").json()
    assert found["status"] == "open" and found["status_notes"] == "Received"
    assert found["service_code"] == "pothole" and found["service_name"] == "Pothole"
    assert found["lat"] == 40.4168 and found["long"] == -3.7038
    assert "email" not in found
    assert sandbox.advance_report(request_id)["status_notes"] == "Scheduled for repair"
    fixed = sandbox.advance_report(request_id)
    assert fixed["status"] == "closed" and fixed["status_notes"] == "Fixed"
    advance = f"{sandbox.url}/_sandbox/open311/requests/{request_id}/advance"
    assert httpx.post(advance).status_code == 409
    other = open311_create(sandbox, address_string="12 Harbour Street", lat="", long="")
    other_id = other.json()[0]["service_request_id"]
    several = httpx.get(
        f"{sandbox.url}/open311/requests.json",
        params={"service_request_id": f"{request_id},{other_id},PW-999999"},
    ).json()
    assert [item["service_request_id"] for item in several] == [request_id, other_id]
    assert several[1]["address"] == "12 Harbour Street" and several[1]["lat"] is None


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"api_key": "wrong"}, 403),
        ({"api_key": ""}, 403),
        ({"service_code": "noise"}, 400),
        ({"lat": "", "long": ""}, 400),
        ({"lat": "north"}, 400),
        ({"description": ""}, 400),
    ],
)
def test_open311_refusals_use_its_error_shape(
    sandbox: Sandbox, fields: dict[str, str], status: int
) -> None:
    refused = open311_create(sandbox, **fields)
    assert refused.status_code == status
    [error] = refused.json()
    assert error["code"] == status and error["description"]


def test_open311_unknown_request_is_not_found(sandbox: Sandbox) -> None:
    assert httpx.get(f"{sandbox.url}/open311/requests/PW-999999.json").status_code == 404
