"""What the pages about applications read: their department requests (for each one's overall
state, one statement for a whole list) and one application's events, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.applications.models import Application, DepartmentRequest, TimelineEvent
from portal.applications.statuses import OVERALL_LABELS, OVERALL_TAGS, overall


@dataclass
class Summary:
    application: Application
    state: str

    @property
    def state_label(self) -> str:
        return str(OVERALL_LABELS[self.state])

    @property
    def tag(self) -> str:
        return OVERALL_TAGS[self.state]


@cache
def _requests_of() -> Select[tuple[DepartmentRequest]]:
    """Built once: building a statement costs more CPU than running a small one (see
    portal/conversations/queue.py), and the application page is the one citizens reload."""
    return (
        select(DepartmentRequest)
        .where(DepartmentRequest.application_id.in_(bindparam("ids", expanding=True)))
        .order_by(DepartmentRequest.id)
    )


async def requests_of(db: AsyncSession, application_ids: list[int]) -> list[DepartmentRequest]:
    """The department requests of these applications, in the order they were made."""
    if not application_ids:
        return []
    rows = await db.scalars(_requests_of(), {"ids": application_ids})
    return list(rows.all())


def summarised(applications: list[Application], requests: list[DepartmentRequest]) -> list[Summary]:
    """Each application with its overall state, from its own department requests."""
    mine: dict[int, list[DepartmentRequest]] = {a.id: [] for a in applications}
    for request in requests:
        mine[request.application_id].append(request)
    return [
        Summary(a, overall([r.status for r in mine[a.id]], [r.finished for r in mine[a.id]]))
        for a in applications
    ]


@cache
def _events_of() -> Select[tuple[TimelineEvent]]:
    return (
        select(TimelineEvent)
        .where(TimelineEvent.application_id == bindparam("application"))
        .order_by(TimelineEvent.occurred_at.desc(), TimelineEvent.id.desc())
    )


async def events_of(db: AsyncSession, application_id: int) -> list[TimelineEvent]:
    """Every event of one application, newest first (its timeline)."""
    return list((await db.scalars(_events_of(), {"application": application_id})).all())


def fees_due(requests: list[DepartmentRequest], events: list[TimelineEvent]) -> dict[str, Any]:
    """Each department waiting for a fee, with the fee it asked for (amount_minor, currency):
    the data of the event that put the request in that state."""
    fees = {
        r.department: next(
            (
                e.data.get("fee")
                for e in events
                if e.department == r.department and e.status == r.status
            ),
            None,
        )
        for r in requests
        if r.status == "fee_due"
    }
    return {department: fee for department, fee in fees.items() if fee}
