"""One day of payments, ours beside the gateway's: the gateway's search lists the day once (a
few requests of 500 payments each, not one request per payment), and each side is matched to
the other by the gateway's payment id or, when our create never heard its answer, by our id in
the payment's metadata. What is left over on either side is a difference.

Ours that the search did not list are still asked for one by one (at most ASKED_MOST): the
search is eventually consistent (a payment made a moment ago may not be in it yet) and the
gateway's clock may put a payment made at midnight on the other side of it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend_clients.http import BackendError, BackendRejected
from backend_clients.payments import Payment as GatewayPayment
from backend_clients.payments import PaymentsClient
from portal.i18n import gettext as _
from portal.i18n.formatting import city_zone
from portal.payments.models import Payment
from portal.payments.service import mismatch

MARGIN = timedelta(minutes=10)  # the gateway's search reaches this far past each end of the day
ASKED_MOST = 100  # ours missing from the search that are asked for one by one
CONCURRENT_CHECKS = 8
IN_CHUNK = 500  # ids per IN (...) when looking for ours on other days


@dataclass(frozen=True)
class Row:
    """One payment as either side knows it; `our_status` None: only the gateway has it."""

    created_at: datetime
    public_id: str
    gateway_id: str | None
    kind: str
    reference: str
    amount_minor: int
    currency: str
    our_status: str | None
    gateway_status: str | None
    problem: str  # empty when both sides agree

    @classmethod
    def ours(cls, payment: Payment, gateway_status: str | None, problem: str) -> Row:
        return cls(
            created_at=payment.created_at,
            public_id=payment.public_id,
            gateway_id=payment.gateway_id,
            kind=payment.kind,
            reference=payment.reference,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            our_status=payment.status,
            gateway_status=gateway_status,
            problem=problem,
        )

    @classmethod
    def gateway_only(cls, found: GatewayPayment) -> Row:
        return cls(
            created_at=found.created_date,
            public_id="",
            gateway_id=found.payment_id,
            kind="",
            reference=found.reference,
            amount_minor=found.amount,
            currency=found.currency,
            our_status=None,
            gateway_status=found.state.status,
            problem=_("At the gateway, not in our records"),
        )

    @property
    def csv(self) -> list[str]:
        return [
            self.created_at.isoformat(),
            self.public_id,
            self.gateway_id or "",
            self.kind,
            self.reference,
            f"{self.amount_minor}",
            self.currency,
            self.our_status or "",
            self.gateway_status or "",
            self.problem,
        ]


@dataclass(frozen=True)
class Day:
    """A reconciled day: every row in time order (the gateway's own after ours)."""

    rows: list[Row]
    gateway_answered: bool

    @property
    def differences(self) -> list[Row]:
        return [row for row in self.rows if row.problem]

    @property
    def matching(self) -> int:
        return sum(1 for row in self.rows if not row.problem)

    @property
    def paid(self) -> list[Row]:
        return [row for row in self.rows if row.our_status == "success"]


def bounds(day: date) -> tuple[datetime, datetime]:
    """The city's day in UTC (23 or 25 hours when the clocks change), as its pages show times."""
    start = datetime.combine(day, time.min, tzinfo=city_zone()).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=city_zone()).astimezone(UTC)
    return start, end


def compare(payment: Payment, found: GatewayPayment) -> Row:
    status = found.state.status
    if mismatch(payment, found):
        return Row.ours(payment, status, _("Amount or reference differs"))
    if status != payment.status:
        return Row.ours(payment, status, _("States differ"))
    return Row.ours(payment, status, "")


async def reconcile(db: AsyncSession, gateway: PaymentsClient, day: date) -> Day:
    start, end = bounds(day)
    ours = (
        await db.scalars(
            select(Payment)
            .where(Payment.created_at >= start, Payment.created_at < end)
            .order_by(Payment.created_at, Payment.id)
        )
    ).all()
    try:
        theirs = [found async for found in gateway.search_payments(start - MARGIN, end + MARGIN)]
    except BackendError:
        return Day([Row.ours(p, None, _("The gateway did not answer")) for p in ours], False)
    by_id = {found.payment_id: found for found in theirs}
    by_ours = {found.metadata["payment"]: found for found in theirs if "payment" in found.metadata}
    rows: list[Row | None] = []
    unlisted: list[tuple[int, Payment]] = []
    claimed: set[str] = set()
    for payment in ours:
        if payment.gateway_id is not None:
            found = by_id.get(payment.gateway_id)
        else:  # the create's answer never came: the gateway may have made it all the same
            found = by_ours.get(payment.public_id)
        if found is not None:
            claimed.add(found.payment_id)
            rows.append(compare(payment, found))
        elif payment.gateway_id is not None:
            unlisted.append((len(rows), payment))
            rows.append(None)
        else:
            problem = "" if payment.status in ("creating", "failed") else _("Not at the gateway")
            rows.append(Row.ours(payment, None, problem))
    for index, row in await _ask_one_by_one(gateway, unlisted):
        rows[index] = row
    strangers = [
        found
        for found in theirs
        if found.payment_id not in claimed and start <= found.created_date < end
    ]
    elsewhere = await _ours_on_other_days(db, strangers, {p.public_id for p in ours})
    only_theirs = [Row.gateway_only(f) for f in strangers if f.payment_id not in elsewhere]
    only_theirs.sort(key=lambda row: row.created_at)
    return Day([row for row in rows if row is not None] + only_theirs, True)


async def _ask_one_by_one(
    gateway: PaymentsClient, unlisted: Sequence[tuple[int, Payment]]
) -> list[tuple[int, Row]]:
    """Ours with a gateway id that the search did not list; past ASKED_MOST, not asked."""
    gate = asyncio.Semaphore(CONCURRENT_CHECKS)

    async def ask(payment: Payment) -> Row:
        assert payment.gateway_id is not None
        try:
            async with gate:
                found = await gateway.get_payment(payment.gateway_id)
        except BackendRejected as error:
            if error.status_code == 404:
                return Row.ours(payment, None, _("Not at the gateway"))
            return Row.ours(payment, None, _("The gateway did not answer"))
        except BackendError:
            return Row.ours(payment, None, _("The gateway did not answer"))
        return compare(payment, found)

    asked = unlisted[:ASKED_MOST]
    answers = await asyncio.gather(*(ask(payment) for _index, payment in asked))
    rows = [(index, row) for (index, _payment), row in zip(asked, answers, strict=True)]
    rows += [
        (index, Row.ours(payment, None, _("Not at the gateway")))
        for index, payment in unlisted[ASKED_MOST:]
    ]
    return rows


async def _ours_on_other_days(
    db: AsyncSession, found: Iterable[GatewayPayment], todays: set[str]
) -> set[str]:
    """The gateway ids among `found` that are ours after all, made on a neighbouring day (our
    clock and the gateway's a moment apart at midnight): by their id, or by our id in their
    metadata when our create never heard the answer. A second gateway payment for one of
    today's (`todays`: our ids) is not ours: it is a difference."""
    found = list(found)
    ours: set[str] = set()
    for first in range(0, len(found), IN_CHUNK):
        chunk = found[first : first + IN_CHUNK]
        by_public = {
            f.metadata["payment"]: f.payment_id
            for f in chunk
            if f.metadata.get("payment") and f.metadata["payment"] not in todays
        }
        rows = await db.execute(
            select(Payment.gateway_id, Payment.public_id).where(
                or_(
                    Payment.gateway_id.in_([f.payment_id for f in chunk]),
                    Payment.public_id.in_(list(by_public)) & Payment.gateway_id.is_(None),
                )
            )
        )
        for gateway_id, public_id in rows:
            ours.add(gateway_id or by_public[public_id])
    return ours
