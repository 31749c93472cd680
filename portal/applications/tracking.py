"""Recording what departments tell us, however it arrives (pushed, polled or in an answer), once.

Each event carries the backend's own id; the timeline keeps one row per id, so a webhook sent
twice, or an event both pushed and polled, shows once and notifies once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.applications.models import Application, DepartmentRequest, TimelineEvent
from portal.applications.notify import queue_notification
from portal.applications.statuses import is_final
from portal.contracts.base import News
from portal.identity.models import Citizen


async def record(
    db: AsyncSession, request: DepartmentRequest, news: list[News], issues_certificate: bool
) -> int:
    """Add the events not seen before to the timeline (and notify); returns how many were new.
    Commits. If the same event is being recorded elsewhere at this moment, the loser's
    transaction is refused by the unique id and run again without it."""
    for _attempt in range(3):
        try:
            added = await add_news(db, request, news, issues_certificate)
            await db.commit()
            return added
        except IntegrityError:
            await db.rollback()
            await db.refresh(request)
    raise RuntimeError("could not record department events")


async def add_news(
    db: AsyncSession, request: DepartmentRequest, news: list[News], issues_certificate: bool
) -> int:
    """`record` inside the caller's transaction (which commits): for changes that must land
    together with the news, such as a payment and its "Fee paid".

    The request's row is locked first: two recorders at once (a webhook and a poll, or two
    webhooks) would each work out the latest status from what they see, and the one that
    commits last would set a status that is not the latest. It is read again under the lock, so
    the status it holds is compared with what is stored now."""
    await db.flush()  # the caller's own changes to the request (a webhook's case id) are kept
    await db.refresh(request, with_for_update=True)
    application = await db.get(Application, request.application_id)
    assert application is not None
    citizen = await db.get(Citizen, application.citizen_id)
    ids = [item.external_id for item in news]
    seen = set(
        (
            await db.scalars(
                select(TimelineEvent.external_id).where(TimelineEvent.external_id.in_(ids))
            )
        ).all()
    )
    added = 0
    for item in sorted(news, key=lambda item: item.at):
        if item.external_id in seen:
            continue
        seen.add(item.external_id)
        event = TimelineEvent(
            application_id=application.id,
            department=request.department,
            status=item.status,
            note=item.note[:2000],
            data=item.data,
            external_id=item.external_id,
            occurred_at=item.at,
        )
        db.add(event)
        await db.flush()
        added += 1
        # "Received" needs no message: the confirmation already said where the application went.
        if citizen is not None and item.status != "received":
            await queue_notification(db, citizen, application, event)
    latest = await db.scalar(
        select(TimelineEvent.status)
        .where(
            TimelineEvent.application_id == application.id,
            TimelineEvent.department == request.department,
        )
        .order_by(TimelineEvent.occurred_at.desc(), TimelineEvent.id.desc())
        .limit(1)
    )
    if latest:
        request.status = latest
        request.finished = is_final(latest, issues_certificate)
    request.checked_at = datetime.now(UTC)
    if added:
        application.updated_at = datetime.now(UTC)
    await db.flush()
    return added
