"""Reconciliation for administrators: one day's payments, our state beside the gateway's, and
every difference highlighted; the same rows as CSV for the finance team."""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from litestar import Request, Response, Router, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend_clients.http import BackendError
from backend_clients.payments import Payment as GatewayPayment
from portal.i18n import gettext as _
from portal.i18n.formatting import city_zone
from portal.payments.models import Payment
from portal.payments.service import mismatch
from portal.shared.backends import backends_of
from portal.staff.service import StaffMember, require_role

MOST_PER_DAY = 500  # a longer day is shown in part, and says so
CONCURRENT_CHECKS = 8


@dataclass(frozen=True)
class Row:
    payment: Payment
    gateway_status: str | None  # None: not created at the gateway, or it did not answer
    problem: str  # empty when both sides agree

    @property
    def csv(self) -> list[str]:
        p = self.payment
        return [
            p.created_at.isoformat(),
            p.public_id,
            p.gateway_id or "",
            p.kind,
            p.reference,
            f"{p.amount_minor}",
            p.currency,
            p.status,
            self.gateway_status or "",
            self.problem,
        ]


def _day(text: str | None) -> date | None:
    """The day asked for; today in the city when none is."""
    if not text:
        return datetime.now(city_zone()).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


async def _rows(request: Request[Any, Any, Any], db: AsyncSession, day: date) -> list[Row]:
    # The city's day (23 or 25 hours when the clocks change), as its pages show the times.
    start = datetime.combine(day, time.min, tzinfo=city_zone()).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=city_zone()).astimezone(UTC)
    payments = (
        await db.scalars(
            select(Payment)
            .where(Payment.created_at >= start, Payment.created_at < end)
            .order_by(Payment.created_at)
            .limit(MOST_PER_DAY)
        )
    ).all()
    gateway = backends_of(request).payments
    gate = asyncio.Semaphore(CONCURRENT_CHECKS)

    async def check(payment: Payment) -> Row:
        if payment.gateway_id is None:
            problem = "" if payment.status in ("creating", "failed") else _("Not at the gateway")
            return Row(payment, None, problem)
        try:
            async with gate:
                found: GatewayPayment = await gateway.get_payment(payment.gateway_id)
        except BackendError:
            return Row(payment, None, _("The gateway did not answer"))
        status = found.state.status
        if mismatch(payment, found):
            return Row(payment, status, _("Amount or reference differs"))
        if status != payment.status:
            return Row(payment, status, _("States differ"))
        return Row(payment, status, "")

    return list(await asyncio.gather(*(check(p) for p in payments)))


@get("/", name="staff_payments")
async def reconciliation(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    day: FromQuery[str | None] = None,
) -> Template:
    chosen = _day(day)
    if chosen is None:
        context = {"staff": staff, "error": _("Enter a real date, like 2026-11-23"), "rows": []}
        return Template("staff/payments.html", context=context, status_code=400)
    rows = await _rows(request, db, chosen)
    paid = [row.payment for row in rows if row.payment.status == "success"]
    context = {
        "staff": staff,
        "day": chosen,
        "previous": chosen - timedelta(days=1),
        "next": chosen + timedelta(days=1),
        "rows": rows,
        "problems": sum(1 for row in rows if row.problem),
        "paid_totals": {
            currency: sum(p.amount_minor for p in paid if p.currency == currency)
            for currency in sorted({p.currency for p in paid})
        },
        "paid_count": len(paid),
        "capped": len(rows) >= MOST_PER_DAY,
        "error": None,
    }
    return Template("staff/payments.html", context=context)


@get("/export.csv", name="staff_payments_csv")
async def export(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    day: FromQuery[str | None] = None,
) -> Response[str]:
    chosen = _day(day) or datetime.now(city_zone()).date()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "created_at",
            "payment",
            "gateway_payment",
            "kind",
            "reference",
            "amount_minor",
            "currency",
            "our_status",
            "gateway_status",
            "problem",
        ]
    )
    for row in await _rows(request, db, chosen):
        writer.writerow(row.csv)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="payments-{chosen.isoformat()}.csv"',
            "Cache-Control": "private, no-store",
        },
    )


payments_admin = Router(
    path="/staff/payments",
    route_handlers=[reconciliation, export],
    dependencies={"staff": Provide(require_role("admin"))},
    include_in_schema=False,
)
