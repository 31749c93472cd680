"""What the citizen's timeline says when something for a department will not reach it: the
department refused it (the worker parks the message) or an operator cancelled it. One function,
so both say it the same way."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal.applications.models import DepartmentRequest, TimelineEvent

# Outbox kinds whose payload names a department request the citizen waits on.
TOLD_ON_TIMELINE = frozenset({"deliver", "information"})


async def record_not_delivered(db: AsyncSession, kind: str, payload: dict[str, Any]) -> bool:
    """In the caller's transaction: a "not delivered" event on the application's timeline (and
    the request marked so, when it was the application itself that did not go). False when the
    message concerns no department request we still have."""
    request_id = payload.get("request_id")
    if kind not in TOLD_ON_TIMELINE or not isinstance(request_id, int):
        return False
    request = await db.get(DepartmentRequest, request_id)
    if request is None:
        return False
    if kind == "deliver":
        request.status = "not_delivered"
    db.add(
        TimelineEvent(
            application_id=request.application_id,
            department=request.department,
            status="not_delivered",
        )
    )
    return True
