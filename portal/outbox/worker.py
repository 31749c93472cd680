"""The outbox worker: takes due messages, hands each to its kind's handler, retries with backoff.

Several workers may run: each claims a batch with a lease (PostgreSQL: FOR UPDATE SKIP LOCKED),
so two never hold the same message; a worker that dies loses its lease and another takes over.
The handler's call carries the message key as idempotency key, so a call repeated after a lost
answer creates nothing twice. A backend that is down is retried until it accepts; one that
refuses the request (4xx) parks the message as failed for a person to look at.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend_clients.http import BackendRejected, BackendUnavailable
from portal.outbox.models import OutboxMessage

log = structlog.get_logger()

Handler = Callable[[OutboxMessage], Awaitable[None]]
LEASE = timedelta(seconds=120)
MAX_DELAY_SECONDS = 300.0


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s ... up to 5 minutes, with jitter so retries do not arrive together."""
    seconds = min(MAX_DELAY_SECONDS, 2.0 ** max(attempts - 1, 0))
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


class Outbox:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: dict[str, Handler],
        on_failure: dict[str, Handler] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.handlers = handlers
        # Per kind: what to record when a message is given up (so nobody waits in silence).
        self.on_failure = on_failure or {}

    async def claim(self, limit: int = 20) -> list[int]:
        """Take up to `limit` due messages for this worker."""
        now = datetime.now(UTC)
        due = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self.sessionmaker() as db:
            claimed = await db.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(due.scalar_subquery()))
                .values(locked_until=now + LEASE)
                .returning(OutboxMessage.id)
            )
            ids = sorted(claimed.all())
            await db.commit()
        return ids

    async def _finish(self, message_id: int, **values: Any) -> None:
        async with self.sessionmaker() as db:
            await db.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(locked_until=None, **values)
            )
            await db.commit()

    async def deliver(self, message_id: int) -> bool:
        """Run one claimed message; True when it is done."""
        async with self.sessionmaker() as db:
            message = await db.get(OutboxMessage, message_id)
        if message is None or message.status != "pending":
            return False
        handler = self.handlers.get(message.kind)
        attempts = message.attempts + 1
        try:
            if handler is None:
                raise LookupError(f"no handler for {message.kind!r}")
            await handler(message)
        except BackendUnavailable as error:
            log.warning("outbox_retry", kind=message.kind, key=message.key, error=str(error))
            await self._finish(
                message_id,
                attempts=attempts,
                last_error=str(error)[:2000],
                next_attempt_at=datetime.now(UTC) + backoff(attempts),
            )
            return False
        except (BackendRejected, LookupError, ValueError) as error:
            log.error("outbox_failed", kind=message.kind, key=message.key, error=str(error))
            await self._finish(
                message_id, attempts=attempts, status="failed", last_error=str(error)[:2000]
            )
            if failed := self.on_failure.get(message.kind):
                await failed(message)
            return False
        except Exception as error:  # a bug: keep the message, retry later, say so loudly
            log.exception("outbox_error", kind=message.kind, key=message.key)
            await self._finish(
                message_id,
                attempts=attempts,
                last_error=f"{type(error).__name__}: {error}"[:2000],
                next_attempt_at=datetime.now(UTC) + backoff(attempts),
            )
            return False
        await self._finish(message_id, attempts=attempts, status="done", done_at=datetime.now(UTC))
        return True

    async def run_once(self) -> int:
        """Deliver every message due now; returns how many were done."""
        done = 0
        while ids := await self.claim():
            for message_id in ids:
                done += await self.deliver(message_id)
            if len(ids) < 20:
                break
        return done

    async def run(
        self,
        stop: asyncio.Event,
        idle_seconds: float,
        periodic: Callable[[], Awaitable[Any]] | None = None,
        period_seconds: float = 30.0,
    ) -> None:
        """Until `stop` is set: deliver what is due, run `periodic` now and then, sleep."""
        last_periodic = 0.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                await self.run_once()
                if periodic and loop.time() - last_periodic >= period_seconds:
                    last_periodic = loop.time()
                    await periodic()
            except Exception:  # the database restarting must not end the worker
                log.exception("worker_loop_error")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=idle_seconds)
