"""The counting primitive under the rate limits, on SQLite, PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis

from conftest import migrate, run_async
from portal.database import make_engine
from portal.database.counters import DatabaseCounters
from portal.web.limits import (
    Counters,
    Limit,
    RedisCounters,
    redis_client,
    within_limit,
    within_limits,
)

REDIS_URL = os.environ.get("FRONTDOOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
# Both files flush this Redis database: with pytest-xdist they run on one worker.
pytestmark = pytest.mark.xdist_group("redis-14")


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def open_counters(kind: str, fresh_database: Callable[[str], str]) -> Callable[[], Any]:
    """Counters of `kind` on an empty store."""
    if kind == "redis":
        redis.Redis.from_url(REDIS_URL).flushdb()
    else:
        url = fresh_database(kind)
        migrate(url)

    @asynccontextmanager
    async def opened() -> AsyncIterator[Counters]:
        if kind == "redis":
            counters: Counters = RedisCounters(redis_client(REDIS_URL))
            try:
                yield counters
            finally:
                await counters.aclose()
            return
        engine = make_engine(url)
        try:
            yield DatabaseCounters(engine)
        finally:
            await engine.dispose()

    return opened


def test_simultaneous_uses_are_each_counted_once(open_counters: Callable[[], Any]) -> None:
    async def scenario() -> list[int]:
        async with open_counters() as counters:
            return list(await asyncio.gather(*(counters.add("k", 60) for _ in range(150))))

    assert sorted(run_async(scenario())) == list(range(1, 151))


def test_a_limit_lets_exactly_its_most_through_and_counts_no_refusal(
    open_counters: Callable[[], Any],
) -> None:
    async def scenario() -> tuple[list[bool], int]:
        async with open_counters() as counters:
            allowed = await asyncio.gather(*(within_limit(counters, "a", 40) for _ in range(150)))
            return list(allowed), await counters.add("a", 60)

    allowed, next_count = run_async(scenario())
    assert allowed.count(True) == 40
    assert next_count == 41  # the 110 refusals were given back


def test_a_refusal_by_one_limit_costs_the_others_nothing(
    open_counters: Callable[[], Any],
) -> None:
    async def scenario() -> list[bool]:
        async with open_counters() as counters:
            full = Limit("full", 1)
            await within_limits(counters, full)
            refused = await within_limits(counters, Limit("roomy", 1), full)
            return [refused, await within_limits(counters, Limit("roomy", 1))]

    assert run_async(scenario()) == [False, True]


def test_a_window_starts_again_when_it_is_over(open_counters: Callable[[], Any]) -> None:
    async def scenario() -> list[int]:
        async with open_counters() as counters:
            first = [await counters.add("w", 1), await counters.add("w", 1)]
            await asyncio.sleep(1.2)
            await counters.take_back("w")  # the window is over: nothing to give back
            return [*first, await counters.add("w", 1)]

    assert run_async(scenario()) == [1, 2, 1]
