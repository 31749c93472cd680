"""The audit trail is append-only and any change to it is detected."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from conftest import migrate, run_async
from portal.audit import AuditLog, verify_chain
from portal.database import make_engine

UNTRIGGER = {
    "postgresql": ["ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"],
    "sqlite": ["DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"],
}


@pytest.fixture(params=["sqlite", "postgresql"])
def audit_database(
    request: pytest.FixtureRequest, fresh_database: Callable[[str], str]
) -> tuple[str, str]:
    url = fresh_database(request.param)
    migrate(url)
    return request.param, url


def run(coroutine: Any) -> Any:
    return run_async(coroutine)


async def _write(url: str, count: int, concurrently: bool = False) -> None:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    engine = make_engine(url)
    audit = AuditLog(async_sessionmaker(engine, expire_on_commit=False))
    calls = [
        audit.record("sign_in", actor=f"citizen:{n}", subject=f"citizen:{n}", method="oidc")
        for n in range(count)
    ]
    if concurrently:
        await asyncio.gather(*calls)
    else:
        for call in calls:
            await call
    await engine.dispose()


async def _verify(url: str) -> Any:
    from sqlalchemy.ext.asyncio import AsyncSession

    engine = make_engine(url)
    async with AsyncSession(engine) as db:
        report = await verify_chain(db)
    await engine.dispose()
    return report


async def _execute(url: str, *statements: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement))
    await engine.dispose()


def test_concurrent_writers_keep_one_unbroken_chain(audit_database: tuple[str, str]) -> None:
    _, url = audit_database
    run(_write(url, 20, concurrently=True))
    report = run(_verify(url))
    assert report.intact and report.entries == 20


async def _record_at_once(url: str, count: int) -> tuple[list[str], list[str]]:
    """`count` requests of one worker recording at the same moment: the actor each was told was
    written, and the actors in the order the chain holds them."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    engine = make_engine(url)
    audit = AuditLog(async_sessionmaker(engine, expire_on_commit=False))
    events = await asyncio.gather(
        *(audit.record("citizen_viewed", actor=f"agent:{n}", subject="c_1") for n in range(count))
    )
    async with engine.connect() as connection:
        chain = (await connection.execute(text("SELECT actor FROM audit_events ORDER BY id"))).all()
    await engine.dispose()
    return [event.actor for event in events], [row[0] for row in chain]


def test_entries_written_together_keep_their_order_and_each_request_gets_its_own(
    audit_database: tuple[str, str],
) -> None:
    _, url = audit_database
    told, chain = run(_record_at_once(url, 12))
    expected = [f"agent:{n}" for n in range(12)]
    assert told == expected  # each request's own entry
    assert chain == expected  # in the order they came, once each
    assert run(_verify(url)).intact


def test_an_entry_that_cannot_be_written_fails_only_its_own_request(
    audit_database: tuple[str, str],
) -> None:
    _, url = audit_database

    async def scenario() -> list[Any]:
        from sqlalchemy.ext.asyncio import async_sessionmaker

        engine = make_engine(url)
        audit = AuditLog(async_sessionmaker(engine, expire_on_commit=False))
        calls = [
            audit.record("sign_in", actor="citizen:1"),
            audit.record("sign_in", actor="citizen:2", note=object()),  # not JSON
            audit.record("sign_in", actor="citizen:3"),
        ]
        try:
            return list(await asyncio.gather(*calls, return_exceptions=True))
        finally:
            await engine.dispose()

    first, second, third = run(scenario())
    assert (first.actor, third.actor) == ("citizen:1", "citizen:3")
    assert isinstance(second, Exception)
    report = run(_verify(url))
    assert report.intact and report.entries == 2


def test_rows_cannot_be_changed_or_removed(audit_database: tuple[str, str]) -> None:
    _, url = audit_database
    run(_write(url, 2))
    for statement in ("UPDATE audit_events SET actor = 'someone else'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            run(_execute(url, statement))


def test_a_changed_row_is_detected(audit_database: tuple[str, str]) -> None:
    kind, url = audit_database
    run(_write(url, 5))
    run(
        _execute(
            url, *UNTRIGGER[kind], "UPDATE audit_events SET actor = 'citizen:999' WHERE id = 3"
        )
    )
    report = run(_verify(url))
    assert report.broken_at == 3
    assert "changed" in report.reason


def test_a_removed_row_is_detected(audit_database: tuple[str, str]) -> None:
    kind, url = audit_database
    run(_write(url, 5))
    run(_execute(url, *UNTRIGGER[kind], "DELETE FROM audit_events WHERE id = 2"))
    report = run(_verify(url))
    assert report.broken_at == 3
    assert "removed" in report.reason


def test_the_verify_command_exits_non_zero_on_tampering(audit_database: tuple[str, str]) -> None:
    kind, url = audit_database
    run(_write(url, 3))
    env = {**os.environ, "FRONTDOOR_DATABASE_URL": url}
    command = [sys.executable, "-m", "portal", "audit-verify"]
    intact = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert intact.returncode == 0 and "intact: 3 entries" in intact.stdout
    run(_execute(url, *UNTRIGGER[kind], "UPDATE audit_events SET details = '{}' WHERE id = 1"))
    broken = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert broken.returncode == 1 and "BROKEN at entry 1" in broken.stderr


def test_truncating_the_trail_is_refused_on_postgresql(
    fresh_database: Callable[[str], str],
) -> None:
    url = fresh_database("postgresql")
    migrate(url)
    run(_write(url, 2))
    with pytest.raises(DBAPIError, match="append-only"):
        run(_execute(url, "TRUNCATE audit_events"))


class HeldAuditLog(AuditLog):
    """An audit log whose writes wait at a gate: the test decides when a write goes on."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.gate, self.writing = asyncio.Event(), asyncio.Event()
        self.batches: list[list[str]] = []

    async def _append(self, batch: list[Any]) -> Any:
        self.batches.append([entry.actor for entry in batch])
        self.writing.set()
        await self.gate.wait()
        return await super()._append(batch)


def test_a_writer_whose_request_is_cancelled_still_writes_and_the_others_follow(
    audit_database: tuple[str, str],
) -> None:
    _, url = audit_database

    async def scenario() -> tuple[bool, list[str], list[list[str]]]:
        from sqlalchemy.ext.asyncio import async_sessionmaker

        engine = make_engine(url)
        audit = HeldAuditLog(async_sessionmaker(engine, expire_on_commit=False))
        before = asyncio.create_task(audit.record("sign_in", actor="citizen:0"))
        await audit.writing.wait()  # writing, holding the turn
        audit.writing.clear()
        first, second = (
            asyncio.create_task(audit.record("sign_in", actor=f"citizen:{n}")) for n in (1, 2)
        )
        await asyncio.sleep(0)  # both wait for the next turn
        audit.gate.set()
        await before
        await audit.writing.wait()  # the first took the turn and writes both entries
        first.cancel()  # its visitor went away while the second's entry is being written
        written = [(await second).actor]
        with contextlib.suppress(asyncio.CancelledError):
            await first
        await engine.dispose()
        return first.cancelled(), written, audit.batches

    cancelled, written, batches = run(scenario())
    assert batches == [["citizen:0"], ["citizen:1", "citizen:2"]]  # one turn for both
    assert cancelled and written == ["citizen:2"]
    report = run(_verify(url))
    assert report.intact and report.entries == 3  # the cancelled request's entry too
