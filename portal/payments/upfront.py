"""A fee paid before sending (a service's `fee:`): the amount from the answers, the one payment
per draft (purpose "draft:<draft id>", under the same "never twice" indexes as every fee), and
sending the draft once it is paid, whoever hears of the success first: the citizen's return, the
gateway's webhook or the worker (exactly one application: submit's row lock and unique draft).

The amount is locked by paying: an attempt in play for other answers' amount is never resumed
for a new amount (the citizen finishes or cancels it first), and a success sends the draft with
what was paid, as paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.applications.models import Application, DepartmentRequest, TimelineEvent
from portal.applications.references import new_reference
from portal.applications.submit import send_draft
from portal.audit import AuditLog
from portal.catalogue.loader import Catalogue
from portal.catalogue.models import Service
from portal.contracts.base import payment_event_id
from portal.forms import engine
from portal.forms.fields import CURRENCY
from portal.forms.models import Draft
from portal.i18n import gettext as _
from portal.i18n.formatting import format_minor
from portal.identity.models import Citizen
from portal.payments.models import FINISHED, LIVE, Payment
from portal.payments.words import NOT_CHARGED, outcome_message

log = structlog.get_logger()
PREFIX = "draft:"


def purpose_of(draft: Draft) -> str:
    return f"{PREFIX}{draft.public_id}"


def draft_id_of(payment: Payment) -> str | None:
    """The draft a payment is for, when it is a fee paid before sending."""
    if payment.purpose.startswith(PREFIX):
        return payment.purpose.removeprefix(PREFIX)
    return None


def fee_minor(service: Service, answers: dict[str, Any]) -> int | None:
    """The fee for these answers in cents: the first rule that holds, else the amount; times
    the `per` answer (a number, at least 1). None when the service asks no fee."""
    fee = service.fee
    if fee is None:
        return None
    amount = next((rule.amount for rule in fee.rules if engine.holds(rule.when, answers)), None)
    cents = int(Decimal(amount or fee.amount) * 100)
    if fee.per:
        try:
            count = int(Decimal(str(answers.get(fee.per) or 1)))
        except ArithmeticError:
            count = 1
        cents *= max(count, 1)
    return cents


def currency() -> str:
    return CURRENCY


def department_of(service: Service, answers: dict[str, Any]) -> str | None:
    """The department the payment is for: the fee's, else the first that receives it."""
    if service.fee and service.fee.department:
        return service.fee.department
    sent = engine.deliveries(service, answers)
    return sent[0].department if sent else None


async def paid_payment(db: AsyncSession, draft: Draft) -> Payment | None:
    found: Payment | None = await db.scalar(
        select(Payment).where(Payment.purpose == purpose_of(draft), Payment.status == "success")
    )
    return found


async def live_payment(db: AsyncSession, draft: Draft) -> Payment | None:
    found: Payment | None = await db.scalar(
        select(Payment).where(Payment.purpose == purpose_of(draft), Payment.status.in_(LIVE))
    )
    return found


async def reference_for(db: AsyncSession, draft: Draft) -> str:
    """The application's reference-to-be, named at the gateway: every attempt for one draft
    gives the same one, so the receipt and the application agree."""
    earlier: str | None = await db.scalar(
        select(Payment.reference)
        .where(Payment.purpose == purpose_of(draft))
        .order_by(Payment.id)
        .limit(1)
    )
    return earlier or new_reference()


async def send_paid(
    db: AsyncSession, catalogue: Catalogue, audit: AuditLog, payment: Payment
) -> str | None:
    """Send the draft this successful payment is for (harmless when already sent); returns the
    application's reference, or None when there is nothing to send (a person must look)."""
    public_id = draft_id_of(payment)
    if public_id is None or payment.status != "success":
        return None
    draft = await db.scalar(select(Draft).where(Draft.public_id == public_id))
    citizen = await db.get(Citizen, draft.citizen_id) if draft else None
    service = catalogue.version(draft.service_id, draft.service_version) if draft else None
    if draft is None or citizen is None or service is None:
        log.error("paid_draft_missing", payment=payment.public_id, draft=public_id)
        return None
    citizen_id = citizen.id
    paid = PaidDraft(payment)
    reference, written = await send_draft(db, citizen, service, draft, payment.language, paid)
    await db.refresh(payment)  # a rollback (already sent) expired it; callers read it on
    if written:
        await audit.record(
            "application_submitted",
            actor=f"citizen:{citizen_id}",
            subject=f"application:{reference}",
            service=service.id,
            payment=payment.public_id,
        )
    return reference


@dataclass(frozen=True)
class Notice:
    """What the check page says about the last payment attempt: why it did not go through, or
    that one for other answers is still open (with where to finish or cancel it)."""

    text: str
    detail: str = ""
    href: str | None = None


async def check_notice(db: AsyncSession, draft: Draft, public_id: str | None) -> Notice | None:
    if not public_id:
        return None
    payment = await db.scalar(
        select(Payment).where(Payment.public_id == public_id, Payment.purpose == purpose_of(draft))
    )
    if payment is None or payment.status == "success":
        return None
    if payment.status in FINISHED:
        return Notice(outcome_message(payment.status, payment.code), str(NOT_CHARGED))
    return Notice(
        _(
            "You started paying %(amount)s before changing your answers. Finish or cancel "
            "that payment first: then you can pay the fee for your answers now.",
            amount=format_minor(payment.amount_minor, payment.currency),
        ),
        href=payment.next_url or f"/payments/{payment.public_id}",
    )


class PaidDraft:
    """A successful payment of a draft's fee, as sending the draft needs it (PaidFirst)."""

    def __init__(self, payment: Payment) -> None:
        self.payment_id = payment.id
        self.payment = payment

    async def reload(self, db: AsyncSession) -> None:
        found = await db.get(Payment, self.payment_id)
        if found is None:
            raise LookupError(f"payment {self.payment_id} is gone")
        self.payment = found

    @property
    def reference(self) -> str:
        return self.payment.reference

    def answer(self) -> dict[str, Any]:
        payment = self.payment
        assert payment.paid_at is not None
        return {
            "description": payment.description,
            "amount_minor": payment.amount_minor,
            "currency": payment.currency,
            "payment_reference": payment.gateway_id,
            "paid_at": payment.paid_at.isoformat(),
        }

    async def link(self, db: AsyncSession, application: Application, service: Service) -> None:
        """The fee paid first belongs to the application now, and its timeline says "Fee paid"
        (the same event id as any news of it, so it is kept once)."""
        payment = self.payment
        requests = (
            await db.scalars(
                select(DepartmentRequest)
                .where(DepartmentRequest.application_id == application.id)
                .order_by(DepartmentRequest.id)
            )
        ).all()
        wanted = service.fee.department if service.fee else None
        request = next((r for r in requests if r.department == wanted), requests[0])
        payment.application_id = application.id
        payment.department_request_id = request.id
        payment.department = request.department
        assert payment.gateway_id is not None and payment.paid_at is not None
        fee = {"amount_minor": payment.amount_minor, "currency": payment.currency}
        db.add(
            TimelineEvent(
                application_id=application.id,
                department=request.department,
                status="paid",
                occurred_at=payment.paid_at,
                external_id=payment_event_id(payment.gateway_id),
                data={"fee": fee, "payment": payment.public_id},
            )
        )
