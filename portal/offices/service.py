"""What an office's staff may see and do: the applications sent to their office by email, and the
steps that move one on. Each step becomes a department event (`News`) recorded as any
department's is, so the citizen's timeline and notifications work as for every other office."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.applications.models import Application, DepartmentRequest, Document, TimelineEvent
from portal.applications.tracking import record
from portal.catalogue.loader import Catalogue
from portal.contracts.base import News
from portal.i18n import lazy_gettext as _l
from portal.staff.service import StaffMember

PAGE_SIZE = 20
NOTE_LIMIT = 2000
CONTRACT = "email"  # the offices that have only a mailbox record their steps here


@dataclass(frozen=True)
class Step:
    """One thing an office can record, the status the citizen then sees, and whether the
    citizen must be told why (a note)."""

    status: str
    button: Any
    needs_note: bool


STEPS: dict[str, Step] = {
    "received": Step("in_review", _l("Received"), needs_note=False),
    "information": Step("information_requested", _l("More information needed"), needs_note=True),
    "approved": Step("approved", _l("Approved"), needs_note=False),
    "rejected": Step("rejected", _l("Rejected"), needs_note=True),
}


def offices_of(member: StaffMember, catalogue: Catalogue) -> list[str]:
    """The departments this member serves that receive applications by email."""
    return sorted(
        department
        for department in member.departments
        if (known := catalogue.departments.get(department)) and known.contract == CONTRACT
    )


async def sent_to(
    db: AsyncSession, offices: list[str], page: int
) -> tuple[list[tuple[DepartmentRequest, Application]], int]:
    """The applications sent to these offices, newest first, one page of them, and how many."""
    if not offices:
        return [], 0
    sent = (DepartmentRequest.department.in_(offices), DepartmentRequest.case_id.is_not(None))
    total = await db.scalar(select(func.count(DepartmentRequest.id)).where(*sent)) or 0
    rows = await db.execute(
        select(DepartmentRequest, Application)
        .join(Application, Application.id == DepartmentRequest.application_id)
        .where(*sent)
        .order_by(DepartmentRequest.delivered_at.desc(), DepartmentRequest.id.desc())
        .limit(PAGE_SIZE)
        .offset((max(page, 1) - 1) * PAGE_SIZE)
    )
    return [(request, application) for request, application in rows.tuples()], total


async def one_sent(
    db: AsyncSession, offices: list[str], public_id: str
) -> tuple[DepartmentRequest, Application] | None:
    """One application sent to one of these offices; None for any other (the page says 404)."""
    if not offices:
        return None
    row = (
        await db.execute(
            select(DepartmentRequest, Application)
            .join(Application, Application.id == DepartmentRequest.application_id)
            .where(
                DepartmentRequest.public_id == public_id,
                DepartmentRequest.department.in_(offices),
                DepartmentRequest.case_id.is_not(None),
            )
        )
    ).first()
    return (row[0], row[1]) if row else None


async def history(db: AsyncSession, request: DepartmentRequest) -> list[TimelineEvent]:
    """This office's part of the timeline (its steps and the citizen's answers), oldest first."""
    rows = await db.scalars(
        select(TimelineEvent)
        .where(
            TimelineEvent.application_id == request.application_id,
            TimelineEvent.department == request.department,
        )
        .order_by(TimelineEvent.occurred_at, TimelineEvent.id)
    )
    return list(rows.all())


async def documents_of(
    db: AsyncSession, events: list[TimelineEvent], in_answers: list[str]
) -> list[Document]:
    """The documents the office was sent: those in its answers and those the citizen added
    when answering its questions. Only these may be downloaded from its page."""
    ours = [*in_answers]
    for event in events:
        if event.status == "information_sent":
            ours.extend(str(item) for item in event.data.get("documents") or [])
    if not ours:
        return []
    rows = await db.scalars(select(Document).where(Document.public_id.in_(ours)))
    found = {document.public_id: document for document in rows.all()}
    return [found[public_id] for public_id in dict.fromkeys(ours) if public_id in found]


def steps_open(request: DepartmentRequest) -> list[str]:
    """The steps that can be recorded now: none once the office has finished, and not the
    state it is already in (a second press of the same button records nothing)."""
    if request.finished:
        return []
    return [name for name, step in STEPS.items() if step.status != request.status]


async def take_step(
    db: AsyncSession,
    catalogue: Catalogue,
    request: DepartmentRequest,
    name: str,
    note: str,
    language: str,
) -> bool:
    """Record one step as the office's event; False when it cannot be taken now. Its id counts
    the office's steps on this application, so two presses at once record it once."""
    if name not in steps_open(request):
        return False
    step = STEPS[name]
    prefix = f"office:{request.public_id}:"
    taken = await db.scalar(
        select(func.count(TimelineEvent.id)).where(TimelineEvent.external_id.like(f"{prefix}%"))
    )
    news = News(
        external_id=f"{prefix}{(taken or 0) + 1}",
        status=step.status,
        at=datetime.now(UTC),
        note=note[:NOTE_LIMIT],
        data={"note_language": language} if note else {},
    )
    added = await record(db, request, [news], catalogue.certifies(request.department))
    return added == 1
