"""The outbox under what real processes and networks do: a worker dies mid-send, a delivery takes
longer than its lease, two workers reach for one message, a department's answer is lost or a
request reaches it twice. Nothing may be lost and nothing sent twice."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from backend_clients.http import BackendUnavailable
from conftest import Sandbox, migrate, run_async
from portal.app import create_app
from portal.applications.models import Application, Notification
from portal.database import make_engine
from portal.identity.models import Citizen
from portal.outbox import enqueue
from portal.outbox import worker as outbox_worker
from portal.outbox.models import OutboxMessage
from portal.outbox.worker import Outbox
from portal.settings import Settings
from tests.journey_support import case_of, execute, run_worker, sent_application
from tests.support import sign_in_as

TWILIO = "/twilio/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json"
PHONE = "+34600222333"


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database_url=database_url)


@pytest.fixture
def ana(settings: Settings) -> Any:
    with TestClient(create_app(settings)) as client:
        assert sign_in_as(client, "ana").status_code == 303
        yield client


def _texts(sandbox: Sandbox, reference: str) -> list[str]:
    auth = ("AC00000000000000000000000000000000", "sandbox-auth-token")
    answer = httpx.get(f"{sandbox.url}{TWILIO}", params={"To": PHONE}, auth=auth)
    return [m["body"] for m in answer.json()["messages"] if reference in m["body"]]


async def _crash_after_sending(database_url: str, reference: str, started: bool) -> None:
    """As if the worker died after Twilio took the text but before it wrote so: the
    notification unsent, its message pending with a lease run out (and, when `started`, the
    attempt still open, as a worker that dies leaves it)."""
    engine = make_engine(database_url)
    async with async_sessionmaker(engine)() as db:
        notification = await db.scalar(
            select(Notification)
            .join(Application, Application.id == Notification.application_id)
            .where(Application.reference == reference, Notification.channel == "sms")
        )
        assert notification is not None and notification.status == "sent"
        notification.status = "queued"
        notification.sent_at = None
        past = datetime.now(UTC) - timedelta(seconds=5)
        await db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.payload["notification_id"].as_integer() == notification.id)
            .values(
                status="pending",
                next_attempt_at=past,
                locked_until=past,
                lease_token="dead-worker",
                attempt_started_at=past if started else None,
            )
        )
        await db.commit()
    await engine.dispose()


async def _notification_state(database_url: str, reference: str) -> tuple[str, int]:
    engine = make_engine(database_url)
    async with async_sessionmaker(engine)() as db:
        notification = await db.scalar(
            select(Notification)
            .join(Application, Application.id == Notification.application_id)
            .where(Application.reference == reference, Notification.channel == "sms")
        )
        assert notification is not None
        attempts = await db.scalar(
            select(OutboxMessage.attempts).where(
                OutboxMessage.payload["notification_id"].as_integer() == notification.id
            )
        )
    await engine.dispose()
    return notification.status, int(attempts or 0)


def test_a_text_whose_worker_died_mid_send_is_not_sent_again(
    ana: Any, settings: Settings, sandbox: Sandbox, database_url: str
) -> None:
    channel = update(Citizen).where(Citizen.subject.like("citizen-ana-%"))
    run_async(execute(database_url, channel.values(preferred_channel="sms", phone=PHONE)))
    try:
        reference = sent_application(ana, settings)  # the worker sends "application sent"
        assert len(_texts(sandbox, reference)) == 1

        # The worker died between Twilio's answer and recording it: the next worker asks
        # Twilio's message list first, finds the text there, and does not send it again.
        run_async(_crash_after_sending(database_url, reference, started=True))
        run_worker(settings)
        assert len(_texts(sandbox, reference)) == 1
        assert run_async(_notification_state(database_url, reference)) == ("sent", 2)

        # A failure known to have happened before the call (no attempt left open) is simply
        # sent again: that is what the open attempt tells apart.
        run_async(_crash_after_sending(database_url, reference, started=False))
        run_worker(settings)
        assert len(_texts(sandbox, reference)) == 2
    finally:
        reset = channel.values(preferred_channel=None, phone=None)
        run_async(execute(database_url, reset))


def test_a_department_that_did_the_work_but_whose_answer_was_lost_gets_it_once(
    ana: Any, settings: Settings, sandbox: Sandbox
) -> None:
    sandbox.set_fault("tax", lost_answer_rate=1.0)
    reference = sent_application(ana, settings)  # tax's answer is lost: retried later
    tax = case_of(sandbox, "tax", reference)  # ...but the tax office has the case
    sandbox.set_fault("tax", duplicate_rate=1.0)  # and now every request arrives twice
    _due_now(settings.database_url)
    run_worker(settings)
    cases = [c for c in sandbox.cases("tax") if c["request"]["application_reference"] == reference]
    assert len(cases) == 1 and cases[0]["case_id"] == tax["case_id"]
    assert cases[0]["create_calls"] >= 3  # lost, then twice: one case all the same
    page = ana.get(f"/applications/{reference}").text
    assert "We are having trouble sending this" not in page


def _due_now(database_url: str) -> None:
    soon = datetime.now(UTC) - timedelta(seconds=1)
    pending = update(OutboxMessage).where(OutboxMessage.status == "pending")
    run_async(execute(database_url, pending.values(next_attempt_at=soon)))


# The lease itself, on PostgreSQL, where several workers really compete.


@pytest.fixture
def pg_sessions(fresh_database: Callable[[str], str]) -> Any:
    url = fresh_database("postgresql")
    migrate(url)
    engine = make_engine(url)
    yield async_sessionmaker(engine, expire_on_commit=False)
    run_async(engine.dispose())


async def _queued(sessions: Any, key: str) -> int:
    async with sessions() as db:
        message = enqueue(db, "slow", key, target="tax")
        await db.commit()
        return int(message.id)


async def _row(sessions: Any, message_id: int) -> OutboxMessage:
    async with sessions() as db:
        row = await db.get(OutboxMessage, message_id)
        assert row is not None
        return row


def test_a_delivery_longer_than_its_lease_is_not_taken_by_another_worker(
    pg_sessions: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox_worker, "LEASE", timedelta(seconds=1))
    monkeypatch.setattr(outbox_worker, "RENEW_SECONDS", 0.2)
    calls: list[str] = []

    async def slow(message: OutboxMessage) -> None:
        calls.append(message.key)
        await asyncio.sleep(3)  # three leases long

    async def scenario() -> tuple[list[OutboxMessage], OutboxMessage]:
        message_id = await _queued(pg_sessions, "slow-1")
        first = Outbox(pg_sessions, {"slow": slow})
        second = Outbox(pg_sessions, {"slow": slow})
        working = asyncio.create_task(first.run_once())
        taken: list[OutboxMessage] = []
        for _ in range(12):  # the other worker keeps reaching for it meanwhile
            await asyncio.sleep(0.25)
            taken += await second.claim()
        assert await working == 1
        return taken, await _row(pg_sessions, message_id)

    taken, row = run_async(scenario())
    assert taken == [] and calls == ["slow-1"]
    assert (row.status, row.attempts, row.lease_token) == ("done", 1, None)


def test_a_worker_that_lost_its_lease_does_not_mark_the_message_done(
    pg_sessions: Any,
) -> None:
    outcomes: list[str] = []

    async def fails(message: OutboxMessage) -> None:
        raise BackendUnavailable("tax: down")

    async def scenario() -> OutboxMessage:
        message_id = await _queued(pg_sessions, "stolen-1")
        late = Outbox(pg_sessions, {}, on_finish=lambda m, outcome: outcomes.append(outcome))
        [held] = await late.claim()
        # It stalls past its lease (a long pause, a network partition): another takes over.
        async with pg_sessions() as db:
            expired = datetime.now(UTC) - timedelta(seconds=1)
            await db.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(locked_until=expired)
            )
            await db.commit()
        other = Outbox(pg_sessions, {"slow": fails})
        [taken] = await other.claim()
        assert taken.in_doubt  # the first attempt never ended
        await other.deliver(taken)  # the department is down: to be retried
        assert not await late._finish(held, "done", status="done")
        return await _row(pg_sessions, message_id)

    row = run_async(scenario())
    assert outcomes == ["lost"]
    assert (row.status, row.attempts, row.last_error) == ("pending", 2, "tax: down")


def test_each_worker_keeps_to_its_cap_per_backend(pg_sessions: Any) -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        async with pg_sessions() as db:
            for number in range(10):
                enqueue(db, "slow", f"tax-{number}", target="tax")
            for number in range(3):
                enqueue(db, "slow", f"mail-{number}", target="mail")
            await db.commit()
        worker = Outbox(pg_sessions, {}, concurrency=16, per_backend=4)
        first = await worker.claim(16)
        for message in first:
            worker.busy[message.target] += 1
        second = await worker.claim(16)  # tax is full until one of its four ends
        return [m.target for m in first], [m.target for m in second]

    first, second = run_async(scenario())
    assert sorted(first) == ["mail"] * 3 + ["tax"] * 4
    assert second == []


def test_a_restarted_worker_takes_back_at_once_what_its_dead_predecessor_held(
    pg_sessions: Any,
) -> None:
    gone = subprocess.Popen(["true"])  # a process that has ended: its pid is free
    gone.wait()

    async def scenario() -> tuple[int, list[str]]:
        dead_id = await _queued(pg_sessions, "held-by-the-dead")
        alive_id = await _queued(pg_sessions, "held-by-the-living")
        later = datetime.now(UTC) + timedelta(seconds=60)
        async with pg_sessions() as db:
            for message_id, holder in (
                (dead_id, f"{outbox_worker.HOST}:{gone.pid}:0000"),
                (alive_id, f"{outbox_worker.HOST}:{os.getppid()}:0000"),  # pytest's parent
            ):
                await db.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == message_id)
                    .values(locked_until=later, leased_by=holder, attempt_started_at=later)
                )
            await db.commit()
        worker = Outbox(pg_sessions, {})
        released = await worker.release_orphans()
        return released, [m.key for m in await worker.claim()]

    released, taken = run_async(scenario())
    assert released == 1 and taken == ["held-by-the-dead"]


def test_a_message_waits_while_an_earlier_one_of_its_sequence_is_pending(
    settings: Settings,
) -> None:
    """Two replicas may hold messages of one conversation: neither takes the second while the
    first is pending (even leased elsewhere); once the first is done, the second is taken."""

    async def scenario() -> list[list[str]]:
        engine = make_engine(settings.database_url)
        sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        sequence = f"test-{os.getpid()}-{datetime.now(UTC).timestamp()}"
        async with sessionmaker() as db:
            for n in ("1", "2"):
                enqueue(db, "ordered", f"{sequence}:{n}", ordered_by=sequence)
            enqueue(db, "ordered", f"{sequence}:alone")  # in no sequence: never held up
            await db.commit()
        outbox, taken = Outbox(sessionmaker, {}), []
        for finish_first in (False, False, True):
            if finish_first:
                async with sessionmaker() as db:
                    await db.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.key == f"{sequence}:1")
                        .values(status="done")
                    )
                    await db.commit()
            claimed = await outbox.claim(50)
            taken.append(sorted(m.key.split(":")[1] for m in claimed if m.key.startswith(sequence)))
        await engine.dispose()
        return taken

    first, again, then = run_async(scenario())
    assert first == ["1", "alone"]
    assert again == []  # the first is leased (as by another replica): the second stays behind
    assert then == ["2"]


def test_whoever_ends_a_message_of_a_sequence_takes_the_next_at_once(
    settings: Settings,
) -> None:
    """A texter's three messages: the second, asked for first, waits (nobody polls for it);
    ending the first delivers the two behind it in this process, in order. While the first is
    to be tried again, nothing behind it moves."""

    async def scenario() -> tuple[bool, list[str], bool, list[str], list[str]]:
        engine = make_engine(settings.database_url)
        sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        sequence = f"texter-{os.getpid()}-{datetime.now(UTC).timestamp()}"
        ids: dict[str, int] = {}
        async with sessionmaker() as db:
            for n in ("1", "2", "3"):
                row = enqueue(db, "ordered", f"{sequence}:{n}", ordered_by=sequence)
                await db.flush()
                ids[n] = row.id
            await db.commit()
        handled: list[str] = []
        down = [True]

        async def handle(message: OutboxMessage) -> None:
            if down[0]:
                raise BackendUnavailable("the bot is restarting")
            handled.append(message.key.split(":")[1])

        outbox = Outbox(sessionmaker, {"ordered": handle})
        early = await outbox.deliver_now(ids["2"])  # the first is not done: left for later
        failed = await outbox.deliver_now(ids["1"])  # tried, to be tried again: 2 and 3 wait
        async with sessionmaker() as db:
            attempts = [
                f"{m.key.split(':')[1]}:{m.status}:{m.attempts}"
                for m in await db.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.ordered_by == sequence)
                    .order_by(OutboxMessage.id)
                )
            ]
            await db.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == ids["1"])
                .values(next_attempt_at=datetime.now(UTC))
            )
            await db.commit()
        down[0] = False
        done = await outbox.deliver_now(ids["1"])
        await engine.dispose()
        return early or failed, attempts, done, handled, [str(outbox.delivered)]

    none, attempts, done, handled, chained = run_async(scenario())
    assert not none
    assert attempts == ["1:pending:1", "2:pending:0", "3:pending:0"]
    assert done and handled == ["1", "2", "3"]
    assert chained == ["2"]  # the two behind it, in this process
