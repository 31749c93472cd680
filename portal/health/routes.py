"""Probes for load balancers and Kubernetes.

/healthz touches nothing, so a slow database never gets a healthy process restarted; /readyz
checks each dependency within a short timeout, concurrently, and says which one failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from litestar import Request, Response, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy import text

from backend_clients.http import BackendError

log = structlog.get_logger(component="health")
CHECK_TIMEOUT = 3.0


@get("/healthz", sync_to_thread=False, tags=["probes"])
def healthz() -> dict[str, str]:
    """Answers 200 while the process is up."""
    return {"status": "ok"}


async def _check(name: str, probe: Callable[[], Awaitable[Any]]) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe(), timeout=CHECK_TIMEOUT)
    except (BackendError, OSError, TimeoutError) as error:
        log.warning("readiness_failed", check=name, error=str(error) or type(error).__name__)
        return name, "unavailable"
    except Exception as error:
        log.warning("readiness_failed", check=name, error=repr(error))
        return name, "unavailable"
    return name, "ok"


@get("/readyz", tags=["probes"])
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """Answers 200 when the database and every backend answer, else 503 naming the failures."""
    state = request.app.state

    async def database() -> None:
        async with state.db_engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    checks = await asyncio.gather(
        _check("database", database),
        _check("messaging", state.twilio.fetch_account),
        _check("mail", state.mail.ping),
    )
    results = dict(checks)
    ready = all(value == "ok" for value in results.values())
    return Response(
        content={"status": "ready" if ready else "not ready", "checks": results},
        status_code=HTTP_200_OK if ready else HTTP_503_SERVICE_UNAVAILABLE,
    )
