"""Probes for load balancers and Kubernetes.

/healthz touches nothing, so a slow database never gets a healthy process restarted. /readyz
checks the database and each backend within a short timeout; since anyone can call it and each
check calls a real backend, each worker runs the checks at most once every few seconds, one run
at a time, and answers from that run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog
from litestar import Request, Response, get, head
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

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


@get("/healthz", sync_to_thread=False, tags=["probes"])
def healthz() -> dict[str, str]:
    """Answers 200 while the process is up."""
    return {"status": "ok"}


@head("/healthz", sync_to_thread=False, include_in_schema=False)
def healthz_head() -> None:
    """The same for monitors that only send HEAD."""


@get("/readyz", tags=["probes"])
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """Answers 200 when the database and every backend answer, else 503 naming the failures."""
    results = await request.app.state.readiness.results()
    ready = all(value == "ok" for value in results.values())
    return Response(
        content={"status": "ready" if ready else "not ready", "checks": results},
        status_code=HTTP_200_OK if ready else HTTP_503_SERVICE_UNAVAILABLE,
    )
