"""Paying a fee through the portal and the sandbox gateway: once, never twice, whatever the
order in which the return, the webhook and the worker hear of it."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from litestar.testing import TestClient
from pypdf import PdfReader
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend_clients.payments import SIGNATURE_HEADER, sign
from backend_clients.payments import Payment as GatewayPayment
from conftest import Sandbox, migrate, run_async
from portal.app import create_app
from portal.applications.models import Application, DepartmentRequest
from portal.applications.references import new_reference
from portal.audit import AuditLog
from portal.audit.models import AuditEvent
from portal.catalogue.loader import load_catalogue
from portal.database import make_engine
from portal.payments.models import Payment
from portal.payments.service import Due, apply, start
from portal.payments.work import PaymentWork
from portal.settings import Settings
from portal.shared.backends import make_backends
from tests.journey_support import case_of, execute, run_worker, sent_application
from tests.support import csrf_token, sign_in_as

API_KEY = {"Authorization": "Bearer sandbox-payments-api-key"}
SECRET = b"sandbox-payments-webhook-secret"
SUCCESS, DECLINED, SLOW = "4444333322221111", "4000000000000002", "4000000000000077"


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database_url=database_url)


@pytest.fixture(autouse=True)
def told(settings: Settings) -> Iterator[None]:
    """After each test, the worker tells departments what it settled, so that no later test's
    worker pass finds this one's messages."""
    yield
    run_worker(settings)


@pytest.fixture
def ana(settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(settings)) as client:
        assert sign_in_as(client, "ana").status_code == 303
        yield client


def fee_due(client: TestClient[Any], settings: Settings, sandbox: Sandbox) -> str:
    """An application whose trade licence department has asked for its fee (pushed to us)."""
    reference = sent_application(client, settings)
    case = case_of(sandbox, "trade-licence", reference)
    for status in ("in_review", "fee_due"):
        pushed = sandbox.advance("trade-licence", case["case_id"], status=status)["webhook"]
        headers = {"content-type": "application/json", **pushed["headers"]}
        answer = client.post(
            "/webhooks/departments/trade-licence", content=pushed["body"], headers=headers
        )
        assert answer.status_code == 200
    return reference


def press_pay(client: TestClient[Any], reference: str) -> httpx.Response:
    page = client.get(f"/applications/{reference}")
    return client.post(
        f"/applications/{reference}/fees/trade-licence/pay",
        data={"_csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )


def pay_on_card_page(next_url: str, card: str, expiry: str = "12/39") -> str:
    """What the citizen does on the gateway's page; returns the path we are sent back to."""
    assert httpx.get(next_url).status_code == 200
    form = {"card-number": card, "expiry": expiry, "cvc": "123", "name": "Ana García"}
    answer = httpx.post(next_url, data={**form, "action": "pay"})
    assert answer.status_code == 303, answer.text
    return urlsplit(answer.headers["location"]).path


def gateway_payments(sandbox: Sandbox, reference: str) -> list[dict[str, Any]]:
    listed = httpx.get(f"{sandbox.url}/_sandbox/payments").json()["payments"]
    return [p for p in listed if p["reference"] == reference]


def webhook(sandbox: Sandbox, gateway_id: str, **changes: Any) -> tuple[bytes, dict[str, str]]:
    """The gateway's signed message about a payment, as it is now (fields may be changed)."""
    resource = httpx.get(f"{sandbox.url}/payments/v1/payments/{gateway_id}", headers=API_KEY)
    message = {
        "webhook_message_id": f"wh_{gateway_id}",
        "created_date": datetime.now(UTC).isoformat(),
        "resource_id": gateway_id,
        "resource_type": "payment",
        "event_type": "card_payment_succeeded",
        "resource": {**resource.json(), **changes},
    }
    body = json.dumps(message).encode()
    return body, {"content-type": "application/json", SIGNATURE_HEADER: sign(SECRET, body)}


def fee_paid_entries(client: TestClient[Any], reference: str) -> int:
    page = client.get(f"/applications/{reference}").text
    return page.count('fd-timeline__title">Fee paid<')


def our_payments(database_url: str, reference: str) -> list[Payment]:
    async def read() -> list[Payment]:
        engine = make_engine(database_url)
        async with AsyncSession(engine) as db:
            query = select(Payment).where(Payment.reference == reference).order_by(Payment.id)
            rows = list((await db.scalars(query)).all())
        await engine.dispose()
        return rows

    return list(run_async(read()))


def test_a_fee_is_paid_once_with_receipt_timeline_and_the_department_told(
    ana: TestClient[Any], settings: Settings, sandbox: Sandbox
) -> None:
    reference = fee_due(ana, settings, sandbox)
    page = ana.get(f"/applications/{reference}").text
    assert "Trade licensing office asks for a fee of €150.00" in page and "Pay €150.00" in page
    first, second = press_pay(ana, reference), press_pay(ana, reference)  # a double click
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert first.headers["location"].startswith(f"{sandbox.url}/payments/card/")
    back = pay_on_card_page(first.headers["location"], SUCCESS)
    receipt = ana.get(back)
    assert receipt.status_code == 200 and "Payment received" in receipt.text
    assert "€150.00" in receipt.text and "ending in 1111" in receipt.text
    assert ana.get(back).status_code == 200  # refreshing the return settles nothing twice
    again = press_pay(ana, reference)  # Back to the application, Pay once more
    assert again.headers["location"] == back
    assert len(gateway_payments(sandbox, reference)) == 1
    page = ana.get(f"/applications/{reference}").text
    assert "Pay €150.00" not in page and "See your receipt" in page
    assert fee_paid_entries(ana, reference) == 1
    assert run_worker(settings) >= 1  # the outbox tells the department
    case = case_of(sandbox, "trade-licence", reference)
    assert case["status"] == "paid"
    assert case["events"][-1]["payment_id"] == gateway_payments(sandbox, reference)[0]["payment_id"]
    assert fee_paid_entries(ana, reference) == 1  # the department's "paid" is the same entry
    pdf = ana.get(f"{back}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "Payment receipt" in text and reference in text and "150.00" in text


def test_a_declined_card_says_why_and_trying_again_starts_a_new_attempt(
    ana: TestClient[Any], settings: Settings, sandbox: Sandbox, database_url: str
) -> None:
    reference = fee_due(ana, settings, sandbox)
    first = press_pay(ana, reference).headers["location"]
    back = pay_on_card_page(first, DECLINED)
    page = ana.get(back)
    assert "Your payment did not go through" in page.text
    assert "Your payment was declined" in page.text and "You have not been charged" in page.text
    again = ana.post(
        f"/applications/{reference}/fees/trade-licence/pay",
        data={"_csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )
    assert again.headers["location"] != first
    assert "Payment received" in ana.get(pay_on_card_page(again.headers["location"], SUCCESS)).text
    assert [p.status for p in our_payments(database_url, reference)] == ["failed", "success"]
    assert fee_paid_entries(ana, reference) == 1


def test_the_gateways_webhook_settles_once_in_any_order_and_forgeries_are_refused(
    ana: TestClient[Any], settings: Settings, sandbox: Sandbox, database_url: str
) -> None:
    reference = fee_due(ana, settings, sandbox)
    next_url = press_pay(ana, reference).headers["location"]
    back = pay_on_card_page(next_url, SUCCESS)
    gateway_id = gateway_payments(sandbox, reference)[0]["payment_id"]
    body, headers = webhook(sandbox, gateway_id)
    forged = {**headers, SIGNATURE_HEADER: sign(b"not-the-secret", body)}
    assert ana.post("/webhooks/payments", content=body, headers=forged).status_code == 401
    assert [p.status for p in our_payments(database_url, reference)] == ["created"]
    # A changed amount, even correctly signed, is refused, logged and audited.
    cheap, cheap_headers = webhook(sandbox, gateway_id, amount=1)
    assert ana.post("/webhooks/payments", content=cheap, headers=cheap_headers).status_code == 200
    assert [p.status for p in our_payments(database_url, reference)] == ["created"]
    assert "payment_mismatch" in audit_actions(database_url)
    # The webhook arrives before the citizen's return, twice; then an older one, late.
    for _ in range(2):
        assert ana.post("/webhooks/payments", content=body, headers=headers).status_code == 200
    started, started_headers = webhook(
        sandbox, gateway_id, state={"status": "started", "finished": False}
    )
    late = ana.post("/webhooks/payments", content=started, headers=started_headers)
    assert late.status_code == 200
    assert [p.status for p in our_payments(database_url, reference)] == ["success"]
    assert "Payment received" in ana.get(back).text
    assert fee_paid_entries(ana, reference) == 1


def test_the_return_is_never_trusted_and_a_gateway_payment_unlike_ours_is_refused(
    ana: TestClient[Any], settings: Settings, sandbox: Sandbox, database_url: str
) -> None:
    reference = fee_due(ana, settings, sandbox)
    next_url = press_pay(ana, reference).headers["location"]
    ours = our_payments(database_url, reference)[0].public_id
    forged = ana.get(f"/payments/{ours}", params={"status": "success", "amount": "1"})
    assert "Your payment is not finished" in forged.text  # the gateway says: not paid yet
    back = pay_on_card_page(next_url, SUCCESS)

    # Our record and the gateway's no longer agree on the amount.
    tampered = update(Payment).where(Payment.public_id == ours).values(amount_minor=100)
    run_async(execute(database_url, tampered))
    refused = ana.get(back)
    assert "We are checking your payment" in refused.text and "Payment received" not in refused.text
    assert [p.status for p in our_payments(database_url, reference)] == ["created"]
    assert "payment_mismatch" in audit_actions(database_url)
    assert fee_paid_entries(ana, reference) == 0


def test_gateway_down_charges_nothing_and_a_later_webhook_still_reconciles(
    ana: TestClient[Any], settings: Settings, sandbox: Sandbox, database_url: str
) -> None:
    reference = fee_due(ana, settings, sandbox)
    sandbox.set_fault("payments", down=True)
    refused = press_pay(ana, reference)
    assert refused.status_code == 503
    assert "you cannot pay at the moment" in refused.text and "not been charged" in refused.text
    sandbox.set_fault("payments", down=False)
    assert gateway_payments(sandbox, reference) == []
    back = pay_on_card_page(press_pay(ana, reference).headers["location"], SUCCESS)
    assert len(our_payments(database_url, reference)) == 1  # the same attempt, under the same key
    gateway_id = gateway_payments(sandbox, reference)[0]["payment_id"]
    body, headers = webhook(sandbox, gateway_id)
    sandbox.set_fault("payments", down=True)  # down again when the citizen comes back
    checking = ana.get(back)
    assert "We are checking your payment" in checking.text and "Do not pay again" in checking.text
    assert ana.post("/webhooks/payments", content=body, headers=headers).status_code == 200
    assert "Payment received" in ana.get(back).text
    assert fee_paid_entries(ana, reference) == 1


def test_the_worker_settles_a_payment_whose_citizen_never_came_back(
    ana: TestClient[Any], settings: Settings, sandbox: Sandbox, database_url: str
) -> None:
    reference = fee_due(ana, settings, sandbox)
    pay_on_card_page(press_pay(ana, reference).headers["location"], SUCCESS)  # tab closed
    assert fee_paid_entries(ana, reference) == 0

    async def reconcile() -> int:
        quiet = datetime.now(UTC) - timedelta(minutes=5)
        await execute(
            database_url,
            update(Payment).where(Payment.reference == reference).values(updated_at=quiet),
        )
        engine = make_engine(database_url)
        catalogue = load_catalogue(settings.catalogue_dir)
        backends = make_backends(settings, catalogue)
        work = PaymentWork(async_sessionmaker(engine, expire_on_commit=False), backends, catalogue)
        try:
            return await work.reconcile()
        finally:
            await backends.aclose()
            await engine.dispose()

    assert run_async(reconcile()) == 1
    assert run_async(reconcile()) == 0
    assert fee_paid_entries(ana, reference) == 1
    run_worker(settings)
    assert case_of(sandbox, "trade-licence", reference)["status"] == "paid"


def test_two_tabs_paying_at_the_same_moment_share_one_attempt(
    settings: Settings, sandbox: Sandbox, database_url: str, ana: TestClient[Any]
) -> None:
    reference = fee_due(ana, settings, sandbox)
    request_id = our_request_id(database_url, reference)

    async def both() -> list[str | None]:
        engine = make_engine(database_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        catalogue = load_catalogue(settings.catalogue_dir)
        # The gateway's own time (the suite's 2 s are for the fault tests): the tabs wait on each
        # other, not on a busy machine's sandbox.
        patient = settings.model_copy(update={"backend_timeout_seconds": 10.0})
        backends = make_backends(patient, catalogue)
        due = Due(
            purpose=f"fee:{request_id}",
            kind="fee",
            reference=reference,
            description="Trade licence fee",
            amount_minor=15000,
            currency="EUR",
            department_request_id=request_id,
            department="trade-licence",
        )

        async def tab() -> str | None:
            async with sessions() as db:
                payment = await start(
                    db,
                    backends.payments,
                    catalogue,
                    AuditLog(sessions),
                    due,
                    "en",
                    settings.public_url,
                )
                return payment.next_url

        try:
            return list(await asyncio.gather(tab(), tab(), tab()))
        finally:
            await backends.aclose()
            await engine.dispose()

    urls = run_async(both())
    assert len(set(urls)) == 1 and urls[0]
    assert len(gateway_payments(sandbox, reference)) == 1
    assert len(our_payments(database_url, reference)) == 1


def test_nobody_else_sees_a_payment(
    ana: TestClient[Any], settings: Settings, sandbox: Sandbox
) -> None:
    reference = fee_due(ana, settings, sandbox)
    back = pay_on_card_page(press_pay(ana, reference).headers["location"], SUCCESS)
    with TestClient(create_app(settings)) as omar:
        signed_out = omar.get(back, follow_redirects=False)  # asked to sign in, then 404
        assert signed_out.status_code == 303 and signed_out.headers["location"].startswith(
            "/sign-in"
        )
        assert sign_in_as(omar, "omar").status_code == 303
        assert omar.get(back).status_code == 404
        assert omar.get(f"{back}/receipt.pdf").status_code == 404


def test_the_next_citizen_on_the_same_browser_does_not_see_a_payment(
    ana: TestClient[Any], settings: Settings, sandbox: Sandbox
) -> None:
    reference = fee_due(ana, settings, sandbox)
    back = pay_on_card_page(press_pay(ana, reference).headers["location"], SUCCESS)
    assert "Payment received" in ana.get(back).text
    assert sign_in_as(ana, "omar").status_code == 303  # on the same browser, without signing out
    assert ana.get(back).status_code == 404
    assert ana.get(f"{back}/receipt.pdf").status_code == 404


def test_a_bill_payer_who_signs_in_as_someone_else_loses_the_payment(
    settings: Settings, sandbox: Sandbox
) -> None:
    reference = new_bill(sandbox)
    with TestClient(create_app(settings)) as visitor:  # nobody signed in
        bill = visitor.get(look_up(visitor, reference).headers["location"])
        pay = visitor.post(
            f"/pay-a-bill/{reference}/pay",
            data={"_csrf_token": csrf_token(bill.text)},
            follow_redirects=False,
        )
        back = pay_on_card_page(pay.headers["location"], SUCCESS)
        assert "Payment received" in visitor.get(back).text
        assert sign_in_as(visitor, "omar").status_code == 303
        assert visitor.get(back).status_code == 404
        assert visitor.get(f"{back}/receipt.pdf").status_code == 404
        shown = visitor.get(f"/pay-a-bill/{reference}", follow_redirects=False)
        assert shown.status_code == 303  # the bill found before signing in is forgotten too


def our_request_id(database_url: str, reference: str) -> int:
    async def read() -> int:
        engine = make_engine(database_url)
        async with AsyncSession(engine) as db:
            found = await db.scalar(
                select(DepartmentRequest.id)
                .join(Application, Application.id == DepartmentRequest.application_id)
                .where(
                    Application.reference == reference,
                    DepartmentRequest.department == "trade-licence",
                )
            )
        await engine.dispose()
        assert found is not None
        return int(found)

    return int(run_async(read()))


def audit_actions(database_url: str) -> list[str]:
    async def read() -> list[str]:
        engine = make_engine(database_url)
        async with AsyncSession(engine) as db:
            rows = (await db.scalars(select(AuditEvent.action))).all()
        await engine.dispose()
        return list(rows)

    return list(run_async(read()))


def new_bill(sandbox: Sandbox, amount_minor: int = 6000) -> str:
    """A bill of our own at the tax office, with a valid check character."""
    reference = new_reference("BL")
    bill = {"reference": reference, "description": "Parking fine", "amount_minor": amount_minor}
    httpx.post(f"{sandbox.url}/_sandbox/bills", json=bill).raise_for_status()
    return reference


def look_up(client: TestClient[Any], typed: str) -> httpx.Response:
    form = client.get("/pay-a-bill")
    return client.post(
        "/pay-a-bill",
        data={"_csrf_token": csrf_token(form.text), "reference": typed},
        follow_redirects=False,
    )


def test_a_bill_is_found_by_its_reference_paid_once_and_the_tax_office_told(
    settings: Settings, sandbox: Sandbox, database_url: str
) -> None:
    reference = new_bill(sandbox)
    with TestClient(create_app(settings)) as visitor:  # nobody signed in
        mistyped = reference[:-1] + ("0" if reference[-1] != "0" else "1")
        wrong = look_up(visitor, mistyped)
        assert wrong.status_code == 400 and "exactly as it is on your bill" in wrong.text
        unknown = look_up(visitor, new_reference("BL"))
        assert unknown.status_code == 400 and "There is no bill with that reference" in unknown.text
        found = look_up(visitor, reference.lower().replace("-", " "))  # as people type it
        assert found.headers["location"] == f"/pay-a-bill/{reference}"
        bill = visitor.get(found.headers["location"])
        assert "Parking fine" in bill.text and "Pay €60.00" in bill.text
        pay = visitor.post(
            f"/pay-a-bill/{reference}/pay",
            data={"_csrf_token": csrf_token(bill.text)},
            follow_redirects=False,
        )
        back = pay_on_card_page(pay.headers["location"], SUCCESS)
        receipt = visitor.get(back)
        assert "Payment received" in receipt.text and "€60.00" in receipt.text
        run_worker(settings)
        told = httpx.get(f"{sandbox.url}/bills/v1/bills/{reference}").json()
        assert told["status"] == "paid"
        assert told["payment_id"] == gateway_payments(sandbox, reference)[0]["payment_id"]
        assert "See your receipt" in visitor.get(f"/pay-a-bill/{reference}").text
    with TestClient(create_app(settings)) as stranger:
        assert stranger.get(back).status_code == 404  # another browser
        assert stranger.get(f"/pay-a-bill/{reference}", follow_redirects=False).status_code == 303


def test_bill_look_ups_are_limited_per_address(
    make_settings: Callable[..., Settings],
    sandbox: Sandbox,
    fresh_database: Callable[[str], str],
) -> None:
    """Ten times the per-conversation rate from one address, whichever browser asks (a database
    of its own, so that no other test's look-ups count)."""
    database = fresh_database("sqlite")
    migrate(database)
    settings = make_settings(database_url=database, bill_lookups_per_minute=1)
    with TestClient(create_app(settings)) as visitor:
        for _ in range(10):
            assert look_up(visitor, new_reference("BL")).status_code == 400
        with TestClient(create_app(settings)) as other_browser:  # a new session buys nothing
            limited = look_up(other_browser, new_bill(sandbox))
        assert limited.status_code == 429 and "Wait a minute" in limited.text
        assert look_up(visitor, "BL-0000-0001").status_code == 400  # a typo costs no look-up
    assert "bill_lookup_limited" in audit_actions(database)


def test_admins_reconcile_a_day_of_payments_and_export_it(
    ana: TestClient[Any],
    settings: Settings,
    sandbox: Sandbox,
    database_url: str,
    portal_factory: Any,
) -> None:
    reference = fee_due(ana, settings, sandbox)
    pay_on_card_page(press_pay(ana, reference).headers["location"], SUCCESS)  # not back yet
    admin = portal_factory(database_url=database_url)
    assert sign_in_as(admin, "admin", "/staff", staff=True).status_code == 303
    page = admin.get("/staff/payments")
    assert page.status_code == 200 and reference in page.text
    row = page.text[page.text.index(reference) :].split("</tr>")[0]
    assert "created" in row and "success" in row and "States differ" in row
    export = admin.get("/staff/payments/export.csv")
    assert export.headers["content-type"].startswith("text/csv")
    line = next(line for line in export.text.splitlines() if reference in line)
    assert line.endswith(",created,success,States differ")
    assert admin.get("/staff/payments", params={"day": "2026-02-30"}).status_code == 400
    # Days are the city's (Europe/Madrid): 23:30 UTC on the 4th is 00:30 on the 5th there.
    late = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)
    run_async(
        execute(
            database_url,
            update(Payment).where(Payment.reference == reference).values(created_at=late),
        )
    )
    assert reference not in admin.get("/staff/payments", params={"day": "2026-12-04"}).text
    fifth = admin.get("/staff/payments", params={"day": "2026-12-05"}).text
    assert reference in fifth and "5 December 2026, 00:30" in fifth
    for user in ("agent", "editor"):
        other = portal_factory(database_url=database_url)
        sign_in_as(other, user, "/staff", staff=True)
        assert other.get("/staff/payments").status_code == 403
        assert other.get("/staff/payments/export.csv").status_code == 403
    assert ana.get("/staff/payments", follow_redirects=False).status_code in (303, 403)


def test_stale_news_never_undoes_a_settled_payment(
    ana: TestClient[Any], settings: Settings, sandbox: Sandbox, database_url: str
) -> None:
    """The return read "submitted" just before the webhook settled: its late write is refused."""
    reference = fee_due(ana, settings, sandbox)
    next_url = press_pay(ana, reference).headers["location"]
    gateway_id = next_url.rsplit("/", 1)[-1]
    stale = httpx.get(f"{sandbox.url}/payments/v1/payments/{gateway_id}", headers=API_KEY).json()
    stale["state"] = {"status": "submitted", "finished": False}
    pay_on_card_page(next_url, SUCCESS)

    async def race() -> bool:
        engine = make_engine(database_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        catalogue = load_catalogue(settings.catalogue_dir)
        async with sessions() as reader, sessions() as webhook_side:
            slow = await reader.scalar(select(Payment).where(Payment.reference == reference))
            assert slow is not None and slow.status == "created"
            fresh = await webhook_side.scalar(select(Payment).where(Payment.reference == reference))
            assert fresh is not None
            backends = make_backends(settings, catalogue)
            found = await backends.payments.get_payment(gateway_id)
            await backends.aclose()
            settled = await apply(webhook_side, catalogue, AuditLog(sessions), fresh, found)
            late = GatewayPayment.model_validate(stale)
            await apply(reader, catalogue, AuditLog(sessions), slow, late)
            assert slow.status == "success"  # read back, not overwritten
        await engine.dispose()
        return settled

    assert run_async(race()) is True
    assert [p.status for p in our_payments(database_url, reference)] == ["success"]
    assert fee_paid_entries(ana, reference) == 1


def test_a_second_success_for_one_fee_is_refused_and_audited(
    ana: TestClient[Any], settings: Settings, sandbox: Sandbox, database_url: str
) -> None:
    reference = fee_due(ana, settings, sandbox)
    first_url = press_pay(ana, reference).headers["location"]
    pay_on_card_page(first_url, SUCCESS)  # paid, but we had wrongly given it up

    given_up = update(Payment).where(Payment.reference == reference).values(status="failed")
    run_async(execute(database_url, given_up))
    second = pay_on_card_page(press_pay(ana, reference).headers["location"], SUCCESS)
    assert "Payment received" in ana.get(second).text
    body, headers = webhook(sandbox, first_url.rsplit("/", 1)[-1])
    assert ana.post("/webhooks/payments", content=body, headers=headers).status_code == 200
    assert "payment_second_success" in audit_actions(database_url)
    assert sorted(p.status for p in our_payments(database_url, reference)) == ["failed", "success"]
    assert fee_paid_entries(ana, reference) == 1


def test_a_bill_someone_else_is_paying_is_not_handed_to_a_second_visitor(
    settings: Settings, sandbox: Sandbox
) -> None:
    reference = new_bill(sandbox)
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        look_up(first, reference)
        bill = first.get(f"/pay-a-bill/{reference}")
        started = first.post(
            f"/pay-a-bill/{reference}/pay",
            data={"_csrf_token": csrf_token(bill.text)},
            follow_redirects=False,
        )
        assert started.headers["location"].startswith(f"{sandbox.url}/payments/card/")
        look_up(second, reference)
        page = second.get(f"/pay-a-bill/{reference}")
        refused = second.post(
            f"/pay-a-bill/{reference}/pay", data={"_csrf_token": csrf_token(page.text)}
        )
        assert refused.status_code == 409 and "Someone is paying this bill" in refused.text
        assert sandbox.url not in refused.text
    assert len(gateway_payments(sandbox, reference)) == 1
