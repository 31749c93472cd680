"""Pay a bill or a fine with the reference printed on it; no account needed.

The reference's check character is checked before the tax office is asked, and each network
address may look up only a few references a minute, so nobody can walk through other people's
bills. A bill once found may be viewed and paid from the same session.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend_clients.bills import Bill
from backend_clients.http import BackendError, BackendRejected
from portal.applications.references import parse_reference
from portal.audit import AuditLog
from portal.i18n import gettext as _
from portal.identity.service import current_citizen
from portal.payments.models import LIVE, Payment
from portal.payments.routes import SESSION_KEY, send_to_gateway
from portal.payments.service import Due
from portal.settings import Settings
from portal.shared.backends import backends_of
from portal.shared.deps import RateLimitCounters
from portal.web.context import current_client_ip
from portal.web.limits import within_limit

PREFIX = "BL"
FOUND = "bills_found"  # references this session looked up: it may view and pay them
FIELD = "reference"


def _find_page(typed: str = "", error: str | None = None, status: int = 200) -> Template:
    errors = {FIELD: error} if error else {}
    context = {"typed": typed, "errors": errors}
    return Template("payments/find_bill.html", context=context, status_code=status)


@get("/pay-a-bill", name="find_bill")
async def find_bill(reference: FromQuery[str] = "") -> Template:
    """The look-up form; the assistant's payment links fill in the reference."""
    return _find_page(reference.strip()[:40])


@post("/pay-a-bill", name="look_up_bill")
async def look_up_bill(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    counters: NamedDependency[RateLimitCounters],
    audit: NamedDependency[AuditLog],
) -> Response[Any]:
    form = await request.form()
    typed = str(form.get(FIELD) or "").strip()[:40]
    if not typed:
        return _find_page(typed, _("Enter the reference on your bill or notice"), 400)
    reference = parse_reference(typed, PREFIX)
    if reference is None:
        message = _("Enter the reference exactly as it is on your bill, like BL-7K3M-9QX1")
        return _find_page(typed, message, 400)
    # Per network address, counted atomically (a session's own count is worth nothing: dropping
    # the cookie resets it). Many people may share an address, so ten times a conversation's.
    if not await within_limit(
        counters,
        f"bill-lookups:{current_client_ip() or '-'}",
        10 * settings.bill_lookups_per_minute,
    ):
        await audit.record("bill_lookup_limited", actor="anonymous", subject=f"bill:{reference}")
        message = _("You have looked up too many references. Wait a minute, then try again.")
        return _find_page(typed, message, 429)
    try:
        await backends_of(request).bills.get_bill(reference)
    except BackendRejected as error:
        if error.status_code != 404:
            raise
        message = _("There is no bill with that reference. Check it and try again.")
        return _find_page(typed, message, 400)
    except BackendError:
        message = _("Bills cannot be looked up at the moment. Try again in a few minutes.")
        return _find_page(typed, message, 503)
    found = [r for r in request.session.get(FOUND, []) if r != reference][-9:]
    request.set_session({**request.session, FOUND: [*found, reference]})
    return Redirect(f"/pay-a-bill/{reference}", status_code=303)


async def _bill(request: Request[Any, Any, Any], reference: str) -> Bill | Response[Any]:
    """The bill, if this session found it; else back to the look-up."""
    if reference not in request.session.get(FOUND, []):
        return Redirect("/pay-a-bill", status_code=303)
    try:
        return await backends_of(request).bills.get_bill(reference)
    except BackendError:
        message = _("Bills cannot be looked up at the moment. Try again in a few minutes.")
        return _find_page(reference, message, 503)


@get("/pay-a-bill/{reference:str}", name="bill")
async def show_bill(
    request: Request[Any, Any, Any], reference: FromPath[str], db: NamedDependency[AsyncSession]
) -> Response[Any]:
    bill = await _bill(request, reference)
    if isinstance(bill, Response):
        return bill
    mine = request.session.get(SESSION_KEY, [])
    receipt = await db.scalar(
        select(Payment.public_id).where(
            Payment.kind == "bill",
            Payment.reference == reference,
            Payment.status == "success",
            Payment.public_id.in_(mine),
        )
    )
    return Template(
        "payments/bill.html", context={"bill": bill, "receipt": receipt, "elsewhere": None}
    )


@post("/pay-a-bill/{reference:str}/pay", name="pay_bill")
async def pay_bill(
    request: Request[Any, Any, Any], reference: FromPath[str], db: NamedDependency[AsyncSession]
) -> Response[Any]:
    """The amount is the tax office's, read again now, never the form's."""
    bill = await _bill(request, reference)
    if isinstance(bill, Response):
        return bill
    back = f"/pay-a-bill/{reference}"
    if bill.status == "paid":
        return Redirect(back, status_code=303)
    citizen = await current_citizen(request, db)
    # One payment per bill and amount: someone else already paying it (a household, a second
    # browser) is told so, without seeing their payment.
    purpose = f"bill:{bill.reference}:{bill.amount_minor}{bill.currency}"
    theirs = await db.scalar(
        select(Payment).where(Payment.purpose == purpose, Payment.status.in_((*LIVE, "success")))
    )
    if theirs is not None and not (
        theirs.public_id in request.session.get(SESSION_KEY, [])
        or (citizen is not None and theirs.citizen_id == citizen.id)
    ):
        return Template(
            "payments/bill.html",
            context={"bill": bill, "receipt": None, "elsewhere": theirs.status},
            status_code=409,
        )
    due = Due(
        purpose=purpose,
        kind="bill",
        reference=bill.reference,
        description=bill.description,
        amount_minor=bill.amount_minor,
        currency=bill.currency,
        citizen_id=citizen.id if citizen else None,
    )
    return await send_to_gateway(request, db, due, back)


bills = Router(
    path="/", route_handlers=[find_bill, look_up_bill, show_bill, pay_bill], include_in_schema=False
)
