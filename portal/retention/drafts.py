"""Drafts left unchanged: their owner is warned once, then, at least the warning period later and
only if still unchanged, the draft is deleted. Sent drafts (and their applications), and drafts
whose fee is being paid or was paid, are never touched."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, exists, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from portal.applications.models import Application
from portal.applications.notify import channel_target, destination
from portal.database.engine import aware
from portal.forms.models import Draft
from portal.identity.models import Citizen
from portal.outbox import enqueue
from portal.payments.models import LIVE, Payment
from portal.payments.upfront import PREFIX
from portal.settings import Settings

log = structlog.get_logger()
WARNING = "draft_warning"  # the outbox kind that tells the owner


def kept_for_payment() -> ColumnElement[bool]:
    """A draft whose fee is being paid or was paid: it will be sent, never thrown away (as the
    citizen's own Delete refuses)."""
    return exists().where(
        Payment.purpose == literal(PREFIX) + Draft.public_id,
        Payment.status.in_((*LIVE, "success")),
    )


def deletion_day(draft: Draft, settings: Settings) -> datetime:
    """When the purge may delete the draft: the retention period after its last change, and
    never sooner than the warning period after the warning."""
    idle_until = aware(draft.updated_at) + timedelta(days=settings.draft_retention_days)
    warned = draft.deletion_warned_at
    if warned is None:
        return idle_until
    return max(idle_until, aware(warned) + timedelta(days=settings.draft_warning_days))


def _due_for_warning(settings: Settings, now: datetime) -> list[ColumnElement[bool]]:
    """Unsent, unchanged until its warning is due, and not warned since its last change (a
    draft changed after a warning is warned again once it is left alone again)."""
    idle_since = now - timedelta(days=settings.draft_retention_days - settings.draft_warning_days)
    return [
        Draft.submitted_at.is_(None),
        Draft.updated_at <= idle_since,
        or_(Draft.deletion_warned_at.is_(None), Draft.deletion_warned_at < Draft.updated_at),
    ]


async def warn_drafts(db: AsyncSession, settings: Settings, now: datetime) -> int:
    """Mark each draft due as warned and queue its warning, one transaction per draft. The mark
    is written only where the draft is still due, so two workers at once warn once, and a draft
    changed meanwhile is not warned."""
    due = _due_for_warning(settings, now)
    rows = (
        await db.execute(
            select(Draft.id, Draft.public_id, Citizen)
            .join(Citizen, Citizen.id == Draft.citizen_id)
            .where(*due, ~kept_for_payment())
            .order_by(Draft.id)
        )
    ).all()
    # Where to send each, read before any commit or rollback expires the citizens.
    targets = [(row[0], row[1], destination(row[2], always=True)) for row in rows]
    warned = 0
    for draft_id, public_id, target in targets:
        marked = await db.execute(
            update(Draft)
            .where(Draft.id == draft_id, *due)
            .values(deletion_warned_at=now)
            .execution_options(synchronize_session=False)
        )
        if not getattr(marked, "rowcount", 0):
            await db.rollback()
            continue
        if target is None:  # no email or phone: nobody to tell; the period still runs
            log.info("draft_warning_unsendable", draft=public_id)
        else:
            enqueue(
                db,
                WARNING,
                key=f"draft-warning-{public_id}-{int(now.timestamp())}",
                target=channel_target(target[0]),
                draft=public_id,
            )
        await db.commit()
        warned += 1
    return warned


async def delete_drafts(db: AsyncSession, settings: Settings, now: datetime) -> int:
    """Drafts not changed for the retention period whose owner was warned after their last
    change, at least the warning period ago."""
    result = await db.execute(
        delete(Draft)
        .where(
            Draft.submitted_at.is_(None),
            Draft.updated_at <= now - timedelta(days=settings.draft_retention_days),
            Draft.deletion_warned_at.is_not(None),
            Draft.deletion_warned_at >= Draft.updated_at,
            Draft.deletion_warned_at <= now - timedelta(days=settings.draft_warning_days),
            ~exists().where(Application.draft_id == Draft.id),
            ~kept_for_payment(),
        )
        .execution_options(synchronize_session=False)
    )
    await db.commit()
    return int(getattr(result, "rowcount", 0) or 0)
