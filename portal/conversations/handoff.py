"""Handing a conversation to a person: the bot pauses, the conversation waits in the agents'
inbox (oldest first), one agent claims it and answers on the citizen's channel, then hands it
back to the bot. Each hand-off is a row, so waiting and handling times can be shown."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditLog
from portal.conversations.models import Conversation, Handoff
from portal.database.engine import aware, utcnow
from portal.i18n.formatting import city_zone
from portal.observability.metrics import handoff_claimed
from portal.staff.service import StaffMember


async def request(
    db: AsyncSession, audit: AuditLog, conversation: Conversation, reason: str
) -> None:
    """Queue the conversation for a person (the caller commits; the audit entry is written
    at once, on its own)."""
    if conversation.status == "bot":
        conversation.status = "waiting"
        conversation.handoff_reason = reason
        conversation.handoff_at = utcnow()
        db.add(Handoff(conversation_id=conversation.id, reason=reason))
    await audit.record("bot_handoff", actor="bot", subject=conversation.key, reason=reason)


async def current(db: AsyncSession, conversation: Conversation) -> Handoff | None:
    """The hand-off in progress, if the conversation is with a person."""
    if conversation.status == "bot":
        return None
    found: Handoff | None = await db.scalar(
        select(Handoff)
        .where(Handoff.conversation_id == conversation.id, Handoff.ended_at.is_(None))
        .order_by(Handoff.id.desc())
        .limit(1)
    )
    return found


async def claim(
    db: AsyncSession, audit: AuditLog, conversation: Conversation, member: StaffMember
) -> bool:
    """Take the conversation; False when another agent was first (or it went back to the bot).
    The conditional update makes two agents clicking at once end with one owner."""
    taken = await db.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id, Conversation.status == "waiting")
        .values(status="agent")
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        await db.commit()  # nothing changed: end the transaction (SQLite's write lock)
        return False
    held = await current(db, conversation)
    if held is None:  # queued before hand-offs were kept
        held = Handoff(conversation_id=conversation.id, reason=conversation.handoff_reason or "")
        db.add(held)
    held.agent, held.agent_name, held.claimed_at = member.actor, member.name, utcnow()
    await db.commit()
    handoff_claimed(held.reason, (held.claimed_at - aware(held.requested_at)).total_seconds())
    await db.refresh(conversation)
    await audit.record("handoff_claimed", actor=member.actor, subject=conversation.key)
    return True


async def end(
    db: AsyncSession, audit: AuditLog, conversation: Conversation, ended_by: str, actor: str = ""
) -> bool:
    """Back to the bot (the citizen wrote BOT, or the agent handed it back); False when it
    was not with a person any more."""
    held = await current(db, conversation)
    back = await db.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id, Conversation.status.in_(("waiting", "agent")))
        .values(status="bot", handoff_reason=None, handoff_at=None)
    )
    if back.rowcount != 1:  # type: ignore[attr-defined]
        await db.commit()  # nothing changed: end the transaction (SQLite's write lock)
        return False
    if held is not None:
        held.ended_at, held.ended_by = utcnow(), ended_by
    await db.commit()
    await db.refresh(conversation)
    action = "handoff_returned" if ended_by == "agent" else "bot_resumed"
    await audit.record(action, actor=actor or ended_by, subject=conversation.key)
    return True


def _seconds(later: datetime, earlier: datetime) -> float:
    """SQLite gives back naive times (they were stored as UTC)."""
    zoned = [t if t.tzinfo else t.replace(tzinfo=UTC) for t in (later, earlier)]
    return (zoned[0] - zoned[1]).total_seconds()


@dataclass(frozen=True)
class Spread:
    """Median and 90th percentile (nearest rank) of some durations, in seconds."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        if not values:
            return cls(0, None, None)
        ordered = sorted(values)
        return cls(
            len(ordered), statistics.median(ordered), ordered[math.ceil(0.9 * len(ordered)) - 1]
        )


@dataclass(frozen=True)
class Figures:
    requested: int
    waiting: Spread  # from asking for a person to an agent claiming it
    handling: Spread  # from the claim to the end


def today(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The city's day (FRONTDOOR_TIME_ZONE) around `now`: its start and the next day's, in UTC."""
    zone = city_zone()
    day = (now or datetime.now(UTC)).astimezone(zone).date()
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)


def figures(times: Iterable[tuple[datetime, datetime | None, datetime | None]]) -> Figures:
    """The figures of some hand-offs, from each one's times (asked, claimed, ended)."""
    times = list(times)
    waits = [_seconds(claimed, asked) for asked, claimed, _ in times if claimed]
    handling = [_seconds(ended, claimed) for _, claimed, ended in times if claimed and ended]
    return Figures(len(times), Spread.of(waits), Spread.of(handling))
