"""The DIGIT client against the sandbox's DIGIT stand-in, over real HTTP.

Every request the client sends is checked against JSON Schemas written from DIGIT's published
contracts (backend_clients/digit/schemas, each naming its source), and the stand-in's answers
against the same files, so the client, the stand-in and the contracts cannot drift apart
unnoticed. The stand-in never imports the client's models.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from backend_clients.digit import (
    Citizen,
    ComplaintRequest,
    DigitClient,
    DigitRejected,
    Document,
    ProcessInstance,
)
from backend_clients.http import BackendError, BackendRejected, BackendUnavailable, ClientConfig
from backend_clients.sandbox.digit import NEW_TL, PGR, DigitState
from conftest import Sandbox

SCHEMAS = Path(__file__).resolve().parent.parent / "backend_clients" / "digit" / "schemas"
CITY = "pb.riverside"
PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

# A small JSON Schema checker (the keywords our schema files use), so the suite needs no extra
# package: type, enum, required, properties, additionalProperties, items, min/maxItems,
# min/maxLength, minimum/maximum and $ref within and across the schema files.

_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def _load(name: str) -> dict[str, Any]:
    return dict(json.loads((SCHEMAS / name).read_text()))


def _is(instance: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(instance, int) and not isinstance(instance, bool)
    if kind == "number":
        return isinstance(instance, int | float) and not isinstance(instance, bool)
    return isinstance(instance, _TYPES[kind])


def problems(instance: Any, schema: dict[str, Any], document: str, at: str = "$") -> list[str]:
    """Where `instance` breaks `schema` (a node of the schema file `document`)."""
    if "$ref" in schema:
        target, _, pointer = schema["$ref"].partition("#")
        document = target or document
        node: Any = _load(document)
        for part in filter(None, pointer.split("/")):
            node = node[part]
        return problems(instance, node, document, at)
    found: list[str] = []
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is(instance, kind) for kind in kinds):
            return [f"{at}: {instance!r} is not of type {kinds}"]
    if "enum" in schema and instance not in schema["enum"]:
        found.append(f"{at}: {instance!r} is not one of {schema['enum']}")
    if isinstance(instance, str):
        if len(instance) < schema.get("minLength", 0):
            found.append(f"{at}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(instance) > schema["maxLength"]:
            found.append(f"{at}: longer than {schema['maxLength']}")
    if _is(instance, "number"):
        if "minimum" in schema and instance < schema["minimum"]:
            found.append(f"{at}: below {schema['minimum']}")
        if "maximum" in schema and instance > schema["maximum"]:
            found.append(f"{at}: above {schema['maximum']}")
    if isinstance(instance, list):
        if len(instance) < schema.get("minItems", 0):
            found.append(f"{at}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(instance) > schema["maxItems"]:
            found.append(f"{at}: more than {schema['maxItems']} items")
        if "items" in schema:
            for index, item in enumerate(instance):
                found += problems(item, schema["items"], document, f"{at}[{index}]")
    if isinstance(instance, dict):
        properties = schema.get("properties", {})
        found += [
            f"{at}: {name} is required"
            for name in schema.get("required", [])
            if name not in instance
        ]
        for name, value in instance.items():
            if name in properties:
                found += problems(value, properties[name], document, f"{at}.{name}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{at}: {name} is not in the contract")
    return found


def assert_fits(instance: Any, document: str, definition: str) -> None:
    found = problems(instance, {"$ref": f"{document}#/$defs/{definition}"}, document)
    assert not found, "\n".join(found)


# Recording what the client sends and gets, on its way to the real sandbox


@dataclass
class Exchange:
    method: str
    path: str
    query: dict[str, str]
    headers: httpx.Headers
    body: bytes
    status: int
    answer: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def answer_json(self) -> Any:
        return json.loads(self.answer)


@dataclass
class Recorder(httpx.AsyncBaseTransport):
    inner: httpx.AsyncHTTPTransport = field(default_factory=httpx.AsyncHTTPTransport)
    exchanges: list[Exchange] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        response = await self.inner.handle_async_request(request)
        answer = await response.aread()
        url = urlsplit(str(request.url))
        self.exchanges.append(
            Exchange(
                request.method,
                url.path,
                dict(parse_qsl(url.query)),
                request.headers,
                body,
                response.status_code,
                answer,
            )
        )
        return httpx.Response(
            response.status_code, headers=response.headers, content=answer, request=request
        )

    async def aclose(self) -> None:
        await self.inner.aclose()

    def to(self, suffix: str) -> list[Exchange]:
        return [item for item in self.exchanges if item.path.endswith(suffix)]


@dataclass
class Digit:
    client: DigitClient
    sent: Recorder
    url: str


@pytest.fixture
async def digit(sandbox: Sandbox) -> AsyncIterator[Digit]:
    recorder = Recorder()
    config = ClientConfig(
        base_url=f"{sandbox.url}/digit",
        timeout=httpx.Timeout(2.0),
        headers=lambda: {"X-Request-ID": "digit-test"},
        transport=recorder,
    )
    client = DigitClient(config, tenant_id=CITY, auth_token="sandbox-token")
    yield Digit(client, recorder, f"{sandbox.url}/digit")
    await client.aclose()


async def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """A plain HTTP call past the client (the tester's or a lost first try's)."""
    async with httpx.AsyncClient(timeout=5) as http:
        return await http.request(method, url, **kwargs)


def mobile() -> str:
    return str(random.randint(6_000_000_000, 9_999_999_999))


def complaint(photos: list[str], **overrides: Any) -> ComplaintRequest:
    values: dict[str, Any] = {
        "client_reference": f"dr_{uuid.uuid4().hex}",
        "service_code": "StreetLightNotWorking",
        "description": "The light outside number 12 has been off for a week",
        "locality_code": "RV001",
        "latitude": 40.4168,
        "longitude": -3.7038,
        "landmark": "Opposite the fish market",
        "citizen": Citizen(name="Ana García", mobile_number=mobile()),
        "photos": photos,
    }
    values.update(overrides)
    return ComplaintRequest(**values)


def overview(sandbox: Sandbox) -> dict[str, Any]:
    response = httpx.get(f"{sandbox.url}/_sandbox/digit")
    response.raise_for_status()
    return dict(response.json())


def move(sandbox: Sandbox, business_id: str, state: str | None = None) -> dict[str, Any]:
    command = {"state": state} if state else None
    response = httpx.post(
        f"{sandbox.url}/_sandbox/digit/processes/{business_id}/advance", json=command
    )
    response.raise_for_status()
    return dict(response.json())


def licence(business_id: str, action: str, **values: Any) -> ProcessInstance:
    return ProcessInstance(
        tenant_id=CITY,
        business_service="NewTL",
        business_id=business_id,
        action=action,
        module_name="TL",
        **values,
    )


def new_licence_id() -> str:
    return f"PB-TL-{uuid.uuid4().hex[:10].upper()}"


def envelope_fits(exchange: Exchange, action: str) -> None:
    info = exchange.json()["RequestInfo"]
    assert_fits(info, "common.json", "RequestInfo")
    assert info["action"] == action and info["authToken"] == "sandbox-token"
    assert abs(info["ts"] - time.time() * 1000) < 60_000


# Complaints (PGR v2) with a photo from filestore


async def test_a_complaint_with_a_photo_is_filed_found_and_followed(
    digit: Digit, sandbox: Sandbox
) -> None:
    file_id = await digit.client.upload_file(PHOTO, "light.png", "image/png")
    filed = await digit.client.create_complaint(complaint([file_id]), "key-" + uuid.uuid4().hex)

    [upload] = digit.sent.to("/filestore/v1/files")
    assert upload.status == 201
    assert_fits(upload.answer_json(), "egov-filestore.json", "UploadFileResponse")
    assert b'name="tenantId"' in upload.body and CITY.encode() in upload.body
    assert b'name="file"; filename="light.png"' in upload.body

    [create] = digit.sent.to("/pgr-services/v2/request/_create")
    assert_fits(create.json(), "pgr-services.json", "CreateRequest")
    assert_fits(create.query, "pgr-services.json", "CreateQuery")
    assert_fits(create.answer_json(), "pgr-services.json", "ServiceResponse")
    envelope_fits(create, "_create")
    assert create.json()["workflow"]["verificationDocuments"] == [
        {"documentType": "PHOTO", "fileStoreId": file_id}
    ]
    for search in digit.sent.to("/pgr-services/v2/request/_search"):
        assert_fits(search.json(), "common.json", "RequestInfoWrapper")
        assert_fits(search.query, "pgr-services.json", "SearchQuery")

    request_id = filed.service.service_request_id
    assert request_id is not None and request_id.startswith("PB-PGR-")
    assert filed.service.application_status == "PENDINGFORASSIGNMENT"
    assert filed.service.address.geo_location is not None
    assert filed.service.audit_details is not None

    found = await digit.client.get_complaint(request_id)
    assert found is not None
    assert found.service.description == "The light outside number 12 has been off for a week"
    assert found.workflow is not None and found.workflow.verification_documents == [
        Document(document_type="PHOTO", file_store_id=file_id)
    ]
    photo = await call(
        "GET",
        f"{digit.url}/filestore/v1/files/id",
        params={"tenantId": CITY, "fileStoreId": file_id},
    )
    assert photo.content == PHOTO and photo.headers["content-type"] == "image/png"

    move(sandbox, request_id)  # the clock's next step: assigned to a field worker
    move(sandbox, request_id, "RESOLVED")
    followed = await digit.client.get_complaint(request_id)
    assert followed is not None and followed.service.application_status == "RESOLVED"
    steps = await digit.client.process_history([request_id])
    assert [step.action for step in steps] == ["RESOLVE", "ASSIGN", "APPLY"]
    assert steps[0].state is not None and steps[0].state.state == "RESOLVED"
    assert await digit.client.get_complaint("PB-PGR-2000-01-01-999999") is None


async def test_filing_again_with_the_same_reference_opens_no_second_complaint(
    digit: Digit, sandbox: Sandbox
) -> None:
    request = complaint([])
    first = await digit.client.create_complaint(request, "key-one")
    # A retry after a lost answer: same reference, even under another idempotency key.
    again = await digit.client.create_complaint(request, "key-two")
    assert again.service.service_request_id == first.service.service_request_id
    assert len(digit.sent.to("/request/_create")) == 1
    mine = [
        item
        for item in overview(sandbox)["complaints"]
        if item["service"]["additionalDetail"] == {"clientReference": request.client_reference}
    ]
    assert len(mine) == 1 and mine[0]["keys"] == ["key-one"]

    # The header alone protects too, where searching first is not possible.
    body = digit.client.service_wrapper(complaint([])).wire()
    body["RequestInfo"] = digit.client.request_info("_create").wire()
    headers = {"X-Idempotency-Key": "raw-" + uuid.uuid4().hex}
    url = f"{digit.url}/pgr-services/v2/request/_create"
    answers = [await call("POST", url, json=body, headers=headers) for _ in range(2)]
    ids = {a.json()["ServiceWrappers"][0]["service"]["serviceRequestId"] for a in answers}
    assert len(ids) == 1


async def test_a_digit_refusal_reaches_the_caller_with_its_code_and_message(
    digit: Digit,
) -> None:
    with pytest.raises(DigitRejected) as refused:
        await digit.client.create_complaint(complaint([], service_code="NoSuchComplaint"), "k1")
    error = refused.value
    assert isinstance(error, BackendRejected) and error.status_code == 400
    assert error.code == "INVALID_SERVICECODE"
    assert error.digit_message == "The serviceCode NoSuchComplaint does not exist"
    assert "INVALID_SERVICECODE: The serviceCode NoSuchComplaint does not exist" in str(error)
    [create] = digit.sent.to("/request/_create")
    assert_fits(create.answer_json(), "common.json", "ErrorRes")

    with pytest.raises(DigitRejected) as unknown_photo:
        await digit.client.create_complaint(complaint(["no-such-file"]), "k2")
    assert unknown_photo.value.code == "INVALID_FILESTOREID"


@pytest.mark.parametrize(
    ("body", "query", "code"),
    [
        ({}, {"tenantId": CITY}, "INVALID_REQUEST_INFO"),
        ({"RequestInfo": "yes"}, {"tenantId": CITY}, "INVALID_REQUEST_INFO"),
        ({"RequestInfo": {"apiId": "x"}}, {}, "INVALID_TENANT_ID"),
        ({"RequestInfo": {"apiId": "x"}}, {"tenantId": "zz.elsewhere"}, "INVALID_TENANT_ID"),
    ],
)
def test_the_stand_in_refuses_calls_without_the_envelope_or_a_tenant(
    sandbox: Sandbox, body: dict[str, Any], query: dict[str, str], code: str
) -> None:
    for path in (
        "pgr-services/v2/request/_search",
        "egov-workflow-v2/egov-wf/process/_search",
        "billing-service/bill/v2/_fetchbill",
        "collection-services/payments/_search",
    ):
        answer = httpx.post(f"{sandbox.url}/digit/{path}", params=query, json=body)
        assert answer.status_code == 400, path
        assert_fits(answer.json(), "common.json", "ErrorRes")
        assert answer.json()["Errors"][0]["code"] == code, path


# Workflow v2: a trade licence sent back to the applicant, who answers


async def test_a_licence_sent_back_to_the_applicant_is_resubmitted(digit: Digit) -> None:
    business_id = new_licence_id()
    client = digit.client
    applied = await client.transition(licence(business_id, "APPLY", comment="New café"))
    assert applied.state is not None and applied.state.state == "APPLIED"
    await client.transition(licence(business_id, "FORWARD"))
    sent_back = await client.transition(
        licence(business_id, "SENDBACKTOCITIZEN", comment="Send a site plan of the premises")
    )
    assert sent_back.state is not None and sent_back.state.state == "CITIZENACTIONREQUIRED"
    assert [action.action for action in sent_back.next_actions or []] == ["RESUBMIT"]

    plan = await client.upload_file(b"%PDF-1.4 plan", "plan.pdf", "application/pdf", module="TL")
    resubmitted = await client.transition(
        licence(
            business_id,
            "RESUBMIT",
            comment="Site plan attached",
            documents=[Document(document_type="SITEPLAN", file_store_id=plan)],
        )
    )
    assert resubmitted.state is not None and resubmitted.state.state == "APPLIED"
    assert resubmitted.previous_status == "CITIZENACTIONREQUIRED"

    history = await client.process_history([business_id])
    assert [step.action for step in history] == [
        "RESUBMIT",
        "SENDBACKTOCITIZEN",
        "FORWARD",
        "APPLY",
    ]
    assert history[1].comment == "Send a site plan of the premises"
    assert history[0].documents == [Document(document_type="SITEPLAN", file_store_id=plan)]
    [latest] = await client.process_history([business_id], history=False)
    assert latest.action == "RESUBMIT"

    for exchange in digit.sent.to("/process/_transition"):
        assert_fits(exchange.json(), "egov-workflow-v2.json", "TransitionRequest")
        assert_fits(exchange.answer_json(), "egov-workflow-v2.json", "ProcessInstanceResponse")
        envelope_fits(exchange, "_transition")
    for exchange in digit.sent.to("/process/_search"):
        assert_fits(exchange.query, "egov-workflow-v2.json", "SearchQuery")
        assert_fits(exchange.json(), "common.json", "RequestInfoWrapper")

    with pytest.raises(DigitRejected) as refused:
        await client.transition(licence(business_id, "APPROVE"))
    assert refused.value.code == "INVALID_ACTION"
    assert "APPROVE is not allowed in state APPLIED" in refused.value.digit_message


# Billing and collection: the approved licence's bill, paid exactly once


async def test_an_approved_licence_is_billed_and_its_payment_reported_exactly_once(
    digit: Digit, sandbox: Sandbox
) -> None:
    client = digit.client
    business_id = new_licence_id()
    assert await client.fetch_bill(business_id, "TL") == []
    await client.transition(licence(business_id, "APPLY"))
    move(sandbox, business_id, "PENDINGAPPROVAL")
    approved = await client.transition(licence(business_id, "APPROVE"))
    assert approved.state is not None and approved.state.state == "PENDINGPAYMENT"

    [bill] = await client.fetch_bill(business_id, "TL")
    assert bill.status == "ACTIVE" and bill.total_amount == 1500
    assert bill.bill_details[0].bill_account_details[0].tax_head_code == "TL_TAX"
    [fetch] = digit.sent.to("/bill/v2/_fetchbill")[-1:]
    assert_fits(fetch.query, "billing-service.json", "FetchBillQuery")
    assert_fits(fetch.json(), "common.json", "RequestInfoWrapper")
    assert_fits(fetch.answer_json(), "billing-service.json", "BillResponse")

    gateway_id = "pay_" + uuid.uuid4().hex
    payment = client.payment_for(
        bill, transaction_number=gateway_id, paid_by="Ana García", mobile_number="9876543210"
    )
    # The first report reached DIGIT but its answer was lost on the way back.
    lost = await call(
        "POST",
        f"{digit.url}/collection-services/payments/_create",
        json={"RequestInfo": client.request_info("_create").wire(), "Payment": payment.wire()},
    )
    assert lost.status_code == 200, lost.text
    reported = await client.report_payment(payment)
    again = await client.report_payment(payment)
    assert reported.id == again.id == lost.json()["Payments"][0]["id"]
    assert reported.payment_details[0].receipt_number
    assert not digit.sent.to("/payments/_create")  # found by _search, never sent twice
    mine = [p for p in overview(sandbox)["payments"] if p["transactionNumber"] == gateway_id]
    assert len(mine) == 1

    # A report under another gateway payment is refused: the bill is paid.
    other = client.payment_for(
        bill, transaction_number="pay_other", paid_by="Ana García", mobile_number="9876543210"
    )
    with pytest.raises(DigitRejected) as refused:
        await client.report_payment(other)
    assert refused.value.code == "BILL_ALREADY_PAID"
    [create] = digit.sent.to("/payments/_create")
    assert_fits(create.json(), "collection-services.json", "CreateRequest")
    envelope_fits(create, "_create")
    for search in digit.sent.to("/payments/_search"):
        assert_fits(search.query, "collection-services.json", "SearchQuery")
        assert_fits(search.answer_json(), "collection-services.json", "PaymentResponse")

    [paid] = await client.search_payments(consumer_codes=[business_id])
    assert paid.transaction_number == gateway_id and paid.payment_status == "NEW"
    [paid_bill] = await client.fetch_bill(business_id, "TL")
    assert paid_bill.status == "PAID"
    [latest] = await client.process_history([business_id], history=False)
    assert latest.action == "PAY" and latest.state is not None
    assert latest.state.state == "APPROVED"


# Master data and texts


async def test_complaint_types_and_localities_come_from_mdms(digit: Digit) -> None:
    types = await digit.client.complaint_types()
    codes = [item.service_code for item in types]
    assert "StreetLightNotWorking" in codes and "GarbageNeedsTobeCleared" in codes
    assert "NoStreetlight" not in codes  # inactive in the master
    street = next(item for item in types if item.service_code == "StreetLightNotWorking")
    assert street.sla_hours == 336 and street.menu_path == "StreetLights"
    localities = await digit.client.localities()
    assert [item.code for item in localities] == ["RV001", "RV002", "RV003"]
    assert localities[0].name == "Harbour"
    for exchange in digit.sent.to("/egov-mdms-service/v1/_search"):
        assert_fits(exchange.json(), "egov-mdms-service.json", "SearchRequest")
        assert_fits(exchange.answer_json(), "egov-mdms-service.json", "MdmsResponse")
        envelope_fits(exchange, "_search")
    assert await digit.client.mdms("NoSuchModule", []) == {}


@pytest.mark.parametrize(
    ("locale", "street_light", "harbour"),
    [
        ("en_IN", "Street light not working", "Harbour"),
        ("es", "Farola que no funciona", "Puerto"),
        ("ar", "إنارة الشارع لا تعمل", "الميناء"),
    ],
)
async def test_localization_gives_the_texts_in_each_language(
    digit: Digit, locale: str, street_light: str, harbour: str
) -> None:
    pgr = {m.code: m for m in await digit.client.messages(locale, "rainmaker-pgr")}
    assert pgr["SERVICEDEFS.STREETLIGHTNOTWORKING"].message == street_light
    assert pgr["SERVICEDEFS.STREETLIGHTNOTWORKING"].locale == locale
    assert "CS_COMMON_PENDINGFORASSIGNMENT" in pgr
    places = {m.code: m.message for m in await digit.client.messages(locale, f"rainmaker-{CITY}")}
    assert places["PB_RIVERSIDE_ADMIN_RV001"] == harbour
    for exchange in digit.sent.to("/localization/messages/v1/_search"):
        assert_fits(exchange.query, "egov-localization.json", "SearchQuery")
        assert_fits(exchange.json(), "common.json", "RequestInfoWrapper")
        assert_fits(exchange.answer_json(), "egov-localization.json", "MessagesResponse")
    assert await digit.client.messages("fr", "rainmaker-pgr") == []


# Faults


@pytest.mark.parametrize("mode", ["not-json", "wrong-shape"])
async def test_a_malformed_answer_is_a_clear_error(
    digit: Digit, sandbox: Sandbox, mode: str
) -> None:
    switch = await call("PUT", f"{sandbox.url}/_sandbox/digit/malformed", json={"mode": mode})
    switch.raise_for_status()
    with pytest.raises(BackendError) as broken:
        await digit.client.messages("en_IN", "rainmaker-pgr")
    assert not isinstance(broken.value, BackendRejected | BackendUnavailable)
    assert str(broken.value).startswith("digit: unexpected answer")
    assert await digit.client.messages("en_IN", "rainmaker-pgr")  # one answer only


async def test_digit_down_failing_or_slow_is_unavailable(digit: Digit, sandbox: Sandbox) -> None:
    sandbox.set_fault("digit", down=True)
    with pytest.raises(BackendUnavailable, match="answered 503"):
        await digit.client.complaint_types()
    sandbox.set_fault("digit", error_rate=1.0)
    with pytest.raises(BackendUnavailable, match="answered 500"):
        await digit.client.fetch_bill("PB-TL-X", "TL")
    sandbox.set_fault("digit", delay_ms=2500)
    with pytest.raises(BackendUnavailable, match="timed out"):
        await digit.client.localities()
    assert [item["request_id"] for item in sandbox.requests("digit")][:1] == ["digit-test"]


# The stand-in's clock (in process)


def test_the_clock_moves_complaints_on_and_stops_a_licence_at_its_bill() -> None:
    state = DigitState(step_seconds=10)
    state.move(PGR, "PB-PGR-TEST-1", CITY, "APPLY")
    state.move(NEW_TL, "PB-TL-TEST-1", CITY, "APPLY")
    later = time.monotonic() + 11
    for _ in range(5):
        state.tick(later)
        later += 11
    assert state.processes["PB-PGR-TEST-1"].state == "CLOSEDAFTERRESOLUTION"
    assert state.processes["PB-TL-TEST-1"].state == "PENDINGPAYMENT"
    assert [bill["consumerCode"] for bill in state.bills.values()] == ["PB-TL-TEST-1"]
    state.tick(later + 100)
    assert state.processes["PB-TL-TEST-1"].state == "PENDINGPAYMENT"  # waits for the payer
