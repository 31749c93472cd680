"""/healthz says the process is up; /readyz says whether this replica can serve: its database,
and Redis when configured. Third parties (messaging, mail) are reported beside and in the
metrics, and never take the replica out of rotation."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from litestar.testing import TestClient
from prometheus_client import REGISTRY

from conftest import Sandbox


def _eventually(check: Callable[[], Any], seconds: float = 10) -> Any:
    """The checks of third parties run beside /readyz: their result comes a moment later."""
    deadline = time.monotonic() + seconds
    while not (result := check()):
        assert time.monotonic() < deadline, "never came"
        time.sleep(0.05)
    return result


def _backends(portal: TestClient[Any]) -> dict[str, str]:
    return dict(portal.get("/readyz").json()["backends"])


def test_healthz_answers_even_when_nothing_else_does(portal_factory: Any) -> None:
    portal = portal_factory(
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none", smtp_port=1
    )
    assert portal.get("/healthz").json() == {"status": "ok"}


def test_ready_when_the_database_answers(portal: TestClient[Any]) -> None:
    response = portal.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    assert response.json()["checks"] == {"database": "ok"}
    _eventually(lambda: _backends(portal) == {"messaging": "ok", "mail": "ok"})


def test_a_third_party_outage_keeps_the_replica_in_rotation_and_shows_in_metrics(
    portal: TestClient[Any], sandbox: Sandbox
) -> None:
    sandbox.set_fault("mail", down=True)
    sandbox.set_fault("twilio", error_rate=1.0)
    _eventually(lambda: _backends(portal) == {"messaging": "unavailable", "mail": "unavailable"})
    response = portal.get("/readyz")
    assert response.status_code == 200 and response.json()["checks"] == {"database": "ok"}
    for backend in ("mail", "messaging"):
        assert REGISTRY.get_sample_value("frontdoor_backend_up", {"backend": backend}) == 0
    sandbox.reset()
    _eventually(lambda: _backends(portal) == {"messaging": "ok", "mail": "ok"})
    assert REGISTRY.get_sample_value("frontdoor_backend_up", {"backend": "mail"}) == 1


def test_not_ready_when_the_database_is_unreachable(portal_factory: Any) -> None:
    portal = portal_factory(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = portal.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unavailable"


def test_redis_counts_when_configured(portal_factory: Any, database_url: str) -> None:
    reachable = portal_factory(database_url=database_url, redis_url="redis://127.0.0.1:6379/0")
    assert reachable.get("/readyz").json()["checks"] == {"database": "ok", "redis": "ok"}
    gone = portal_factory(database_url=database_url, redis_url="redis://127.0.0.1:1/0")
    response = gone.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "redis": "unavailable"}


def test_a_slow_backend_does_not_slow_readiness(portal_factory: Any, sandbox: Sandbox) -> None:
    portal = portal_factory()  # each backend call given 2 s
    sandbox.set_fault("twilio", delay_ms=3000)
    started = time.monotonic()
    assert portal.get("/readyz").status_code == 200
    assert time.monotonic() - started < 1.0  # a probe's timeout is often 1 s
    _eventually(lambda: _backends(portal)["messaging"] == "unavailable")


def test_the_request_id_reaches_the_backends(portal: TestClient[Any], sandbox: Sandbox) -> None:
    portal.get("/readyz", headers={"x-request-id": "probe-7f3a9c21"})
    _eventually(
        lambda: "probe-7f3a9c21" in {item["request_id"] for item in sandbox.requests("twilio")}
    )


def test_readiness_checks_run_at_most_once_per_period(
    portal_factory: Any, sandbox: Sandbox
) -> None:
    portal = portal_factory(readiness_cache_seconds=60)
    for _ in range(5):
        assert portal.get("/readyz").status_code == 200
    _eventually(lambda: _backends(portal)["messaging"] == "ok")
    assert len(sandbox.requests("twilio")) == 1


def test_monitors_may_use_head(web: TestClient[Any]) -> None:
    response = web.head("/healthz")
    assert response.status_code == 200 and response.content == b""
