"""Writing and checking the audit chain."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.audit.models import GENESIS, AuditEvent
from portal.web.context import current_client_ip, current_request_id

log = structlog.get_logger(component="audit")
ATTEMPTS = 10
LOCK_KEY = 0x46443A4155444954  # "FD:AUDIT"


def entry_hash(prev_hash: str, event: AuditEvent) -> str:
    """SHA-256 of the previous hash and this entry's content in a canonical JSON form."""
    at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)  # SQLite drops the zone
    content = {
        "at": at.astimezone(UTC).isoformat(),
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
        "details": event.details,
        "request_id": event.request_id,
        "ip": event.ip,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


class AuditLog:
    """Appends events, each in its own transaction so a refused action is still recorded.

    Writers take turns: an asyncio lock within a worker, an advisory lock across processes on
    PostgreSQL. The UNIQUE(prev_hash) constraint is the last guard (SQLite across processes):
    a writer that loses the race re-reads the chain's end and tries again.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._turn = asyncio.Lock()

    async def record(
        self, action: str, *, actor: str, subject: str | None = None, **details: Any
    ) -> AuditEvent:
        async with self._turn:
            return await self._append(action, actor, subject, details)

    async def _append(
        self, action: str, actor: str, subject: str | None, details: dict[str, Any]
    ) -> AuditEvent:
        for attempt in range(ATTEMPTS):
            async with self.sessionmaker() as db:
                if db.bind.dialect.name == "postgresql":
                    await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
                last = await db.scalar(
                    select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
                )
                event = AuditEvent(
                    at=datetime.now(UTC).replace(microsecond=0),
                    actor=actor,
                    action=action,
                    subject=subject,
                    details=details,
                    request_id=current_request_id(),
                    ip=current_client_ip(),
                    prev_hash=last or GENESIS,
                )
                event.hash = entry_hash(event.prev_hash, event)
                db.add(event)
                try:
                    await db.commit()
                except IntegrityError:
                    await db.rollback()  # another process appended first: chain after it
                    await asyncio.sleep(random.uniform(0, 0.01 * (attempt + 1)))
                    continue
                log.info("audit", action=action, actor=actor, subject=subject)
                return event
        raise RuntimeError("audit log: could not append after several attempts")


@dataclass(frozen=True)
class ChainReport:
    entries: int
    broken_at: int | None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


async def verify_chain(db: AsyncSession) -> ChainReport:
    """Walk the chain from the start; report the first entry whose link or content is wrong."""
    expected_prev = GENESIS
    count = 0
    for event in await db.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        count += 1
        if event.prev_hash != expected_prev:
            return ChainReport(
                count, event.id, "does not follow the entry before it (removed or reordered)"
            )
        if entry_hash(event.prev_hash, event) != event.hash:
            return ChainReport(count, event.id, "its content was changed after it was written")
        expected_prev = event.hash
    return ChainReport(count, None)
