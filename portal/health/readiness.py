"""The readiness checks behind /readyz: each worker runs them at most once every few seconds,
one run at a time, and answers from that run (anyone can call /readyz, and each check calls a
real backend)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog

log = structlog.get_logger(component="health")
CHECK_TIMEOUT = 3.0

Probe = Callable[[], Awaitable[Any]]


class Readiness:
    """The latest results of the readiness checks, refreshed when older than `max_age` seconds."""

    def __init__(self, probes: Mapping[str, Probe], max_age: float) -> None:
        self.probes = probes
        self.max_age = max_age
        self._lock = asyncio.Lock()
        self._results: dict[str, str] = {}
        self._checked_at = float("-inf")

    async def results(self) -> dict[str, str]:
        async with self._lock:
            if time.monotonic() - self._checked_at >= self.max_age:
                checks = await asyncio.gather(*(self._check(n, p) for n, p in self.probes.items()))
                self._results, self._checked_at = dict(checks), time.monotonic()
            return self._results

    @staticmethod
    async def _check(name: str, probe: Probe) -> tuple[str, str]:
        try:
            await asyncio.wait_for(probe(), timeout=CHECK_TIMEOUT)
        except Exception as error:
            log.warning("readiness_failed", check=name, error=str(error) or repr(error))
            return name, "unavailable"
        return name, "ok"
