"""Sending an application: one transaction writes the application, one request per department,
the first timeline entry and the outbox messages that will deliver them. Never twice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.applications.models import Application, DepartmentRequest, TimelineEvent
from portal.applications.notify import queue_notification
from portal.applications.references import new_reference
from portal.assisted.acting import acting, record_step
from portal.audit import AuditLog
from portal.catalogue.models import Service
from portal.contracts.base import payment_event_id
from portal.i18n.locale import current_locale
from portal.identity.models import PREVIEW_ISSUER, Citizen
from portal.journeys import engine
from portal.journeys.models import Draft
from portal.outbox import enqueue
from portal.payments.models import Payment

ATTEMPTS = 5  # a reference collision (1 in 34 billion per pair) is retried with a new one


async def _existing(db: AsyncSession, draft_id: int) -> str | None:
    reference: str | None = await db.scalar(
        select(Application.reference).where(Application.draft_id == draft_id)
    )
    return reference


async def submit_draft(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    citizen: Citizen,
    service: Service,
    draft: Draft,
    paid: Payment | None = None,
) -> str:
    """Send `draft`; returns the application's reference (the same one if already sent)."""
    act = acting(request)
    # The page's language is the citizen's, unless an agent is filling it in for them.
    language = citizen.language if act else current_locale()
    citizen_id = citizen.id
    reference, written = await send_draft(db, citizen, service, draft, language, paid)
    if written:
        audit: AuditLog = request.app.state.audit
        if act is not None:
            await record_step(request, act, "assisted_submitted", application=reference)
        await audit.record(
            "application_submitted",
            actor=act.member.actor if act else f"citizen:{citizen_id}",
            subject=f"application:{reference}",
            service=service.id,
        )
    return reference


async def send_draft(
    db: AsyncSession,
    citizen: Citizen,
    service: Service,
    draft: Draft,
    language: str,
    paid: Payment | None = None,
) -> tuple[str, bool]:
    """Send `draft` without a request (the payment's return, webhook or worker may be first);
    returns the reference and whether this call wrote it. `paid`: the fee paid before sending,
    whose reference the application takes and which its timeline shows."""
    # A rollback expires every loaded object: keep the ids, read the rows again each attempt.
    draft_id, citizen_id = draft.id, citizen.id
    payment_id = paid.id if paid else None
    for _attempt in range(ATTEMPTS):
        # Concurrent submits of one draft take turns (row lock); the unique draft_id is the
        # last guard, on SQLite too.
        locked = await db.scalar(
            select(Draft)
            .where(Draft.id == draft_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        applicant = await db.get(Citizen, citizen_id)
        if locked is None or applicant is None or applicant.issuer == PREVIEW_ISSUER:
            raise LookupError(draft_id)  # a designer's preview is never sent
        if locked.submitted_at is not None and (reference := await _existing(db, draft_id)):
            await db.rollback()
            return reference, False
        payment = await db.get(Payment, payment_id) if payment_id else None
        try:
            reference = await _write(db, applicant, service, locked, language, payment, _attempt)
        except IntegrityError:
            await db.rollback()
            if reference := await _existing(db, draft_id):
                return reference, False
            continue
        return reference, True
    raise RuntimeError("could not find a free reference")


async def _write(
    db: AsyncSession,
    citizen: Citizen,
    service: Service,
    draft: Draft,
    language: str,
    paid: Payment | None = None,
    attempt: int = 0,
) -> str:
    answers = engine.relevant_answers(service, draft.answers)
    if paid is not None:  # what the departments receive says what was paid, and how
        answers[PAID_KEY] = paid_answer(paid)
    now = datetime.now(UTC)
    # A fee paid first named the application's reference at the gateway (kept, bar a clash).
    reference = paid.reference if paid is not None and attempt == 0 else new_reference()
    application = Application(
        reference=reference,
        citizen_id=citizen.id,
        draft_id=draft.id,
        service_id=service.id,
        service_version=draft.service_version,  # what it was answered with
        answers=answers,
        language=language,
        channel=draft.channel,
        assisted_by=draft.assisted_by,
        assisted_name=draft.assisted_name,
        submitted_at=now,
        updated_at=now,
    )
    db.add(application)
    await db.flush()
    for delivery in engine.deliveries(service, answers):
        department_request = DepartmentRequest(
            application_id=application.id, department=delivery.department
        )
        db.add(department_request)
        await db.flush()
        enqueue(
            db,
            "deliver",
            key=f"deliver-{department_request.public_id}",
            target=delivery.department,
            request_id=department_request.id,
        )
    # An agent's part is on the timeline, and the citizen is told even if they chose no updates.
    helped = {"agent": draft.assisted_name} if draft.assisted_by else {}
    event = TimelineEvent(
        application_id=application.id, status="submitted", occurred_at=now, data=helped
    )
    db.add(event)
    await db.flush()
    await queue_notification(db, citizen, application, event, always=bool(helped))
    if paid is not None:
        await _link_payment(db, application, paid, service, answers)
    draft.submitted_at = now
    await db.commit()
    return application.reference


PAID_KEY = engine.PAID_KEY


def paid_answer(payment: Payment) -> dict[str, Any]:
    assert payment.paid_at is not None
    return {
        "description": payment.description,
        "amount_minor": payment.amount_minor,
        "currency": payment.currency,
        "payment_reference": payment.gateway_id,
        "paid_at": payment.paid_at.isoformat(),
    }


async def _link_payment(
    db: AsyncSession,
    application: Application,
    payment: Payment,
    service: Service,
    answers: dict[str, Any],
) -> None:
    """In the sending's transaction: the fee paid first belongs to the application now, and its
    timeline says "Fee paid" (the same event id as any news of it, so it is kept once)."""
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
