"""Services reaching DIGIT through its contract (portal/contracts/digit.py), end to end: the
portal and its worker in-process, DIGIT's stand-in in the sandbox over HTTP.

A missed bin goes to PGR as a complaint with its photo, once; a street trading licence goes
through workflow v2 (APPLY, sent back, answered, resumed), its bill shown as a fee, paid at our
gateway and reported to collection services once; DIGIT's refusals park the message with DIGIT's
own words for operators and plain words for the citizen; a malformed answer parks it too."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
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
from portal.outbox.models import OutboxMessage
from portal.payments.models import Payment
from portal.settings import Settings
from tests.journey_support import PNG, answer, draft_path, execute, reference_of, run_worker, submit
from tests.support import csrf_token, sign_in_as

SUCCESS_CARD = "4444333322221111"
TENANT = "pb.riverside"


class _Page(HTMLParser):
    """A page as a reader sees it: its visible text, and the titles of its timeline."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self.titles: list[str] = []
        self._skip = 0
        self._title: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif "fd-timeline__title" in (dict(attrs).get("class") or ""):
            self._title = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        elif tag == "h3" and self._title is not None:
            self.titles.append(" ".join("".join(self._title).split()))
            self._title = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.words.append(data)
        if self._title is not None:
            self._title.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.words).split())


def read(client: TestClient[Any], reference: str) -> _Page:
    page = _Page()
    page.feed(client.get(f"/applications/{reference}").text)
    return page


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    # Departments that do not push are asked at every worker pass the test makes.
    return make_settings(database_url=database_url, case_check_seconds=0.001)


@pytest.fixture
def lee(settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(settings)) as client:
        assert sign_in_as(client, "lee").status_code == 303
        yield client


@pytest.fixture(autouse=True)
def digit_answers_normally(sandbox: Sandbox) -> Iterator[None]:
    yield
    httpx.put(f"{sandbox.url}/_sandbox/digit/malformed", json={"mode": None}).raise_for_status()


# DIGIT's stand-in, as its testers and its staff use it


def overview(sandbox: Sandbox) -> dict[str, Any]:
    response = httpx.get(f"{sandbox.url}/_sandbox/digit")
    response.raise_for_status()
    return dict(response.json())


def steps_of(sandbox: Sandbox, business_id: str) -> list[dict[str, Any]]:
    return list(overview(sandbox)["processes"][business_id])


def move(sandbox: Sandbox, business_id: str, state: str | None = None) -> None:
    command = {"state": state} if state else None
    url = f"{sandbox.url}/_sandbox/digit/processes/{business_id}/advance"
    httpx.post(url, json=command).raise_for_status()


def employee_action(sandbox: Sandbox, business_id: str, action: str, comment: str) -> None:
    """A DIGIT employee takes an action with a comment, through DIGIT's own API."""
    info = {"apiId": "employee-ui", "ver": "1.0", "ts": 0, "action": "_transition", "msgId": "m"}
    instance = {
        "tenantId": TENANT,
        "businessService": "NewTL",
        "businessId": business_id,
        "action": action,
        "moduleName": "tl-services",
        "comment": comment,
    }
    response = httpx.post(
        f"{sandbox.url}/digit/egov-workflow-v2/egov-wf/process/_transition",
        json={"RequestInfo": info, "ProcessInstances": [instance]},
    )
    response.raise_for_status()


def collection_payments(sandbox: Sandbox, transaction_number: str) -> list[dict[str, Any]]:
    return [
        payment
        for payment in overview(sandbox)["payments"]
        if payment["transactionNumber"] == transaction_number
    ]


def malformed(sandbox: Sandbox, mode: str, count: int = 1) -> None:
    url = f"{sandbox.url}/_sandbox/digit/malformed"
    httpx.put(url, json={"mode": mode, "count": count}).raise_for_status()


# The portal's side


def case_number(page: _Page) -> str:
    match = re.search(r"Case number (\S+)", page.text)
    assert match, page.text
    return match.group(1)


def messages(settings: Settings, reference: str) -> list[OutboxMessage]:
    """The outbox messages of one application's department requests and payments."""

    async def load() -> list[OutboxMessage]:
        engine = make_engine(settings.database_url)
        async with AsyncSession(engine) as db:
            application = await db.scalar(
                select(Application).where(Application.reference == reference)
            )
            assert application is not None
            requests = set(
                (
                    await db.scalars(
                        select(DepartmentRequest.id).where(
                            DepartmentRequest.application_id == application.id
                        )
                    )
                ).all()
            )
            payments = set(
                (
                    await db.scalars(
                        select(Payment.id).where(Payment.application_id == application.id)
                    )
                ).all()
            )
            found = await db.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            rows = [
                message
                for message in found.all()
                if message.payload.get("request_id") in requests
                or (
                    message.kind == "payment_report"
                    and message.payload.get("payment_id") in payments
                )
            ]
        await engine.dispose()
        return rows

    return list(run_async(load()))


def due_now(settings: Settings) -> None:
    """Retries waiting for their backoff are due now."""
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.status == "pending")
        .values(next_attempt_at=datetime.now(UTC))
    )
    run_async(execute(settings.database_url, statement))


def report_missed_bin(client: TestClient[Any], description: str) -> str:
    base = draft_path(client, "report-a-problem")
    answer(client, f"{base}/category", {"category": "missed-bin"})
    answer(client, f"{base}/place", {"action": "find", "place-query": "12 harbour"})
    answer(client, f"{base}/place", {"place-choice": "addr-0003"})
    answer(client, f"{base}/description", {"description": description})
    photo = answer(client, f"{base}/photo", {}, {"photo": ("bins.png", PNG, "image/png")})
    assert photo.status_code == 303
    return reference_of(submit(client, base))


def apply_for_licence(client: TestClient[Any], trading_name: str) -> str:
    base = draft_path(client, "street-trading-licence")
    for step, data in (
        ("trading-name", {"trading_name": trading_name}),
        ("goods", {"goods": "food"}),
        ("goods-description", {"goods_description": "Churros and hot chocolate."}),
        ("pitch", {"pitch_address-line1": "Plaza Mayor, by the fountain"}),
    ):
        assert answer(client, f"{base}/{step}", data).status_code == 303, step
    photo = answer(client, f"{base}/photo", {}, {"stand_photo": ("cart.png", PNG, "image/png")})
    assert photo.status_code == 303
    contact = {"contact_name": "Lee Chen", "contact_email": "lee@example.org", "contact_phone": ""}
    assert answer(client, f"{base}/contact", contact).status_code == 303
    return reference_of(submit(client, base))


def licence_with_fee_due(client: TestClient[Any], settings: Settings, sandbox: Sandbox) -> str:
    """A licence applied for, forwarded twice and approved: DIGIT's bill is our fee."""
    reference = apply_for_licence(client, f"Churros {uuid.uuid4().hex[:6]}")
    run_worker(settings)
    business_id = case_number(read(client, reference))
    for _ in range(3):  # FORWARD, FORWARD, APPROVE
        move(sandbox, business_id)
    run_worker(settings, check_cases=True)
    return reference


def pay(client: TestClient[Any], reference: str) -> str:
    """Press Pay and pay on the gateway's card page; returns the gateway's payment id."""
    token = csrf_token(client.get(f"/applications/{reference}").text)
    started = client.post(
        f"/applications/{reference}/fees/licensing/pay",
        data={"_csrf_token": token},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    card_page = started.headers["location"]
    form = {"card-number": SUCCESS_CARD, "expiry": "12/39", "cvc": "123", "name": "Lee Chen"}
    back = httpx.post(card_page, data={**form, "action": "pay"})
    assert back.status_code == 303, back.text
    receipt = client.get(httpx.URL(back.headers["location"]).path)
    assert receipt.status_code == 200 and "Payment received" in receipt.text
    return card_page.rstrip("/").rsplit("/", 1)[-1]


# Complaints (PGR)


def test_a_missed_bin_reaches_pgr_once_with_its_photo_and_its_states_show_once_each(
    lee: TestClient[Any], settings: Settings, sandbox: Sandbox
) -> None:
    description = f"Bins at number 12 not emptied since Monday {uuid.uuid4().hex[:6]}"
    reference = report_missed_bin(lee, description)
    run_worker(settings)
    run_worker(settings, check_cases=True)  # asked again: nothing new, nothing sent twice
    page = read(lee, reference)
    assert "Street cleaning and sanitation" in page.text
    assert page.titles.count("Received by the department") == 1
    complaint_id = case_number(page)

    [complaint] = [
        item
        for item in overview(sandbox)["complaints"]
        if item["service"]["serviceRequestId"] == complaint_id
    ]
    service = complaint["service"]
    assert complaint["create_calls"] == 1
    assert service["serviceCode"] == "GarbageNeedsTobeCleared"
    assert service["description"] == description
    assert service["address"]["locality"]["code"] == "RV001"
    assert "12 Harbour Street" in service["address"]["landmark"]
    assert service["address"]["geoLocation"]["latitude"] != 0
    [photo] = complaint["workflow"]["verificationDocuments"]
    stored = httpx.get(
        f"{sandbox.url}/digit/filestore/v1/files/id",
        params={"tenantId": TENANT, "fileStoreId": photo["fileStoreId"]},
    )
    assert stored.content == PNG  # the citizen's photo itself

    move(sandbox, complaint_id)  # ASSIGN: being worked on
    run_worker(settings, check_cases=True)
    move(sandbox, complaint_id, "PENDINGFORREASSIGNMENT")  # still being worked on
    move(sandbox, complaint_id, "PENDINGATLME")
    run_worker(settings, check_cases=True)
    run_worker(settings, check_cases=True)
    assert read(lee, reference).titles.count("Being reviewed") == 1
    move(sandbox, complaint_id)  # RESOLVE
    run_worker(settings, check_cases=True)
    titles = read(lee, reference).titles
    for title in ("Received by the department", "Being reviewed", "Fixed"):
        assert titles.count(title) == 1, titles
    assert titles.index("Fixed") < titles.index("Being reviewed")  # newest first
    assert [(m.kind, m.status) for m in messages(settings, reference)] == [("deliver", "done")]


def test_a_complaint_waits_while_digit_is_down_and_the_citizen_is_told(
    lee: TestClient[Any], settings: Settings, sandbox: Sandbox
) -> None:
    reference = report_missed_bin(lee, f"Overflowing bins {uuid.uuid4().hex[:6]}")
    sandbox.set_fault("digit", down=True)
    run_worker(settings)
    [message] = [m for m in messages(settings, reference) if m.status == "pending"]
    assert "503" in message.last_error
    shown = read(lee, reference).text
    assert "We are having trouble sending this to Street cleaning and sanitation." in shown
    assert "We will keep trying." in shown
    sandbox.set_fault("digit", down=False)
    due_now(settings)
    run_worker(settings)
    page = read(lee, reference)
    assert "We are having trouble" not in page.text
    assert "Received by the department" in page.titles


def test_a_malformed_digit_answer_parks_the_complaint_and_nothing_is_filed(
    lee: TestClient[Any], settings: Settings, sandbox: Sandbox
) -> None:
    description = f"Rubbish left by the bins {uuid.uuid4().hex[:6]}"
    reference = report_missed_bin(lee, description)
    malformed(sandbox, "wrong-shape")
    run_worker(settings)
    due_now(settings)
    run_worker(settings)  # parked: not tried again
    [message] = [m for m in messages(settings, reference) if m.kind == "deliver"]
    assert message.status == "failed"
    assert message.attempts == 1
    assert "does not fit its contract" in message.last_error
    filed = [
        c for c in overview(sandbox)["complaints"] if c["service"]["description"] == description
    ]
    assert filed == []
    page = read(lee, reference)
    assert "Could not be sent: we are looking into it" in page.titles
    assert "We are having trouble sending this to Street cleaning and sanitation." in page.text


# Licences (workflow v2, NewTL)


def test_a_licence_is_applied_for_sent_back_answered_and_resumed(
    lee: TestClient[Any], settings: Settings, sandbox: Sandbox
) -> None:
    name = f"Churros {uuid.uuid4().hex[:6]}"
    reference = apply_for_licence(lee, name)
    run_worker(settings)
    run_worker(settings)
    page = read(lee, reference)
    assert "Received by the department" in page.titles
    business_id = case_number(page)
    [applied] = steps_of(sandbox, business_id)
    assert applied["action"] == "APPLY" and applied["businessService"] == "NewTL"
    assert name in applied["comment"] and "Churros and hot chocolate." in applied["comment"]
    assert [d["documentType"] for d in applied["documents"]] == ["STAND_PHOTO"]

    question = "Send a photo that shows the size of your cart."
    employee_action(sandbox, business_id, "SENDBACKTOCITIZEN", question)
    run_worker(settings, check_cases=True)
    page = read(lee, reference)
    assert "Shop and street trading licensing needs more information" in page.text
    assert question in page.text

    html = lee.get(f"/applications/{reference}").text
    sent = lee.post(
        f"/applications/{reference}/information/licensing",
        data={"_csrf_token": csrf_token(html), "information": "It is 2 by 1 metres."},
        files={"attachment": ("size.png", PNG, "image/png")},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    run_worker(settings)
    run_worker(settings, check_cases=True)
    steps = steps_of(sandbox, business_id)
    resubmits = [s for s in steps if s["action"] == "RESUBMIT"]
    assert len(resubmits) == 1 and resubmits[0]["comment"] == "It is 2 by 1 metres."
    assert [d["documentType"] for d in resubmits[0]["documents"]] == ["CITIZENRESPONSE"]
    assert steps[-1]["state"]["state"] == "APPLIED"  # resumed
    titles = read(lee, reference).titles
    assert titles[:2] == ["Being reviewed", "You sent more information"]
    assert titles.count("More information needed") == 1


def test_the_bill_is_a_fee_paid_at_our_gateway_and_reported_to_collection_once(
    lee: TestClient[Any], settings: Settings, sandbox: Sandbox
) -> None:
    reference = licence_with_fee_due(lee, settings, sandbox)
    page = read(lee, reference)
    assert "Shop and street trading licensing asks for a fee of €1,500.00" in page.text
    assert "Pay €1,500.00" in page.text
    business_id = case_number(page)

    gateway_id = pay(lee, reference)
    run_worker(settings)
    run_worker(settings, check_cases=True)
    [payment] = collection_payments(sandbox, gateway_id)
    assert payment["totalAmountPaid"] == 1500 and payment["paymentMode"] == "ONLINE"
    assert payment["paymentDetails"][0]["bill"]["consumerCode"] == business_id
    assert steps_of(sandbox, business_id)[-1]["state"]["state"] == "APPROVED"
    titles = read(lee, reference).titles
    assert titles.count("Fee paid") == 1 and titles.count("Fee to pay") == 1
    assert titles[0] == "Approved"
    sent = [(m.kind, m.status) for m in messages(settings, reference)]
    assert sent == [("deliver", "done"), ("payment_report", "done")]


def test_a_payment_whose_answer_was_lost_is_reported_once(
    lee: TestClient[Any], settings: Settings, sandbox: Sandbox
) -> None:
    reference = licence_with_fee_due(lee, settings, sandbox)
    business_id = case_number(read(lee, reference))
    gateway_id = pay(lee, reference)
    sandbox.set_fault("digit", down=True)  # the worker's first report does not get through
    run_worker(settings)
    sandbox.set_fault("digit", down=False)
    # Its retry reaches DIGIT, which records the payment, but the answer is lost on the way back
    # (made here by hand, with the bill and our payment id, as the lost try sent them).
    bill = next(b for b in overview(sandbox)["bills"] if b["consumerCode"] == business_id)
    lost = {
        "tenantId": TENANT,
        "totalDue": 1500,
        "totalAmountPaid": 1500,
        "transactionNumber": gateway_id,
        "paymentMode": "ONLINE",
        "paidBy": "Front Door",
        "mobileNumber": "910000010",
        "paymentDetails": [
            {
                "billId": bill["id"],
                "totalDue": 1500,
                "totalAmountPaid": 1500,
                "businessService": "TL",
            }
        ],
    }
    info = {"apiId": "frontdoor", "ver": "1.0", "ts": 0, "action": "_create", "msgId": "lost"}
    httpx.post(
        f"{sandbox.url}/digit/collection-services/payments/_create",
        json={"RequestInfo": info, "Payment": lost},
    ).raise_for_status()
    due_now(settings)
    run_worker(settings)
    run_worker(settings, check_cases=True)
    assert len(collection_payments(sandbox, gateway_id)) == 1
    [report] = [m for m in messages(settings, reference) if m.kind == "payment_report"]
    assert report.status == "done" and report.attempts == 2
    titles = read(lee, reference).titles
    assert titles.count("Fee paid") == 1 and titles[0] == "Approved"


def test_a_digit_refusal_parks_the_message_with_digits_words_and_the_citizen_is_told(
    lee: TestClient[Any], settings: Settings, sandbox: Sandbox
) -> None:
    reference = apply_for_licence(lee, f"Crêpes {uuid.uuid4().hex[:6]}")
    run_worker(settings)
    business_id = case_number(read(lee, reference))
    employee_action(sandbox, business_id, "SENDBACKTOCITIZEN", "Which days will you trade?")
    run_worker(settings, check_cases=True)
    html = lee.get(f"/applications/{reference}").text
    sent = lee.post(
        f"/applications/{reference}/information/licensing",
        data={"_csrf_token": csrf_token(html), "information": "Saturdays only."},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    move(sandbox, business_id, "REJECTED")  # DIGIT moves on before our answer arrives
    run_worker(settings)
    [parked] = [m for m in messages(settings, reference) if m.kind == "information"]
    assert parked.status == "failed" and parked.attempts == 1
    assert "INVALID_ACTION" in parked.last_error
    assert "Action RESUBMIT is not allowed in state REJECTED" in parked.last_error
    assert not [s for s in steps_of(sandbox, business_id) if s["action"] == "RESUBMIT"]
    page = read(lee, reference)
    assert "We are having trouble sending this to Shop and street trading licensing." in page.text
    assert "Our team is looking into it." in page.text


def test_a_digit_department_with_a_wrong_config_stops_the_start_naming_it() -> None:
    from portal.catalogue.models import Department

    with pytest.raises(ValueError) as error:
        Department(
            id="licensing",
            name="Licensing",
            contract="digit",
            config={"module": "workflow", "business_service": "NewTL"},
            pushes=False,
        )
    assert "department 'licensing': config.module_name: Value error, required" in str(error.value)
