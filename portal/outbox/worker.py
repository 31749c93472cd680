"""The outbox worker: takes due messages, hands each to its kind's handler, retries with backoff.

Several workers may run. Each message is leased on its own, for a short time, and the lease is
renewed while its handler runs, so a worker that dies holds nothing for long; only the holder of
the lease (its token) may finish a message, so a worker that lost its lease never marks done
what another has taken. The attempt is counted when the message is taken, before the call, so
an attempt cut short by a crash still counts, and the next attempt knows it may have gone out
(`Attempt.in_doubt`). Each worker delivers several messages at once, at most `per_backend` to one
backend. The handler's call carries the message key as idempotency key, so a call repeated after
a lost answer creates nothing twice. A backend that is down is retried (capped backoff with
jitter) until it accepts; one that refuses the request (4xx) parks the message for a person.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets
import socket
from collections import Counter
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from backend_clients.http import BackendRejected, BackendUnavailable
from portal.database.engine import autocommit
from portal.observability.tracing import continue_trace
from portal.outbox.models import OutboxMessage

log = structlog.get_logger()

Handler = Callable[[OutboxMessage], Awaitable[None]]
LEASE = timedelta(seconds=10)
RENEW_SECONDS = 3.0
MAX_DELAY_SECONDS = 30.0
# Who holds a lease: host, process and this start of it (a restarted container is often PID 1
# again, so the pid alone would not tell a dead predecessor from this process).
HOST = socket.gethostname()[:80]
HOLDER = f"{HOST}:{os.getpid()}:{secrets.token_hex(4)}"


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s ... up to 30 s, with jitter in the upper half, so retries of a backend
    that came back do not arrive together and nobody waits long after it recovers."""
    seconds = min(MAX_DELAY_SECONDS, 2.0 ** max(attempts - 1, 0))
    return timedelta(seconds=random.uniform(seconds / 2, seconds))


class Outbox:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: dict[str, Handler],
        on_failure: dict[str, Handler] | None = None,
        *,
        concurrency: int = 16,
        per_backend: int = 4,
        on_finish: Callable[[OutboxMessage, str], None] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.handlers = handlers
        # Per kind: what to record when a message is given up (so nobody waits in silence).
        self.on_failure = on_failure or {}
        self.concurrency = concurrency
        self.per_backend = per_backend
        # Told of every attempt's outcome (done, retry, failed, lost), for metrics.
        self.on_finish = on_finish
        self.busy: Counter[str] = Counter()  # messages in hand per backend
        self.tasks: set[asyncio.Task[bool]] = set()
        self.delivered = 0  # messages this worker has done, for run_once

    async def claim(
        self,
        limit: int = 20,
        *,
        only: int | None = None,
        skip: Collection[int] = (),
        sequence: str | None = None,
    ) -> list[OutboxMessage]:
        """Lease up to `limit` due messages (or the one `only`, or of one `sequence` only), not
        those in `skip` nor those behind a pending message of their sequence, keeping to
        `per_backend` per backend across what this worker already holds (not for one message
        asked for by id or sequence); the attempt is counted now."""
        now = datetime.now(UTC)
        earlier = aliased(OutboxMessage)
        first_in_line = or_(
            OutboxMessage.ordered_by.is_(None),
            ~exists().where(
                earlier.ordered_by == OutboxMessage.ordered_by,
                earlier.status == "pending",
                earlier.id < OutboxMessage.id,
            ),
        )
        due = (
            select(OutboxMessage.id, OutboxMessage.target, OutboxMessage.attempt_started_at)
            .where(
                OutboxMessage.status == "pending",
                or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
                first_in_line,
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(max(limit * 4, 50))
            .with_for_update(skip_locked=True)
        )
        due = (
            due.where(OutboxMessage.id == only)
            if only is not None
            else due.where(OutboxMessage.next_attempt_at <= now)
        )
        if sequence is not None:
            due = due.where(OutboxMessage.ordered_by == sequence)
        if skip:
            due = due.where(OutboxMessage.id.not_in(skip))
        async with self.sessionmaker() as db:
            chosen: list[int] = []
            cut_short: set[int] = set()
            holding = Counter(self.busy)
            for message_id, target, started in (await db.execute(due)).all():
                if len(chosen) >= limit:
                    break
                if holding[target] < self.per_backend or only is not None or sequence is not None:
                    holding[target] += 1
                    chosen.append(message_id)
                    if started is not None:  # that attempt never ended: its worker died
                        cut_short.add(message_id)
            if not chosen:
                return []
            claimed = list(
                await db.scalars(
                    update(OutboxMessage)
                    # Again here: SQLite has no FOR UPDATE, and another worker (or deliver_now)
                    # may have leased one since the select; that one is not taken twice.
                    .where(
                        OutboxMessage.id.in_(chosen),
                        OutboxMessage.status == "pending",
                        or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
                    )
                    .values(
                        locked_until=now + LEASE,
                        lease_token=secrets.token_hex(16),
                        leased_by=HOLDER,
                        attempts=OutboxMessage.attempts + 1,
                        attempt_started_at=now,
                    )
                    .returning(OutboxMessage)
                    .execution_options(synchronize_session=False)
                )
            )
            for message in claimed:
                message.in_doubt = message.id in cut_short
            db.expunge_all()  # handlers read them after this session ends
            await db.commit()
        return sorted(claimed, key=lambda m: m.id)

    async def release_orphans(self) -> int:
        """At start: give back at once the leases of a worker on this host that has died (a
        crash and a restart), instead of leaving them until they run out."""
        async with self.sessionmaker() as db:
            holders = await db.scalars(
                select(OutboxMessage.leased_by)
                .where(
                    OutboxMessage.status == "pending",
                    OutboxMessage.leased_by.like(f"{HOST}:%"),
                    OutboxMessage.locked_until > datetime.now(UTC),
                )
                .distinct()
            )
            dead = [holder for holder in holders if holder and _dead(holder)]
            if not dead:
                return 0
            result = await db.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "pending", OutboxMessage.leased_by.in_(dead))
                .values(locked_until=None)
            )
            await db.commit()
        released = int(getattr(result, "rowcount", 0))
        log.warning("outbox_orphans_released", holders=dead, messages=released)
        return released

    async def _if_held(self, message: OutboxMessage, **values: Any) -> bool:
        """Write `values` to the message only while our lease on it holds; False when another
        worker has taken it since (nothing written). One statement, committed by itself."""
        async with autocommit(self.sessionmaker.kw["bind"]).connect() as connection:
            result = await connection.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message.id,
                    OutboxMessage.lease_token == message.lease_token,
                )
                .values(**values)
            )
        held = bool(getattr(result, "rowcount", 0))
        if not held:
            log.error("outbox_lease_lost", kind=message.kind, key=message.key)
        return held

    async def _finish(self, message: OutboxMessage, outcome: str, **values: Any) -> bool:
        """End this attempt if we still hold the lease."""
        kept = await self._if_held(
            message, locked_until=None, lease_token=None, attempt_started_at=None, **values
        )
        if self.on_finish is not None:
            self.on_finish(message, outcome if kept else "lost")
        return kept

    async def _renew(self, message: OutboxMessage) -> None:
        """Keep the lease while the handler works (cancelled when it returns)."""
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            if not await self._if_held(message, locked_until=datetime.now(UTC) + LEASE):
                return

    async def deliver(self, message: OutboxMessage) -> bool:
        """Run one leased message; True when it is done."""
        handler = self.handlers.get(message.kind)
        renewing = asyncio.create_task(self._renew(message))
        try:
            if handler is None:
                raise LookupError(f"no handler for {message.kind!r}")
            # The delivery joins the trace of the request that queued it.
            with continue_trace(
                message.trace_context,
                f"outbox {message.kind}",
                **{"outbox.target": message.target, "outbox.attempt": message.attempts},
            ):
                await handler(message)
        except BackendUnavailable as error:
            log.warning("outbox_retry", kind=message.kind, key=message.key, error=str(error))
            await self._finish(
                message,
                "retry",
                last_error=str(error)[:2000],
                next_attempt_at=datetime.now(UTC) + backoff(message.attempts),
            )
            return False
        except (BackendRejected, LookupError, ValueError) as error:
            log.error("outbox_failed", kind=message.kind, key=message.key, error=str(error))
            if await self._finish(
                message, "failed", status="failed", last_error=str(error)[:2000]
            ) and (failed := self.on_failure.get(message.kind)):
                await failed(message)
            return False
        except Exception as error:  # a bug: keep the message, retry later, say so loudly
            log.exception("outbox_error", kind=message.kind, key=message.key)
            await self._finish(
                message,
                "retry",
                last_error=f"{type(error).__name__}: {error}"[:2000],
                next_attempt_at=datetime.now(UTC) + backoff(message.attempts),
            )
            return False
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
        return await self._finish(message, "done", status="done", done_at=datetime.now(UTC))

    async def deliver_now(self, message_id: int) -> bool:
        """Deliver one message just written, in the caller's process (a reply the citizen is
        waiting for), then those queued behind it; when it cannot be taken (an earlier message
        of its sequence is not done yet: whoever ends that one takes this one next) or fails,
        the workers retry it as usual."""
        claimed = await self.claim(1, only=message_id)
        return bool(claimed) and await self._deliver_in_line(claimed[0])

    async def _next_in_line(self, message: OutboxMessage) -> None:
        """Deliver, here and now, each due message that waited behind `message` in its sequence
        (a texter's next turn, an agent's next reply): nobody polls for them. Nothing is taken
        while `message` is still pending (to be retried): its sequence waits for it."""
        while message.ordered_by is not None and await self._behind(message):
            following = await self.claim(1, sequence=message.ordered_by)
            if not following:
                return
            message = following[0]
            self.delivered += await self.deliver(message)

    async def _behind(self, message: OutboxMessage) -> bool:
        """Whether anything waits behind `message` in its sequence: one indexed read outside a
        transaction, since most often nothing does (a claim cost a chat turn several times
        more)."""
        waiting = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.ordered_by == message.ordered_by,
                OutboxMessage.status == "pending",
                OutboxMessage.id > message.id,
            )
            .limit(1)
        )
        async with autocommit(self.sessionmaker.kw["bind"]).connect() as connection:
            return await connection.scalar(waiting) is not None

    async def _deliver_in_line(self, message: OutboxMessage) -> bool:
        done = await self.deliver(message)
        await self._next_in_line(message)
        return done

    def _start(self, message: OutboxMessage) -> None:
        self.busy[message.target] += 1
        task = asyncio.create_task(self._deliver_in_line(message))
        self.tasks.add(task)

        def done(finished: asyncio.Task[bool]) -> None:
            self.tasks.discard(finished)
            self.busy[message.target] -= 1
            if not finished.cancelled() and finished.exception() is None and finished.result():
                self.delivered += 1

        task.add_done_callback(done)

    async def fill(self, tried: set[int] | None = None) -> int:
        """Start as many due messages as there is room for, none of `tried` (which grows by
        those started); how many were started."""
        room = self.concurrency - len(self.tasks)
        if room <= 0:
            return 0
        claimed = await self.claim(room, skip=tried or ())
        for message in claimed:
            self._start(message)
            if tried is not None:
                tried.add(message.id)
        return len(claimed)

    async def run_once(self) -> int:
        """One pass: deliver every message due now (and those its deliveries queue), each at
        most once, and wait for them; a retry falling due during the pass waits for the next
        one. Returns how many were done."""
        before = self.delivered
        tried: set[int] = set()
        while await self.fill(tried) or self.tasks:
            if self.tasks:
                await asyncio.wait(self.tasks, return_when=asyncio.FIRST_COMPLETED)
        return self.delivered - before

    async def run(
        self,
        stop: asyncio.Event,
        idle_seconds: float,
        periodic: Callable[[], Awaitable[Any]] | None = None,
        period_seconds: float = 30.0,
    ) -> None:
        """Until `stop` is set: keep up to `concurrency` deliveries going, and run `periodic`
        now and then beside them (asking slow departments for news must not hold deliveries
        up); on stop, let the deliveries in hand finish (their leases are released)."""
        with contextlib.suppress(Exception):  # a database not there yet: the leases run out
            await self.release_orphans()
        beside = asyncio.create_task(self._every(stop, periodic, period_seconds))
        while not stop.is_set():
            started = 0
            try:
                started = await self.fill()
            except Exception:  # the database restarting must not end the worker
                log.exception("worker_loop_error")
            if started and len(self.tasks) < self.concurrency:
                continue  # more may be due at once
            waiting: list[asyncio.Future[Any]] = [asyncio.ensure_future(stop.wait())]
            waiting += list(self.tasks)
            await asyncio.wait(waiting, timeout=idle_seconds, return_when=asyncio.FIRST_COMPLETED)
            waiting[0].cancel()
        if self.tasks:
            log.info("worker_finishing", in_hand=len(self.tasks))
            await asyncio.wait(self.tasks)
        beside.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beside

    @staticmethod
    async def _every(
        stop: asyncio.Event, periodic: Callable[[], Awaitable[Any]] | None, seconds: float
    ) -> None:
        # Not at start: a worker restarted after a crash delivers first.
        first = random.uniform(seconds / 2, seconds)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=first)
        while periodic is not None and not stop.is_set():
            try:
                await periodic()
            except Exception:
                log.exception("worker_periodic_error")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=seconds)


def _dead(holder: str) -> bool:
    """Whether the process that took a lease on this host is gone: its pid is not running, or
    is this very process under another start (a restarted container's PID 1)."""
    parts = holder.rsplit(":", 2)
    pid = parts[1] if len(parts) == 3 else ""
    if holder == HOLDER or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's process: alive
        return False
    return False
