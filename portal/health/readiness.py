"""The checks behind /readyz.

Two kinds. What this replica needs to serve (its database, Redis when configured) decides
readiness: /readyz waits for those checks. Third parties (messaging, mail) never take a replica
out of rotation, since an outage of theirs would take every replica out at once: they are
checked beside /readyz, without it waiting, and their last results show in its answer and in the
`frontdoor_backend_up` metric. Anyone can call /readyz and each check calls a real service, so
each worker runs each kind at most once every few seconds, one run at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog

from portal.observability.metrics import backend_checked

log = structlog.get_logger(component="health")
CHECK_TIMEOUT = 3.0
UNKNOWN = "unknown"  # not checked yet

Probe = Callable[[], Awaitable[Any]]


class Readiness:
    """The latest results of the checks, refreshed when older than `max_age` seconds."""

    def __init__(
        self,
        required: Mapping[str, Probe],
        max_age: float,
        backends: Mapping[str, Probe] | None = None,
    ) -> None:
        self.required = required
        self.backends = backends or {}
        self.max_age = max_age
        self._lock = asyncio.Lock()
        self._results: dict[str, str] = {}
        self._checked_at = float("-inf")
        self._backend_results = dict.fromkeys(self.backends, UNKNOWN)
        self._backends_at = float("-inf")
        self._backend_run: asyncio.Task[None] | None = None

    async def results(self) -> dict[str, str]:
        """What this replica needs, each "ok" or "unavailable" (waits for a run when stale)."""
        async with self._lock:
            if time.monotonic() - self._checked_at >= self.max_age:
                checks = await asyncio.gather(
                    *(self._check(n, p) for n, p in self.required.items())
                )
                self._results, self._checked_at = dict(checks), time.monotonic()
            return self._results

    def backend_results(self) -> dict[str, str]:
        """The third parties' last results ("unknown" before the first); a new run starts
        beside the caller when they are stale."""
        running = self._backend_run is not None and not self._backend_run.done()
        if self.backends and not running and time.monotonic() - self._backends_at >= self.max_age:
            self._backends_at = time.monotonic()
            self._backend_run = asyncio.create_task(self._check_backends())
        return dict(self._backend_results)

    async def _check_backends(self) -> None:
        checks = await asyncio.gather(*(self._check(n, p) for n, p in self.backends.items()))
        self._backend_results = dict(checks)
        self._backends_at = time.monotonic()
        for name, result in checks:
            backend_checked(name, result == "ok")

    async def aclose(self) -> None:
        """Stop a run of the third parties' checks still going (the app is stopping)."""
        if self._backend_run is not None:
            self._backend_run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._backend_run

    @staticmethod
    async def _check(name: str, probe: Probe) -> tuple[str, str]:
        try:
            await asyncio.wait_for(probe(), timeout=CHECK_TIMEOUT)
        except Exception as error:
            log.warning("readiness_failed", check=name, error=str(error) or repr(error))
            return name, "unavailable"
        return name, "ok"
