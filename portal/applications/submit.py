"""Sending an application: one transaction writes the application, one request per department,
the first timeline entry and the outbox messages that will deliver them. Never twice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from litestar import Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.applications.models import Application, DepartmentRequest, TimelineEvent
from portal.applications.notify import queue_notification
from portal.applications.references import new_reference
from portal.audit import AuditLog
from portal.catalogue.models import Service
from portal.forms import engine
from portal.forms.models import Draft
from portal.i18n.locale import current_locale
from portal.identity.models import PREVIEW_ISSUER, Citizen
from portal.outbox import enqueue
from portal.shared.acting import acting, record_step

ATTEMPTS = 5  # a reference collision (1 in 34 billion per pair) is retried with a new one


class PaidFirst(Protocol):
    """A fee paid before sending, as sending needs it (portal/payments/upfront.py gives one):
    the application takes the reference named at the gateway, its departments learn what was
    paid, and the payment is linked to it in the sending's own transaction."""

    async def reload(self, db: AsyncSession) -> None:
        """Read the payment again (a rollback between attempts expires it)."""

    @property
    def reference(self) -> str: ...

    def answer(self) -> dict[str, Any]:
        """What the departments receive about the payment."""
        ...

    async def link(self, db: AsyncSession, application: Application, service: Service) -> None:
        """In the sending's transaction: the payment belongs to the application now."""


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
    paid: PaidFirst | None = None,
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
    paid: PaidFirst | None = None,
) -> tuple[str, bool]:
    """Send `draft` without a request (the payment's return, webhook or worker may be first);
    returns the reference and whether this call wrote it. `paid`: the fee paid before sending,
    whose reference the application takes and which its timeline shows."""
    # A rollback expires every loaded object: keep the ids, read the rows again each attempt.
    draft_id, citizen_id = draft.id, citizen.id
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
        if paid is not None:
            await paid.reload(db)
        try:
            reference = await _write(db, applicant, service, locked, language, paid, _attempt)
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
    paid: PaidFirst | None = None,
    attempt: int = 0,
) -> str:
    answers = engine.relevant_answers(service, draft.answers)
    if paid is not None:  # what the departments receive says what was paid, and how
        answers[engine.PAID_KEY] = paid.answer()
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
        await paid.link(db, application, service)
    draft.submitted_at = now
    await db.commit()
    return application.reference
