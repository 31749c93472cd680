"""Fixtures shared by tests/ and e2e/: real processes and real databases, no mocks.

- `sandbox`: the sandbox backends as a separate process on free ports.
- `database_url`: a migrated database, once on SQLite and once on PostgreSQL (the server on
  127.0.0.1:5432, or FRONTDOOR_TEST_POSTGRES_URL); tests that take it run on both.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from alembic import command
from alembic.config import Config

from backend_clients.http import trusted_roots
from portal.settings import Settings

ROOT = Path(__file__).resolve().parent
POSTGRES_URL = os.environ.get(
    "FRONTDOOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API holds the main thread's event loop from then on,
    which the async tests and asyncio.run calls of the other suites cannot share.

    Tests marked xdist_group share a store or a costly fixture, so under `--dist loadgroup`
    they must run on one process. pytest-xdist marks them by suffixing their ids, which pytest
    9.2 no longer lets it do: the groups were split without a word, and two rate-limit tests
    emptied each other's Redis mid-burst. A change like that stops the run here instead."""
    items.sort(key=lambda item: item.nodeid.startswith("e2e/"))
    if not getattr(config.option, "loadgroup", False):
        return
    lost = [
        item.nodeid
        for item in items
        if item.get_closest_marker("xdist_group") and "@" not in item.nodeid
    ]
    if lost:
        raise pytest.UsageError(f"xdist_group not applied by pytest-xdist: {lost[:3]}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request to a test server. httpx.get() and the like make a client, and read the
    system's certificate store, on every call: a fifth of the in-process suites' time went to
    that (the sandbox is reset around every test). This reuses the portal's, read once."""
    return httpx.request(method, url, verify=trusted_roots(), **kwargs)


def wait_for(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            if http("GET", url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds}s")


@dataclass(frozen=True)
class Sandbox:
    url: str
    smtp_port: int

    def reset(self) -> None:
        http("DELETE", f"{self.url}/_sandbox/faults").raise_for_status()
        http("DELETE", f"{self.url}/mail/messages").raise_for_status()
        http("DELETE", f"{self.url}/_sandbox/requests").raise_for_status()
        for issuer in ("citizen", "staff"):
            self.tamper(issuer, None)

    def tamper(self, issuer: str, mode: str | None) -> None:
        """Make the provider's next ID tokens wrong on purpose (None: right again)."""
        url = f"{self.url}/_sandbox/oidc/{issuer}/tamper"
        http("PUT", url, json={"mode": mode}).raise_for_status()

    def set_fault(self, backend: str, **switches: Any) -> None:
        http("PUT", f"{self.url}/_sandbox/faults/{backend}", json=switches).raise_for_status()

    def requests(self, backend: str) -> list[dict[str, Any]]:
        response = http("GET", f"{self.url}/_sandbox/requests", params={"backend": backend})
        return list(response.json()["requests"])

    def mail(self, to: str | None = None) -> list[dict[str, Any]]:
        params = {"to": to} if to else {}
        return list(http("GET", f"{self.url}/mail/messages", params=params).json()["messages"])

    def advance(
        self, department: str, case_id: str, status: str | None = None, note: str | None = None
    ) -> dict[str, Any]:
        """Move a case to `status` (or the next in its script); the event and its webhook."""
        command = {k: v for k, v in (("status", status), ("note", note)) if v is not None}
        url = f"{self.url}/_sandbox/departments/{department}/cases/{case_id}/advance"
        response = http("POST", url, json=command)
        response.raise_for_status()
        return dict(response.json())

    def cases(self, department: str) -> list[dict[str, Any]]:
        """Every case of a department, with its events, create_calls and webhook deliveries."""
        response = http("GET", f"{self.url}/_sandbox/departments/{department}/cases")
        response.raise_for_status()
        return list(response.json()["cases"])

    def advance_report(self, request_id: str) -> dict[str, Any]:
        """Move an Open311 problem report to its next status."""
        response = http("POST", f"{self.url}/_sandbox/open311/requests/{request_id}/advance")
        response.raise_for_status()
        return dict(response.json())


@pytest.fixture(scope="session")
def sandbox_process() -> Iterator[Sandbox]:
    port, smtp_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backend_clients.sandbox",
            "--port",
            str(port),
            "--smtp-port",
            str(smtp_port),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        # Cases move only when a test says so; the slow test card takes one second.
        env={
            **os.environ,
            "FRONTDOOR_SANDBOX_CASE_STEP_SECONDS": "0",
            "FRONTDOOR_SANDBOX_SLOW_CARD_SECONDS": "1",
        },
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        yield Sandbox(url=f"http://127.0.0.1:{port}", smtp_port=smtp_port)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def sandbox(sandbox_process: Sandbox) -> Iterator[Sandbox]:
    """The sandbox with no faults and an empty mailbox; faults are switched off again after."""
    sandbox_process.reset()
    yield sandbox_process
    sandbox_process.reset()


def in_thread(function: Callable[..., Any], *args: Any) -> Any:
    """Run blocking work that uses asyncio.run (Alembic, test queries) in a thread of its own,
    since Playwright's sync API keeps an event loop running in the main thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


def run_async(coroutine: Any) -> Any:
    """asyncio.run, safe to call from any test."""
    return in_thread(asyncio.run, coroutine)


def migrate(url: str, revision: str = "head") -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    in_thread(command.upgrade, config, revision)


def downgrade(url: str, revision: str = "base") -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    in_thread(command.downgrade, config, revision)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[Callable[[], str]]:
    """Makes fresh databases on the PostgreSQL server and drops them at the end of the run."""
    admin = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    made: list[str] = []

    def make() -> str:
        name = f"frontdoor_test_{uuid.uuid4().hex[:12]}"
        try:
            with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
                connection.execute(f'CREATE DATABASE "{name}"')
        except psycopg.OperationalError as error:
            pytest.fail(
                f"PostgreSQL is needed at {admin} (set FRONTDOOR_TEST_POSTGRES_URL): {error}"
            )
        made.append(name)
        return POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"

    yield make
    with psycopg.connect(admin, autocommit=True) as connection:
        for name in made:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def fresh_database(
    postgres_database: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], str]:
    """An empty database of the given kind ("sqlite" or "postgresql"), not migrated."""

    def make(kind: str) -> str:
        if kind == "postgresql":
            return postgres_database()
        path = tmp_path_factory.mktemp("db") / "frontdoor.db"
        return f"sqlite+aiosqlite:///{path}"

    return make


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, fresh_database: Callable[[str], str]) -> str:
    """A migrated database; every test that uses it runs on SQLite and on PostgreSQL."""
    url = fresh_database(request.param)
    migrate(url)
    return url


@pytest.fixture
def make_settings(tmp_path: Path, sandbox: Sandbox) -> Callable[..., Settings]:
    """Settings pointing at the sandbox and a private var/ folder; keyword arguments override."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "env": "test",
            "var_dir": tmp_path / "var",
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'unmigrated.db'}",
            "twilio_api_url": f"{sandbox.url}/twilio",
            "smtp_port": sandbox.smtp_port,
            "backend_timeout_seconds": 2.0,
            "readiness_cache_seconds": 0,
            "citizen_oidc_issuer": f"{sandbox.url}/oidc/citizen",
            "staff_oidc_issuer": f"{sandbox.url}/oidc/staff",
            "departments_url": f"{sandbox.url}/departments",
            "gis_url": f"{sandbox.url}/gis",
            "documents_url": f"{sandbox.url}/documents",
            "open311_url": f"{sandbox.url}/open311",
            "payments_url": f"{sandbox.url}/payments",
            "bills_url": f"{sandbox.url}/bills",
            "digit_url": f"{sandbox.url}/digit",
        }
        values.update(overrides)
        return Settings(**values)

    return make
