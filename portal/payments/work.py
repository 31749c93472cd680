"""What the worker does for payments: tell the department or the tax office that a payment
succeeded (through the outbox), and ask the gateway about attempts nobody came back from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend_clients.departments import PaymentReport
from backend_clients.http import BackendError, BackendRejected
from portal.applications.models import DepartmentRequest
from portal.applications.tracking import record
from portal.audit import AuditLog
from portal.catalogue.loader import Catalogue
from portal.contracts.base import Paid
from portal.outbox.models import OutboxMessage
from portal.payments.models import LIVE, Payment
from portal.payments.service import PaymentMismatch, apply
from portal.payments.upfront import send_paid
from portal.shared.backends import Backends

log = structlog.get_logger()
# An attempt nobody came back from is asked about after this long...
QUIET = timedelta(minutes=2)
# ...and one the gateway never confirmed creating is given up after this long (its card page
# was never shown, so it cannot have been paid).
NEVER_STARTED = timedelta(minutes=15)


@dataclass
class PaymentWork:
    sessionmaker: async_sessionmaker[AsyncSession]
    backends: Backends
    catalogue: Catalogue

    def handlers(self) -> dict[str, Any]:
        return {"payment_report": self.report, "send_paid_draft": self.send_paid_draft}

    async def send_paid_draft(self, message: OutboxMessage) -> None:
        """A draft whose fee was paid is sent even if the citizen never came back."""
        async with self.sessionmaker() as db:
            payment = await db.get(Payment, message.payload["payment_id"])
            if payment is None or payment.status != "success":
                raise LookupError(f"payment {message.payload['payment_id']} is not a success")
            reference = await send_paid(db, self.catalogue, AuditLog(self.sessionmaker), payment)
            if reference is None:
                raise LookupError(f"payment {payment.public_id}: its draft cannot be sent")

    async def report(self, message: OutboxMessage) -> None:
        """Tell the owner of the fee or bill that it was paid; the key makes a repeat harmless."""
        async with self.sessionmaker() as db:
            payment = await db.get(Payment, message.payload["payment_id"])
            if payment is None or payment.status != "success" or payment.gateway_id is None:
                raise LookupError(f"payment {message.payload['payment_id']} is not a success")
            assert payment.paid_at is not None
            report = PaymentReport(
                payment_id=payment.gateway_id,
                amount_minor=payment.amount_minor,
                currency=payment.currency,
                paid_at=payment.paid_at.replace(tzinfo=payment.paid_at.tzinfo or UTC),
            )
            if payment.kind == "bill":
                await self._report_bill(payment, report, message.key)
                return
            request = await db.get(DepartmentRequest, payment.department_request_id)
            if request is None or request.case_id is None:
                raise LookupError(f"payment {payment.public_id} has no department case")
            paid = Paid(report.payment_id, report.amount_minor, report.currency, report.paid_at)
            news = await self.backends.connection(request.department).report_payment(
                request.case_id, paid, message.key
            )
            await record(db, request, news, self.catalogue.certifies(request.department))

    async def _report_bill(self, payment: Payment, report: PaymentReport, key: str) -> None:
        try:
            await self.backends.bills.report_payment(payment.reference, report, key)
        except BackendRejected as error:
            if error.status_code != 409:
                raise
            bill = await self.backends.bills.get_bill(payment.reference)
            if bill.payment_id != payment.gateway_id:
                raise  # paid by someone else's payment: a person must refund one

    async def reconcile(self) -> int:
        """Ask the gateway about attempts still in play that nobody came back from (the
        citizen closed the tab, the webhook was lost); returns how many it settled."""
        now = datetime.now(UTC)
        async with self.sessionmaker() as db:
            ids = (
                await db.scalars(
                    select(Payment.id).where(
                        Payment.status.in_(LIVE), Payment.updated_at < now - QUIET
                    )
                )
            ).all()
        settled = 0
        audit = AuditLog(self.sessionmaker)
        for payment_id in ids:  # one session each: one failure does not stop the others
            async with self.sessionmaker() as db:
                payment = await db.get(Payment, payment_id)
                if payment is None or payment.status not in LIVE:
                    continue
                if payment.gateway_id is None:
                    created = payment.created_at.replace(tzinfo=payment.created_at.tzinfo or UTC)
                    if created < now - NEVER_STARTED:  # unless a citizen's retry got there first
                        await db.execute(
                            update(Payment)
                            .where(
                                Payment.id == payment.id,
                                Payment.status == "creating",
                                Payment.gateway_id.is_(None),
                            )
                            .values(status="failed", updated_at=now)
                        )
                        await db.commit()
                    continue
                try:
                    found = await self.backends.payments.get_payment(payment.gateway_id)
                    settled += await apply(db, self.catalogue, audit, payment, found)
                except (BackendError, PaymentMismatch) as error:  # the others still get their turn
                    log.warning("payment_check_failed", payment=payment_id, error=str(error))
                    continue
                except Exception:
                    log.exception("payment_check_error", payment=payment_id)
                    continue
                if payment.status in LIVE:  # still going: ask again after another quiet spell
                    await db.execute(
                        update(Payment)
                        .where(Payment.id == payment.id, Payment.status == payment.status)
                        .values(updated_at=now)
                    )
                    await db.commit()
        return settled
