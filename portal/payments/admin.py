"""Reconciliation for administrators: one day's payments, ours beside the gateway's
(reconcile.py), the differences first and a count of those that agree; every row as CSV for
the finance team."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

from litestar import Request, Response, Router, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend_clients.payments import PaymentsClient
from portal.i18n import gettext as _
from portal.i18n.formatting import city_zone
from portal.payments.reconcile import reconcile
from portal.shared.backends import backends_of
from portal.staff.service import StaffMember, require_role

SHOWN_MOST = 500  # differences on the page; the CSV has every row
CSV_HEADER = [
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


def provide_gateway(request: Request[Any, Any, Any]) -> PaymentsClient:
    return backends_of(request).payments


def _day(text: str | None) -> date | None:
    """The day asked for; today in the city when none is."""
    if not text:
        return datetime.now(city_zone()).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@get("/", name="staff_payments")
async def reconciliation(
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    gateway: NamedDependency[PaymentsClient],
    day: FromQuery[str | None] = None,
) -> Template:
    chosen = _day(day)
    if chosen is None:
        context = {"staff": staff, "error": _("Enter a real date, like 2026-11-23")}
        return Template("staff/payments.html", context=context, status_code=400)
    found = await reconcile(db, gateway, chosen)
    differences = found.differences
    paid = found.paid
    context = {
        "staff": staff,
        "day": chosen,
        "previous": chosen - timedelta(days=1),
        "next": chosen + timedelta(days=1),
        "gateway_answered": found.gateway_answered,
        "ours": sum(1 for row in found.rows if row.our_status is not None),
        "differences": differences[:SHOWN_MOST],
        "problems": len(differences),
        "matching": found.matching,
        "paid_totals": {
            currency: sum(row.amount_minor for row in paid if row.currency == currency)
            for currency in sorted({row.currency for row in paid})
        },
        "paid_count": len(paid),
        "error": None,
    }
    return Template("staff/payments.html", context=context)


@get("/export.csv", name="staff_payments_csv")
async def export(
    staff: NamedDependency[StaffMember],  # asked for so that require_role("admin") runs
    db: NamedDependency[AsyncSession],
    gateway: NamedDependency[PaymentsClient],
    day: FromQuery[str | None] = None,
) -> Response[str]:
    chosen = _day(day) or datetime.now(city_zone()).date()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    writer.writerows(row.csv for row in (await reconcile(db, gateway, chosen)).rows)
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
    dependencies={
        "staff": Provide(require_role("admin")),
        "gateway": Provide(provide_gateway, sync_to_thread=False),
    },
    include_in_schema=False,
)
