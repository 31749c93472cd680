"""Putting work in the outbox, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal.observability.tracing import carrier
from portal.outbox.models import UNKNOWN_TARGET, OutboxMessage


def enqueue(
    db: AsyncSession, kind: str, key: str, *, target: str = UNKNOWN_TARGET, **payload: Any
) -> OutboxMessage:
    """Add a message; it is sent only if the caller's transaction commits. `key` is unique per
    piece of work and travels to the backend as the idempotency key; `target` names the backend
    it goes to, for the operators' page (so no payload field may be called "target"). The current
    trace context goes with it, so its delivery joins the request's trace."""
    message = OutboxMessage(
        kind=kind, key=key, target=target, payload=payload, trace_context=carrier() or None
    )
    db.add(message)
    return message
