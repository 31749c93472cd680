"""Probes for load balancers and Kubernetes.

/healthz touches nothing, so a slow database never gets a healthy process restarted. /readyz
answers 200 when what this replica needs to serve answers (its database, Redis when configured)
and 503 otherwise; third parties (messaging, mail) are reported beside, never counted, since
their outage would take every replica out of rotation at once (see portal.health.readiness).
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get, head
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from portal.health.readiness import Readiness


@get("/healthz", sync_to_thread=False, tags=["probes"])
def healthz() -> dict[str, str]:
    """Answers 200 while the process is up."""
    return {"status": "ok"}


@head("/healthz", sync_to_thread=False, include_in_schema=False)
def healthz_head() -> None:
    """The same for monitors that only send HEAD."""


@get("/readyz", tags=["probes"])
async def readyz(readiness: NamedDependency[Readiness]) -> Response[dict[str, Any]]:
    """200 when the database (and Redis, when configured) answer, else 503 naming the failures.
    `backends` gives the third parties' last known state, which does not count."""
    results = await readiness.results()
    ready = all(value == "ok" for value in results.values())
    return Response(
        content={
            "status": "ready" if ready else "not ready",
            "checks": results,
            "backends": readiness.backend_results(),
        },
        status_code=HTTP_200_OK if ready else HTTP_503_SERVICE_UNAVAILABLE,
    )
