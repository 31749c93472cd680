"""/healthz says the process is up; /readyz says which dependency does not answer."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from conftest import Sandbox


def test_healthz_answers_even_when_nothing_else_does(portal_factory: Any) -> None:
    portal = portal_factory(
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none", smtp_port=1
    )
    assert portal.get("/healthz").json() == {"status": "ok"}


def test_ready_when_database_and_backends_answer(portal: TestClient[Any]) -> None:
    response = portal.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "messaging": "ok", "mail": "ok"},
    }


def test_not_ready_names_the_backend_that_is_down(
    portal: TestClient[Any], sandbox: Sandbox
) -> None:
    sandbox.set_fault("mail", down=True)
    response = portal.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "messaging": "ok", "mail": "unavailable"}
    sandbox.set_fault("twilio", error_rate=1.0)
    assert portal.get("/readyz").json()["checks"]["messaging"] == "unavailable"


def test_not_ready_when_the_database_is_unreachable(portal_factory: Any) -> None:
    portal = portal_factory(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = portal.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unavailable"


def test_a_slow_backend_makes_readiness_fail_within_its_timeout(
    portal_factory: Any, sandbox: Sandbox
) -> None:
    portal = portal_factory(backend_timeout_seconds=0.5)
    sandbox.set_fault("twilio", delay_ms=2000)
    response = portal.get("/readyz")
    assert response.json()["checks"]["messaging"] == "unavailable"


def test_the_request_id_reaches_the_backends(portal: TestClient[Any], sandbox: Sandbox) -> None:
    portal.get("/readyz", headers={"x-request-id": "probe-7f3a9c21"})
    assert "probe-7f3a9c21" in {item["request_id"] for item in sandbox.requests("twilio")}


def test_readiness_checks_run_at_most_once_per_period(
    portal_factory: Any, sandbox: Sandbox
) -> None:
    portal = portal_factory(readiness_cache_seconds=60)
    for _ in range(5):
        assert portal.get("/readyz").status_code == 200
    assert len(sandbox.requests("twilio")) == 1


def test_monitors_may_use_head(web: TestClient[Any]) -> None:
    response = web.head("/healthz")
    assert response.status_code == 200 and response.content == b""
