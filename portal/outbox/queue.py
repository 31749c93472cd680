"""Putting work in the outbox, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal.observability.tracing import carrier
from portal.outbox.models import UNKNOWN_TARGET, OutboxMessage


def enqueue(
    db: AsyncSession,
    kind: str,
    key: str,
    *,
    target: str = UNKNOWN_TARGET,
    ordered_by: str | None = None,
    **payload: Any,
) -> OutboxMessage:
    """Add a message; it is sent only if the caller's transaction commits. `key` is unique per
    piece of work and travels to the backend as the idempotency key; `target` names the backend
    it goes to, for the operators' page. Messages with the same `ordered_by` are delivered one
    after another, in the order they were written. (So no payload field may be called "target"
    or "ordered_by".) The current trace context goes with it, so its delivery joins the
    request's trace."""
    message = OutboxMessage(
        kind=kind,
        key=key,
        target=target,
        payload=payload,
        ordered_by=ordered_by,
        trace_context=carrier() or None,
    )
    db.add(message)
    return message
