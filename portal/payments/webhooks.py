"""The gateway's webhook (CONTRACTS.md §5): signed with HMAC-SHA256 over the raw body, answered
at once, then applied. Applying only moves a payment forward, so a message sent twice, late or
out of order changes nothing; a bad signature gets 401 and nothing is read."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Litestar, Request, Response, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from pydantic import ValidationError
from sqlalchemy import or_, select

from backend_clients.payments import SIGNATURE_HEADER, WebhookMessage, verify
from portal.payments.models import Payment
from portal.payments.service import PaymentMismatch, apply
from portal.payments.upfront import draft_id_of, send_paid
from portal.settings import Settings

log = structlog.get_logger()


async def _apply(app: Litestar, message: WebhookMessage) -> None:
    """After the answer: find our attempt and bring it up to the gateway's news."""
    found = message.resource
    ours = found.metadata.get("payment", "")
    async with app.state.sessionmaker() as db:
        payment = await db.scalar(
            select(Payment).where(
                or_(
                    Payment.gateway_id == found.payment_id,
                    (Payment.public_id == ours) & Payment.gateway_id.is_(None),
                )
            )
        )
        if payment is None:
            log.warning("payment_webhook_unknown", gateway_payment=found.payment_id)
            return
        try:
            await apply(db, app.state.catalogue, app.state.audit, payment, found)
            if payment.status == "success" and draft_id_of(payment):
                await send_paid(db, app.state.catalogue, app.state.audit, payment)
        except PaymentMismatch:
            return  # logged and audited by apply
        except Exception:  # the gateway has its answer; the worker will ask again later
            log.exception("payment_webhook_failed", gateway_payment=found.payment_id)


@post("/webhooks/payments", name="payment_webhook", status_code=200)
async def payment_webhook(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings]
) -> Response[dict[str, Any]]:
    body = await request.body()
    secret = settings.payments_webhook_secret.get_secret_value().encode()
    if not verify(secret, body, request.headers.get(SIGNATURE_HEADER)):
        log.warning("payment_webhook_refused", reason="signature")
        return Response({"error": "bad signature"}, status_code=401)
    try:
        message = WebhookMessage.model_validate_json(body)
    except ValidationError:
        return Response({"error": "not a payment message"}, status_code=422)
    return Response(
        {"received": message.webhook_message_id},
        background=BackgroundTask(_apply, request.app, message),
    )
