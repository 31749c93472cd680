"""A fee paid before sending (issue 18, item 7): the amount from the definition and the answers,
paid once at the gateway, then exactly one application, however the news of the payment
arrives (the citizen's return, the webhook, the worker) and however often the button is pressed."""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from litestar.testing import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import Sandbox, migrate, run_async
from portal.applications.models import Application, TimelineEvent
from portal.audit import AuditLog
from portal.catalogue.extract import texts_in
from portal.catalogue.loader import load_catalogue
from portal.catalogue.models import Service
from portal.database import make_engine
from portal.forms import engine
from portal.i18n.locale import use_locale
from portal.identity.models import Citizen
from portal.payments.models import Payment
from portal.payments.service import apply
from portal.payments.upfront import fee_minor, send_paid
from portal.payments.work import PaymentWork
from portal.settings import Settings
from portal.shared.backends import make_backends
from tests.conftest import PortalFactory
from tests.journey_support import answer, case_of, execute, run_worker
from tests.pay_first_support import SERVICE, SERVICES, fill, pay_first_catalogue
from tests.support import csrf_token, sign_in_as
from tests.test_payments import (
    DECLINED,
    SUCCESS,
    gateway_payments,
    pay_on_card_page,
    webhook,
)

SOURCE = (SERVICES / f"{SERVICE}.yaml").read_text()
DEFINITION: dict[str, Any] = yaml.safe_load(SOURCE)


def _service(change: Callable[[dict[str, Any]], Any] | None = None) -> Service:
    data = copy.deepcopy(DEFINITION)
    if change:
        change(data)
    return Service.model_validate(data)


# The definition.


def test_the_department_paid_gets_the_fee_even_when_it_asks_for_some_answers_only() -> None:
    def two_departments(data: dict[str, Any]) -> None:
        data["deliver_to"] = [
            {"department": "trade-licence", "answers": ["copies"]},
            {"department": "tax", "answers": ["copies"]},
        ]

    service = _service(two_departments)
    paid = {"amount": "50.00", "reference": "pay_1"}
    answers = {"vehicle_type": "petrol", "copies": 1, engine.PAID_KEY: paid}
    licence, tax = service.deliver_to
    assert engine.answers_for(service, licence, answers) == {"copies": 1, "_fee": paid}
    assert engine.answers_for(service, tax, answers) == {"copies": 1}


@pytest.mark.parametrize(
    ("answers", "cents"),
    [
        ({"vehicle_type": "petrol", "copies": 1}, 5000),
        ({"vehicle_type": "petrol", "copies": 2}, 10000),
        ({"vehicle_type": "electric", "copies": 3}, 7500),
        ({"vehicle_type": "electric"}, 2500),  # `per` not answered counts once
    ],
)
def test_the_fee_comes_from_the_first_rule_that_holds_times_per(
    answers: dict[str, Any], cents: int
) -> None:
    assert fee_minor(_service(), answers) == cents


def test_a_service_without_a_fee_has_none_and_no_rules_is_the_amount() -> None:
    assert fee_minor(_service(lambda d: d.pop("fee")), {"copies": 2}) is None
    flat = _service(lambda d: d["fee"].update(rules=[], per=None))
    assert fee_minor(flat, {"vehicle_type": "electric", "copies": 4}) == 5000


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["fee"].update(amount=50), "write a positive amount with two decimal places"),
        (lambda d: d["fee"].update(amount="50"), "two decimal places"),
        (lambda d: d["fee"].update(amount="0.00"), "positive amount"),
        (lambda d: d["fee"].update(amount="-5.00"), "positive amount"),
        (lambda d: d["fee"]["rules"][0].update(amount="25.5"), "two decimal places"),
        (
            lambda d: d["fee"]["rules"][0]["when"].update(field="colour"),
            "fee.rules[0].when names 'colour', which no step asks",
        ),
        (
            lambda d: d["fee"].update(per="contact_name"),
            "fee.per names 'contact_name', which is not a number field",
        ),
        (lambda d: d["fee"].update(per="pages"), "fee.per names 'pages'"),
        (
            lambda d: d["fee"].update(department="tax"),
            "fee.department names 'tax', which no deliver_to sends the application to",
        ),
        (lambda d: d["fee"].pop("description"), "description"),
        (lambda d: d["fee"].update(price="1.00"), "Extra inputs are not permitted"),
    ],
)
def test_a_wrong_fee_is_refused_with_what_to_do(
    change: Callable[[dict[str, Any]], Any], message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        _service(change)
    assert message in str(error.value)


def test_the_fee_description_goes_to_the_translators_and_its_amounts_do_not() -> None:
    texts = {text for _, text in texts_in(SOURCE)}
    assert "Resident parking permit" in texts
    assert "50.00" not in texts and "25.00" not in texts and "copies" not in texts


# Through the portal, with the sandbox's gateway.


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def own_database(request: pytest.FixtureRequest, fresh_database: Callable[[str], str]) -> str:
    """A database of these tests' own (the shared one must not keep applications of a service
    only this catalogue has)."""
    url = fresh_database(request.param)
    migrate(url)
    return url


@pytest.fixture
def catalogue_dir(tmp_path: Path) -> Path:
    return pay_first_catalogue(tmp_path / "catalogue")


@pytest.fixture
def settings(
    make_settings: Callable[..., Settings], own_database: str, catalogue_dir: Path
) -> Settings:
    return make_settings(database_url=own_database, catalogue_dir=catalogue_dir)


@pytest.fixture
def omar(
    portal_factory: PortalFactory, own_database: str, catalogue_dir: Path, settings: Settings
) -> Iterator[TestClient[Any]]:
    client = portal_factory(database_url=own_database, catalogue_dir=catalogue_dir)
    assert sign_in_as(client, "omar").status_code == 303
    yield client
    run_worker(settings)  # no later test's worker finds this one's messages
    use_locale("en")


def press(client: TestClient[Any], base: str, page: str | None = None) -> Any:
    """'Continue to payment' on the check page (with a page already open: pass its text)."""
    text = page if page is not None else client.get(f"{base}/check").text
    return client.post(
        f"{base}/submit", data={"_csrf_token": csrf_token(text)}, follow_redirects=False
    )


def draft_id(base: str) -> str:
    return base.rsplit("/", 1)[1]


def rows(database_url: str, model: Any, *where: Any) -> list[Any]:
    async def read() -> list[Any]:
        engine = make_engine(database_url)
        async with AsyncSession(engine) as db:
            found = list((await db.scalars(select(model).where(*where).order_by(model.id))).all())
        await engine.dispose()
        return found

    return list(run_async(read()))


def payments_of(database_url: str, base: str) -> list[Payment]:
    return rows(database_url, Payment, Payment.purpose == f"draft:{draft_id(base)}")


def applications_of(database_url: str, reference: str) -> list[Application]:
    return rows(database_url, Application, Application.reference == reference)


def test_the_check_page_says_the_fee_and_paying_sends_exactly_one_application(
    omar: TestClient[Any], sandbox: Sandbox, own_database: str, settings: Settings
) -> None:
    base = fill(omar, vehicle="petrol", copies="2")
    check = omar.get(f"{base}/check").text
    assert "Fee to pay" in check and "€100.00" in check
    assert "Continue to payment" in check and "Accept and send" not in check
    # A double click: one attempt at the gateway, the same card page both times.
    first, second = press(omar, base, check), press(omar, base, check)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    payments = payments_of(own_database, base)
    assert len(payments) == 1 and payments[0].amount_minor == 10000
    reference = payments[0].reference
    assert len(gateway_payments(sandbox, reference)) == 1
    assert applications_of(own_database, reference) == []  # nothing is sent before paying

    back = pay_on_card_page(first.headers["location"], SUCCESS)
    page = omar.get(back).text
    assert "Payment received" in page and "Resident parking permit" in page
    assert "We have sent your application" in page and reference in page
    assert len(applications_of(own_database, reference)) == 1
    assert omar.get(back).status_code == 200  # coming back again sends nothing more
    # The button again (another tab): the application already sent, never a second payment.
    again = press(omar, base, check)
    assert again.headers["location"] == f"/applications/{reference}/confirmation"
    assert len(applications_of(own_database, reference)) == 1
    assert [p.status for p in payments_of(own_database, base)] == ["success"]

    shown = omar.get(f"/applications/{reference}").text
    assert shown.count('fd-timeline__title">Fee paid<') == 1 and "€100.00" in shown
    receipt = omar.get(f"/payments/{payments[0].public_id}/receipt.pdf")
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF")

    run_worker(settings)
    data = case_of(sandbox, "trade-licence", reference)["request"]["data"]
    assert data["_fee"]["amount_minor"] == 10000 and data["_fee"]["currency"] == "EUR"
    assert (
        data["_fee"]["payment_reference"] == gateway_payments(sandbox, reference)[0]["payment_id"]
    )
    assert data["copies"] in (2, "2", 2.0)


def test_a_declined_card_goes_back_to_the_check_page_and_trying_again_pays_once(
    omar: TestClient[Any], sandbox: Sandbox, own_database: str
) -> None:
    base = fill(omar, vehicle="electric", copies="1")
    check = omar.get(f"{base}/check").text
    assert "€25.00" in check
    back = pay_on_card_page(press(omar, base, check).headers["location"], DECLINED)
    returned = omar.get(back, follow_redirects=False)
    assert returned.status_code == 303
    assert returned.headers["location"] == f"{base}/check?payment={back.rsplit('/', 1)[1]}"
    told = omar.get(returned.headers["location"]).text
    assert "Your payment was declined" in told and "You have not been charged." in told
    assert "Electric" in told and "Omar Haddad" in told  # the answers are kept
    retry = press(omar, base, told)
    assert retry.status_code == 303
    pay_on_card_page(retry.headers["location"], SUCCESS)
    payments = payments_of(own_database, base)
    assert [p.status for p in payments] == ["failed", "created"]
    assert payments[0].reference == payments[1].reference  # one reference for the application
    assert "Payment received" in omar.get(f"/payments/{payments[1].public_id}").text
    assert len(applications_of(own_database, payments[0].reference)) == 1


def test_changing_the_answers_during_a_payment_never_resumes_it_for_another_amount(
    omar: TestClient[Any], own_database: str
) -> None:
    base = fill(omar, vehicle="petrol", copies="2")
    started = press(omar, base)
    assert answer(omar, f"{base}/copies?change=1", {"copies": "1"}).status_code == 303
    check = omar.get(f"{base}/check").text
    assert "€50.00" in check
    refused = press(omar, base, check)
    ours = payments_of(own_database, base)
    assert len(ours) == 1 and ours[0].amount_minor == 10000
    assert refused.headers["location"] == f"{base}/check?payment={ours[0].public_id}"
    told = omar.get(refused.headers["location"]).text
    assert "You started paying €100.00 before changing your answers" in told
    assert started.headers["location"] in told  # where to finish or cancel it
    # Cancelled at the gateway: the fee for the answers now is what is paid.
    cancel(omar, started.headers["location"])
    pay_on_card_page(press(omar, base).headers["location"], SUCCESS)
    ours = payments_of(own_database, base)
    assert [(p.status, p.amount_minor) for p in ours] == [("cancelled", 10000), ("created", 5000)]
    assert "Payment received" in omar.get(f"/payments/{ours[1].public_id}").text
    (application,) = applications_of(own_database, ours[0].reference)
    assert application.answers["_fee"]["amount_minor"] == 5000


def cancel(client: TestClient[Any], next_url: str) -> None:
    """'Cancel payment' on the gateway's page, and back to the portal."""
    answer = httpx.post(next_url, data={"action": "cancel"})
    assert answer.status_code == 303, answer.text
    back = client.get(urlsplit(answer.headers["location"]).path, follow_redirects=False)
    assert back.status_code == 303  # to the check page, to try again


def test_a_draft_being_paid_for_is_never_thrown_away(
    omar: TestClient[Any], own_database: str
) -> None:
    base = fill(omar)
    started = press(omar, base)
    token = csrf_token(omar.get(f"{base}/delete").text)
    kept = omar.post(f"{base}/delete", data={"_csrf_token": token}, follow_redirects=False)
    (payment,) = payments_of(own_database, base)
    assert kept.headers["location"] == f"/payments/{payment.public_id}"
    assert omar.get(f"{base}/check").status_code == 200
    cancel(omar, started.headers["location"])
    gone = omar.post(f"{base}/delete", data={"_csrf_token": token}, follow_redirects=False)
    assert gone.headers["location"] == "/applications"


def test_the_return_the_webhook_and_the_worker_racing_send_one_application(
    omar: TestClient[Any], sandbox: Sandbox, own_database: str, settings: Settings
) -> None:
    base = fill(omar)
    back = pay_on_card_page(press(omar, base).headers["location"], SUCCESS)
    (payment,) = payments_of(own_database, base)
    gateway_id = gateway_payments(sandbox, payment.reference)[0]["payment_id"]

    async def racing() -> list[str | None]:
        engine = make_engine(own_database)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        catalogue = load_catalogue(settings.catalogue_dir)
        backends = make_backends(settings, catalogue)

        async def hear() -> str | None:  # what each of the return, webhook and worker do
            async with sessions() as db:
                ours = await db.get(Payment, payment.id)
                assert ours is not None
                found = await backends.payments.get_payment(gateway_id)
                await apply(db, catalogue, AuditLog(sessions), ours, found)
                return await send_paid(db, catalogue, AuditLog(sessions), ours)

        try:
            return list(await asyncio.gather(*(hear() for _ in range(4))))
        finally:
            await backends.aclose()
            await engine.dispose()

    references = run_async(racing())
    assert set(references) == {payment.reference}
    body, headers = webhook(sandbox, gateway_id)
    assert omar.post("/webhooks/payments", content=body, headers=headers).status_code == 200
    assert "Payment received" in omar.get(back).text
    run_worker(settings)
    assert len(applications_of(own_database, payment.reference)) == 1
    (application,) = applications_of(own_database, payment.reference)
    paid = rows(
        own_database,
        TimelineEvent,
        TimelineEvent.application_id == application.id,
        TimelineEvent.status == "paid",
    )
    assert len(paid) == 1
    assert [p.status for p in payments_of(own_database, base)] == ["success"]


def test_the_worker_sends_a_paid_draft_whose_citizen_never_came_back(
    omar: TestClient[Any], sandbox: Sandbox, own_database: str, settings: Settings
) -> None:
    base = fill(omar)
    pay_on_card_page(press(omar, base).headers["location"], SUCCESS)  # tab closed, no webhook
    (payment,) = payments_of(own_database, base)
    assert applications_of(own_database, payment.reference) == []

    async def reconcile() -> int:
        quiet = datetime.now(UTC) - timedelta(minutes=5)
        await execute(
            own_database, update(Payment).where(Payment.id == payment.id).values(updated_at=quiet)
        )
        engine = make_engine(own_database)
        catalogue = load_catalogue(settings.catalogue_dir)
        backends = make_backends(settings, catalogue)
        work = PaymentWork(async_sessionmaker(engine, expire_on_commit=False), backends, catalogue)
        try:
            return await work.reconcile()
        finally:
            await backends.aclose()
            await engine.dispose()

    assert run_async(reconcile()) == 1
    run_worker(settings)
    (application,) = applications_of(own_database, payment.reference)
    assert application.answers["_fee"]["amount_minor"] == 10000
    # The citizen, back later: the draft is sent, the check page is gone, nothing to pay again.
    assert omar.get(f"{base}/check").status_code == 404
    shown = omar.get(f"/applications/{payment.reference}").text
    assert shown.count('fd-timeline__title">Fee paid<') == 1
    assert re.search(r"Submitted|Sent|Application sent", shown)


def test_no_application_is_sent_without_its_payment(
    omar: TestClient[Any], own_database: str
) -> None:
    base = fill(omar)
    started = press(omar, base)  # at the gateway, not paid
    count = rows(own_database, Application, Application.service_id == SERVICE)

    async def applications() -> int:
        engine = make_engine(own_database)
        async with AsyncSession(engine) as db:
            total = await db.scalar(
                select(func.count())
                .select_from(Application)
                .where(Application.service_id == SERVICE)
            )
        await engine.dispose()
        return int(total or 0)

    assert run_async(applications()) == len(count)
    assert omar.get(f"{base}/check").status_code == 200  # still a draft
    cancel(omar, started.headers["location"])


def test_an_agent_sees_the_fee_but_the_citizen_pays_with_a_link(
    omar: TestClient[Any], own_database: str
) -> None:
    """Agents never pay for citizens (as with a department's fee): the check page says the
    fee and offers the link to finish and pay; pressing send anyway starts no payment."""
    omar.cookies.clear()
    assert sign_in_as(omar, "lee").status_code == 303  # the citizen exists
    omar.cookies.clear()
    sign_in_as(omar, "agent", "/staff", staff=True)
    token = csrf_token(omar.get("/staff/citizens").text)
    omar.post(
        "/staff/citizens",
        data={"_csrf_token": token, "purpose": "Call 12: a parking permit", "query": "Lee Smith"},
    )
    lee = rows(own_database, Citizen, Citizen.subject.like("%lee%"))[0].public_id
    token = csrf_token(omar.get(f"/staff/citizens/{lee}/act").text)
    acting = omar.post(
        f"/staff/citizens/{lee}/act",
        data={"_csrf_token": token, "how": "phone", "reason": "A parking permit"},
        follow_redirects=False,
    )
    assert acting.status_code == 303, acting.text[:500]
    base = fill(omar)
    check = omar.get(f"{base}/check").text
    assert "€100.00" in check and "The citizen pays this fee themselves" in check
    assert "Continue to payment" not in check
    assert f'value="draft:{draft_id(base)}"' in check  # the link to finish and pay
    refused = press(omar, base, check)
    assert refused.headers["location"] == f"{base}/check"
    assert payments_of(own_database, base) == []
