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


@dataclass
class _Waiting:
    """An entry to append, with what its request knew when it asked (its id, its address)."""

    action: str
    actor: str
    subject: str | None
    details: dict[str, Any]
    at: datetime
    request_id: str
    ip: str | None
    written: asyncio.Future[AuditEvent]


class AuditLog:
    """Appends events in transactions of their own, so a refused action is still recorded.

    Writers take turns: an asyncio lock within a worker, an advisory lock across processes on
    PostgreSQL. The UNIQUE(prev_hash) constraint is the last guard (SQLite across processes):
    a writer that loses the race re-reads the chain's end and tries again. The entries that
    arrive while one is being written are written together after it, chained in the order they
    came, in one transaction: one lock, one read of the chain's end and one commit for all,
    rather than each waiting for all those before it (every agent's search is audited).
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._turn = asyncio.Lock()
        self._waiting: list[_Waiting] = []

    async def record(
        self, action: str, *, actor: str, subject: str | None = None, **details: Any
    ) -> AuditEvent:
        entry = _Waiting(
            action,
            actor,
            subject,
            details,
            datetime.now(UTC).replace(microsecond=0),
            current_request_id(),
            current_client_ip(),
            asyncio.get_running_loop().create_future(),
        )
        self._waiting.append(entry)
        async with self._turn:
            # Not written with an earlier turn's entries (nor being written: a writer whose
            # request was cancelled lets go of its turn while its entries are still written).
            if not entry.written.done() and self._waiting:
                batch, self._waiting = self._waiting, []
                # Finished even if this request is cancelled: the others wait for it too.
                await asyncio.shield(self._write(batch))
        return await entry.written

    async def _write(self, batch: list[_Waiting]) -> None:
        """Append the batch and tell each waiting request its event (or the error)."""
        try:
            events = await self._append(batch)
        except Exception as error:
            if len(batch) == 1:
                batch[0].written.set_exception(error)
                return
            for entry in batch:  # one entry that cannot be written fails only its own request
                await self._write([entry])
            return
        for entry, event in zip(batch, events, strict=True):
            entry.written.set_result(event)

    async def _append(self, batch: list[_Waiting]) -> list[AuditEvent]:
        for attempt in range(ATTEMPTS):
            async with self.sessionmaker() as db:
                if db.bind.dialect.name == "postgresql":
                    await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
                last = await db.scalar(
                    select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
                )
                events = []
                for entry in batch:
                    event = AuditEvent(
                        at=entry.at,
                        actor=entry.actor,
                        action=entry.action,
                        subject=entry.subject,
                        details=entry.details,
                        request_id=entry.request_id,
                        ip=entry.ip,
                        prev_hash=last or GENESIS,
                    )
                    event.hash = last = entry_hash(event.prev_hash, event)
                    events.append(event)
                db.add_all(events)
                try:
                    await db.commit()
                except IntegrityError:
                    await db.rollback()  # another process appended first: chain after it
                    await asyncio.sleep(random.uniform(0, 0.01 * (attempt + 1)))
                    continue
                for event in events:  # each under its own request's id, not the writer's
                    log.info(
                        "audit",
                        action=event.action,
                        actor=event.actor,
                        subject=event.subject,
                        request_id=event.request_id,
                    )
                return events
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
