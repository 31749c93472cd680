"""Rate limits that hold under concurrency, counted in the shared store (Redis or the database)
so that every worker and replica counts together.

One primitive, `Counters.add`, counts a use and answers the count in one atomic step (Redis:
a small Lua script; the database: one INSERT ... ON CONFLICT ... RETURNING); a read followed by
a write would let simultaneous requests all see room. A window starts at a key's first use and
lasts its length. We keep this primitive instead of the `limits` library because the portal
also runs without Redis, on the database alone, which `limits` does not count in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis


class Counters(Protocol):
    async def add(self, key: str, window_seconds: int) -> int:
        """Count one use of `key`; the uses in its current window, this one included."""

    async def take_back(self, key: str) -> None:
        """Uncount one use of `key` in its current window (nothing when the window is over)."""

    async def aclose(self) -> None:
        """Let go of connections."""


@dataclass(frozen=True)
class Limit:
    key: str
    most: int
    seconds: int = 60


async def within_limits(counters: Counters, *limits: Limit) -> bool:
    """Count one use against every limit; False when one is past its most, and then nothing is
    counted (the uses already counted are taken back), so a refused request costs nobody."""
    counted: list[Limit] = []
    for limit in limits:
        counted.append(limit)
        if await counters.add(limit.key, limit.seconds) > limit.most:
            for done in counted:
                await counters.take_back(done.key)
            return False
    return True


async def within_limit(counters: Counters, key: str, most: int, seconds: int = 60) -> bool:
    """Count one use of `key`; False (and not counted) past `most` uses in `seconds`."""
    return await within_limits(counters, Limit(key, most, seconds))


async def give_back(counters: Counters, *limits: Limit) -> None:
    """Uncount a use that turned out not to be one (a right code is not a wrong guess)."""
    for limit in limits:
        await counters.take_back(limit.key)


# KEYS[1] the counter; ARGV[1] 1 to count, -1 to uncount; ARGV[2] the window in milliseconds.
_COUNT = """
if ARGV[1] == '-1' and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return count
"""


def redis_client(url: str, max_connections: int = 100) -> Redis:
    """A client whose pool waits for a free connection rather than failing under a burst.
    (redis is imported here: a worker without Redis, restarted, does not wait for it.)"""
    from redis.asyncio import BlockingConnectionPool, Redis

    pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=10)
    return Redis(connection_pool=pool)


class RedisCounters:
    def __init__(self, redis: Redis, namespace: str = "frontdoor-limits") -> None:
        self.redis = redis
        self.namespace = namespace
        self._count = redis.register_script(_COUNT)

    async def add(self, key: str, window_seconds: int) -> int:
        keys = [f"{self.namespace}:{key}"]
        return int(await self._count(keys=keys, args=[1, window_seconds * 1000]))

    async def take_back(self, key: str) -> None:
        await self._count(keys=[f"{self.namespace}:{key}"], args=[-1, 0])

    async def aclose(self) -> None:
        await self.redis.aclose()
