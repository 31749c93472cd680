"""Which departments we are having trouble reaching for one application: their delivery (or the
citizen's extra information) last failed at the backend and is waiting to be retried, or is
parked for a person. The citizen is told so in plain words; operators read the error itself at
/staff/backends."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.applications.models import DepartmentRequest
from portal.applications.undelivered import TOLD_ON_TIMELINE
from portal.outbox.models import OutboxMessage

RETRYING, PARKED = "retrying", "parked"


async def troubled(db: AsyncSession, requests: Sequence[DepartmentRequest]) -> dict[str, str]:
    """Department -> "retrying" or "parked" (parked wins), for requests whose last attempt
    failed; a department reached without trouble is not listed."""
    by_id = {request.id: request for request in requests}
    if not by_id:
        return {}
    departments = sorted({request.department for request in requests})
    messages = await db.scalars(_failed(), {"departments": departments, "requests": list(by_id)})
    found: dict[str, str] = {}
    for message in messages:
        request = by_id.get(message.payload.get("request_id"))  # type: ignore[arg-type]
        if request is not None and found.get(request.department) != PARKED:
            found[request.department] = PARKED if message.status == "failed" else RETRYING
    return found


@cache
def _failed() -> Select[tuple[OutboxMessage]]:
    """Built once: read on every view of an application (see applications/states._events_of)."""
    return select(OutboxMessage).where(
        OutboxMessage.kind.in_(TOLD_ON_TIMELINE),
        OutboxMessage.target.in_(bindparam("departments", expanding=True)),
        OutboxMessage.status.in_(("pending", "failed")),
        OutboxMessage.last_error != "",
        OutboxMessage.payload["request_id"].as_integer().in_(bindparam("requests", expanding=True)),
    )
