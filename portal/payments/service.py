"""Taking a payment once: start or resume the one attempt in play, learn its state from the
gateway (never from the browser), and settle a success exactly once.

However the news arrives (the citizen's return, the gateway's webhook, the worker asking), it goes
through `apply`, which only moves a payment forward and settles it in the same transaction as
its timeline entry and the outbox message that tells the department or the tax office.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Literal

import structlog
from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend_clients.payments import NewPayment, PaymentsClient
from backend_clients.payments import Payment as GatewayPayment
from portal.applications.models import DepartmentRequest
from portal.applications.tracking import add_news
from portal.audit import AuditLog
from portal.catalogue.loader import Catalogue
from portal.contracts.base import News, payment_event_id
from portal.outbox import enqueue
from portal.outbox.models import UNKNOWN_TARGET
from portal.payments.models import FINISHED, LIVE, Payment

log = structlog.get_logger()
ORDER = {status: rank for rank, status in enumerate(LIVE)}  # finished states rank above all
GATEWAY_LANGUAGES = ("en", "es", "ar")


@dataclass(frozen=True)
class Due:
    """Something to pay, with the amount its owner (department, tax office) asks for."""

    purpose: str
    kind: str
    reference: str
    description: str
    amount_minor: int
    currency: str
    citizen_id: int | None = None
    application_id: int | None = None
    department_request_id: int | None = None
    department: str | None = None


class PaymentMismatch(Exception):
    """The gateway's payment is not the one we asked for (amount, reference or ours)."""


def mismatch(payment: Payment, found: GatewayPayment) -> str | None:
    """Why the gateway's payment does not match our attempt, or None."""
    if payment.gateway_id and found.payment_id != payment.gateway_id:
        return "payment id"
    if found.metadata.get("payment") != payment.public_id:
        return "our payment id"
    if found.amount != payment.amount_minor or found.currency != payment.currency:
        return "amount"
    if found.reference != payment.reference:
        return "reference"
    return None


def _rank(status: str) -> int:
    return ORDER.get(status, len(ORDER))


def gateway_request(payment: Payment, public_url: str) -> NewPayment:
    """The create call, the same every time for one attempt (its key must match its body)."""
    language: Literal["en", "es", "ar"] = "en"
    if payment.language in GATEWAY_LANGUAGES:
        language = payment.language  # type: ignore[assignment]
    return NewPayment(
        amount=payment.amount_minor,
        reference=payment.reference,
        description=payment.description,
        return_url=f"{public_url}/payments/{payment.public_id}",
        language=language,
        metadata={"payment": payment.public_id},
    )


async def _current(db: AsyncSession, purpose: str) -> Payment | None:
    """The attempt in play or the one that succeeded (the indexes allow one of each)."""
    found: Payment | None = await db.scalar(
        select(Payment)
        .where(Payment.purpose == purpose, Payment.status.in_((*LIVE, "success")))
        .order_by((Payment.status == "success").desc(), Payment.id.desc())
        .limit(1)
    )
    return found


async def start(
    db: AsyncSession,
    gateway: PaymentsClient,
    catalogue: Catalogue,
    audit: AuditLog,
    due: Due,
    language: str,
    public_url: str,
) -> Payment:
    """The attempt to send the citizen to: the one in play if there is one (two tabs, Back, a
    double click all land here), else a new one. Raises BackendError when the gateway cannot be
    reached: nothing was charged, and the next try uses the same attempt and key."""
    for _ in range(5):
        payment = await _current(db, due.purpose)
        if payment is None:
            payment = Payment(
                purpose=due.purpose,
                kind=due.kind,
                citizen_id=due.citizen_id,
                application_id=due.application_id,
                department_request_id=due.department_request_id,
                department=due.department,
                reference=due.reference,
                description=due.description[:255],
                amount_minor=due.amount_minor,
                currency=due.currency,
                language=language,
            )
            db.add(payment)
            try:
                await db.commit()
            except IntegrityError:  # another tab made one at this moment: use that
                await db.rollback()
                continue
        if payment.status == "success":
            return payment
        if payment.gateway_id is None:
            found = await gateway.create_payment(
                gateway_request(payment, public_url), idempotency_key=payment.public_id
            )
        else:
            found = await gateway.get_payment(payment.gateway_id)
        await apply(db, catalogue, audit, payment, found)
        if payment.status not in FINISHED or payment.status == "success":
            return payment
        # That attempt failed, was cancelled or expired: the loop starts a new one.
    raise RuntimeError(f"no payment attempt could be started for {due.purpose}")


async def apply(
    db: AsyncSession,
    catalogue: Catalogue,
    audit: AuditLog,
    payment: Payment,
    found: GatewayPayment,
) -> bool:
    """Bring our attempt up to the gateway's state; True when this call settled a success.
    Only ever moves forward, so news arriving late or twice changes nothing. Commits."""
    problem = mismatch(payment, found)
    ours, purpose = payment.public_id, payment.purpose
    if problem:  # nothing was written: the attempt stays as it was, for staff to look at
        log.error("payment_mismatch", payment=ours, gateway_payment=found.payment_id, field=problem)
        await audit.record(
            "payment_mismatch",
            actor="gateway",
            subject=f"payment:{ours}",
            field=problem,
            gateway_payment=found.payment_id,
            amount=found.amount,
            reference=found.reference,
        )
        raise PaymentMismatch(problem)
    status = found.state.status
    now = datetime.now(UTC)
    if status != "success":
        # Only from a state this news is newer than: every caller (return, webhook, worker) may
        # be reading the row at once, and a late "submitted" must never undo a success.
        earlier = [s for s in LIVE if _rank(s) < _rank(status) or s == status]
        await db.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.status.in_(earlier))
            .values(
                status=status,
                code=found.state.code,
                gateway_id=found.payment_id,
                next_url=found.next_url if status in LIVE else None,
                updated_at=now,
            )
        )
        await db.commit()
        await db.refresh(payment)
        return False
    try:
        # Success: claimed with a conditional update, so two callers settle once; a success
        # after we had given the attempt up (money taken after all) is settled too.
        claimed = await db.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.status != "success")
            .values(
                status="success",
                code=None,
                next_url=None,
                gateway_id=found.payment_id,
                card_last_four=found.card_last_four,
                paid_at=now,
                updated_at=now,
            )
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            await db.rollback()
            await db.refresh(payment)
            return False
        await db.refresh(payment)
        await _settle(db, catalogue, payment, found, now)
        await db.commit()
    except IntegrityError:
        # Another attempt for the same fee already succeeded: the gateway took the money twice.
        # A person must refund; the reconciliation page shows it (gateway success, ours not).
        await db.rollback()
        log.error("payment_second_success", payment=ours, purpose=purpose)
        await audit.record(
            "payment_second_success",
            actor="gateway",
            subject=f"payment:{ours}",
            purpose=purpose,
            gateway_payment=found.payment_id,
        )
        await db.refresh(payment)
        return False
    await db.refresh(payment)
    log.info("payment_settled", payment=ours, purpose=purpose)
    return True


async def _settle(
    db: AsyncSession,
    catalogue: Catalogue,
    payment: Payment,
    found: GatewayPayment,
    now: datetime,
) -> None:
    """In the success's transaction: "Fee paid" on the timeline, and the owner to be told."""
    if payment.kind == "fee" and payment.department_request_id is not None:
        request = await db.get(DepartmentRequest, payment.department_request_id)
        assert request is not None
        fee = {"amount_minor": payment.amount_minor, "currency": payment.currency}
        news = News(
            external_id=payment_event_id(found.payment_id),
            status="paid",
            at=now,
            data={"fee": fee, "payment": payment.public_id},
        )
        await add_news(db, request, [news], catalogue.certifies(request.department))
    if payment.purpose.startswith("draft:"):
        # Paid before sending: the draft is sent now by whoever comes first (the return, the
        # webhook) and by the worker in any case; sending links the payment to the application.
        enqueue(
            db,
            "send_paid_draft",
            key=f"send-paid-{payment.public_id}",
            target="payments",
            payment_id=payment.id,
        )
        return
    enqueue(
        db,
        "payment_report",
        key=f"payment-report-{payment.public_id}",
        target=report_target(payment),
        payment_id=payment.id,
    )


def report_target(payment: Payment) -> str:
    """The backend told of a payment: the bills office for a bill, else the fee's department."""
    return "bills" if payment.kind == "bill" else payment.department or UNKNOWN_TARGET


async def paid_fees(db: AsyncSession, application_id: int) -> list[Payment]:
    """The fees paid for an application, oldest first (its page lists their receipts)."""
    found = await db.scalars(_paid_fees(), {"application": application_id})
    return list(found.all())


@cache
def _paid_fees() -> Select[tuple[Payment]]:
    """Built once (read on every view of an application; see applications/states._events_of)."""
    return (
        select(Payment)
        .where(Payment.application_id == bindparam("application"), Payment.status == "success")
        .order_by(Payment.paid_at)
    )
