"""Putting work in the outbox, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal.outbox.models import OutboxMessage


def enqueue(db: AsyncSession, kind: str, key: str, **payload: Any) -> OutboxMessage:
    """Add a message; it is sent only if the caller's transaction commits. `key` is unique per
    piece of work and travels to the backend as the idempotency key."""
    message = OutboxMessage(kind=kind, key=key, payload=payload)
    db.add(message)
    return message
