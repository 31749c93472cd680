"""The citizen's side of paying: the Pay button of a fee, the page the gateway sends them back
to (which asks the gateway what happened), the receipt and its PDF.

A payment's page is open to the citizen it belongs to, and a bill paid without signing in to the
browser session that started it; anyone else gets 404.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend_clients.http import BackendError
from portal.applications.models import DepartmentRequest, TimelineEvent
from portal.applications.routes import owned_application
from portal.applications.timeline import department_name
from portal.audit import AuditLog
from portal.catalogue import catalogue_of
from portal.catalogue.models import Service
from portal.forms.models import Draft
from portal.i18n import gettext as _
from portal.i18n.locale import current_locale
from portal.identity.models import Citizen
from portal.identity.service import CITIZEN, citizen_and_own
from portal.payments.models import FINISHED, LIVE, Payment
from portal.payments.receipt import receipt_lines, receipt_pdf
from portal.payments.service import Due, PaymentMismatch, apply, start
from portal.payments.upfront import (
    currency,
    department_of,
    draft_id_of,
    fee_minor,
    live_payment,
    paid_payment,
    purpose_of,
    reference_for,
    send_paid,
)
from portal.payments.words import outcome_message
from portal.settings import Settings
from portal.shared.backends import backends_of
from portal.web.errors import SignInRequired

SESSION_KEY = "payments"  # the attempts this browser started (bills need no sign-in)
REMEMBERED = 20


def remember(request: Request[Any, Any, Any], payment: Payment) -> None:
    mine = [p for p in request.session.get(SESSION_KEY, []) if p != payment.public_id]
    request.set_session({**request.session, SESSION_KEY: [*mine, payment.public_id][-REMEMBERED:]})


async def viewable(request: Request[Any, Any, Any], db: AsyncSession, public_id: str) -> Payment:
    """Signed in: the payment if it is the citizen's, whatever this browser did before.
    Not signed in: a payment nobody owns (a bill) that this browser started."""
    if CITIZEN in request.session:
        _citizen, owned = await citizen_and_own(
            request, db, Payment, Payment.public_id == public_id
        )
        return owned
    payment = await db.scalar(select(Payment).where(Payment.public_id == public_id))
    if payment is not None and payment.citizen_id is not None:
        # A fee payer whose session ended while at the gateway signs in again and comes back.
        raise SignInRequired()
    if payment is None or public_id not in request.session.get(SESSION_KEY, []):
        raise NotFoundException()
    return payment


async def send_to_gateway(
    request: Request[Any, Any, Any], db: AsyncSession, due: Due, back: str
) -> Response[Any]:
    """Start (or resume) the attempt and send the citizen where it continues."""
    settings: Settings = request.app.state.settings
    try:
        payment = await start(
            db,
            backends_of(request).payments,
            catalogue_of(request),
            request.app.state.audit,
            due,
            current_locale(),
            settings.public_url,
        )
    except (BackendError, PaymentMismatch):
        return Template("payments/unavailable.html", context={"back": back}, status_code=503)
    remember(request, payment)
    if payment.status in LIVE and payment.next_url:
        return Redirect(payment.next_url, status_code=303)
    return Redirect(f"/payments/{payment.public_id}", status_code=303)


async def fee_due(
    db: AsyncSession, application_id: int, department: str
) -> tuple[DepartmentRequest, TimelineEvent, dict[str, Any]] | None:
    """The department's request if it is waiting for its fee, with the event that asked for it
    (each request for a fee is paid once: a new one, even of another amount, is a new fee)."""
    request = await db.scalar(
        select(DepartmentRequest).where(
            DepartmentRequest.application_id == application_id,
            DepartmentRequest.department == department,
        )
    )
    if request is None or request.status != "fee_due":
        return None
    asked = await db.scalar(
        select(TimelineEvent)
        .where(
            TimelineEvent.application_id == application_id,
            TimelineEvent.department == department,
            TimelineEvent.status == "fee_due",
        )
        .order_by(TimelineEvent.occurred_at.desc(), TimelineEvent.id.desc())
        .limit(1)
    )
    fee = asked.data.get("fee") if asked else None
    return (request, asked, fee) if asked and fee else None


@post("/applications/{reference:str}/fees/{department:str}/pay", name="pay_fee")
async def pay_fee(
    request: Request[Any, Any, Any],
    reference: FromPath[str],
    department: FromPath[str],
    db: NamedDependency[AsyncSession],
) -> Response[Any]:
    """Pay a department's fee: the amount is the one the department asked for, never a form's."""
    citizen, application = await owned_application(request, db, reference)
    back = f"/applications/{reference}"
    found = await fee_due(db, application.id, department)
    if found is None:
        paid = await db.scalar(
            select(Payment).where(
                Payment.application_id == application.id,
                Payment.department == department,
                Payment.status == "success",
            )
        )
        target = f"/payments/{paid.public_id}" if paid else back
        return Redirect(target, status_code=303)
    department_request, asked, fee = found
    catalogue = catalogue_of(request)
    service = catalogue.version(application.service_id, application.service_version)
    description = _(
        "%(service)s: %(department)s fee",
        service=_(service.title) if service else application.service_id,
        department=department_name(catalogue.departments, department),
    )
    due = Due(
        purpose=f"fee:{asked.id}",
        kind="fee",
        reference=application.reference,
        description=description,
        amount_minor=int(fee["amount_minor"]),
        currency=str(fee["currency"]),
        citizen_id=citizen.id,
        application_id=application.id,
        department_request_id=department_request.id,
        department=department,
    )
    return await send_to_gateway(request, db, due, back)


async def pay_for_draft(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    citizen: Citizen,
    service: Service,
    draft: Draft,
    sent: Callable[[str], Response[Any]],
) -> Response[Any]:
    """'Continue to payment' on the check page of a service with a fee: pay the amount these
    answers come to, then the draft is sent (`sent` says where the citizen goes then). A fee
    already paid is never asked again: the draft is sent as paid."""
    check = f"/drafts/{draft.public_id}/check"
    if paid := await paid_payment(db, draft):
        reference = await send_paid(db, catalogue_of(request), request.app.state.audit, paid)
        return sent(reference) if reference else Redirect(check, status_code=303)
    amount = fee_minor(service, draft.answers)
    assert amount is not None and service.fee is not None
    live = await live_payment(db, draft)
    if live is not None and live.amount_minor != amount:
        # Started for other answers: never resumed for a new amount. Ask the gateway how it is.
        await refresh(request, db, live)
        if live.status == "success":
            return await pay_for_draft(request, db, citizen, service, draft, sent)
        if live.status in LIVE:
            return Redirect(f"{check}?payment={live.public_id}", status_code=303)
    due = Due(
        purpose=purpose_of(draft),
        kind="fee",
        reference=await reference_for(db, draft),
        description=_(service.fee.description),
        amount_minor=amount,
        currency=currency(),
        citizen_id=citizen.id,
        department=department_of(service, draft.answers),
    )
    return await send_to_gateway(request, db, due, check)


async def refresh(request: Request[Any, Any, Any], db: AsyncSession, payment: Payment) -> bool:
    """Ask the gateway about an attempt in play; False when it could not be asked now."""
    if payment.status not in LIVE or not payment.gateway_id:
        return True
    try:
        found = await backends_of(request).payments.get_payment(payment.gateway_id)
        await apply(db, catalogue_of(request), request.app.state.audit, payment, found)
    except (BackendError, PaymentMismatch):
        return False  # the page says we are still checking; the worker will ask again
    return True


@get("/payments/{public_id:str}", name="payment")
async def payment_page(
    request: Request[Any, Any, Any],
    public_id: FromPath[str],
    db: NamedDependency[AsyncSession],
    audit: NamedDependency[AuditLog],
) -> Response[Any]:
    """Where the gateway sends the citizen back: what happened is asked of the gateway."""
    payment = await viewable(request, db, public_id)
    checked = await refresh(request, db, payment)
    sent = None
    if (draft := draft_id_of(payment)) is not None:
        if payment.status == "success":  # paid first: sent now (once, whoever is first)
            sent = await send_paid(db, catalogue_of(request), audit, payment)
        elif payment.status in FINISHED:  # back to check the answers and try again
            return Redirect(f"/drafts/{draft}/check?payment={public_id}", status_code=303)
    view, heading = page_state(payment, checked)
    return Template(
        "payments/show.html",
        context={
            "payment": payment,
            "view": view,
            "heading": heading,
            "lines": receipt_lines(payment) if view == "paid" else [],
            "message": outcome_message(payment.status, payment.code),
            "again": again_action(payment),
            "back": back_link(payment),
            "sent": sent,
        },
    )


def page_state(payment: Payment, checked: bool) -> tuple[str, str]:
    """Which of the page's five faces to show, and its heading."""
    if payment.status == "success":
        return "paid", _("Payment received")
    if payment.status in FINISHED:
        return "failed", _("Your payment did not go through")
    if payment.status == "creating":
        return "not_started", _("Your payment has not started")
    if payment.next_url and checked:
        return "unfinished", _("Your payment is not finished")
    return "checking", _("We are checking your payment")


def again_action(payment: Payment) -> str:
    """Where "Try again" posts: the same fee or bill, which starts a new attempt."""
    if payment.kind == "bill":
        return f"/pay-a-bill/{payment.reference}/pay"
    if (draft := draft_id_of(payment)) is not None:
        return f"/drafts/{draft}/submit"
    return f"/applications/{payment.reference}/fees/{payment.department}/pay"


def back_link(payment: Payment) -> str:
    if payment.application_id is None and (draft := draft_id_of(payment)) is not None:
        return f"/drafts/{draft}/check"
    return "/pay-a-bill" if payment.kind == "bill" else f"/applications/{payment.reference}"


@get("/payments/{public_id:str}/receipt.pdf", name="payment_receipt_pdf")
async def receipt_download(
    request: Request[Any, Any, Any],
    public_id: FromPath[str],
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
) -> Response[bytes]:
    payment = await viewable(request, db, public_id)
    if payment.status != "success":
        raise NotFoundException()
    # Drawing takes about 0.15 s of CPU: off the event loop (the language goes with the context).
    content = await asyncio.to_thread(receipt_pdf, payment, current_locale(), settings.fonts_dir)
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="receipt-{payment.reference}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


payments = Router(
    path="/",
    route_handlers=[pay_fee, payment_page, receipt_download],
    include_in_schema=False,
)
