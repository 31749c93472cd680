"""The portal as `portal serve` runs it (granian, two workers): Prometheus reads its metrics on a
port of their own, added up over the workers, with the outbox read from the database; traces
reach an OTLP/HTTP collector when the OTEL_* variables name one; SIGTERM lets a request in hand
finish."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import ROOT, Sandbox, free_port, migrate, run_async, wait_for
from portal.database import make_engine
from portal.observability.exporter import mark_dead_workers
from portal.outbox.models import OutboxMessage
from portal.outbox.queue import enqueue

# One xdist process runs this module: its portal (a process, about 12 s to start on a busy
# machine) is started once per database, not once per database and per xdist process.
pytestmark = pytest.mark.xdist_group("metrics")


class Collector(ThreadingHTTPServer):
    """An OTLP/HTTP trace collector: keeps each export request it is sent."""

    def __init__(self) -> None:
        self.exports: list[ExportTraceServiceRequest] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                export = ExportTraceServiceRequest()
                export.ParseFromString(body)
                collector.exports.append(export)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    def spans(self) -> list[tuple[str, str, Any]]:
        """(service name, span name, span) of everything received."""
        found = []
        for export in self.exports:
            for resource in export.resource_spans:
                service = next(
                    a.value.string_value
                    for a in resource.resource.attributes
                    if a.key == "service.name"
                )
                for scope in resource.scope_spans:
                    found += [(service, span.name, span) for span in scope.spans]
        return found


@dataclass(frozen=True)
class Served:
    url: str
    metrics: str
    database_url: str
    collector: Collector
    var_dir: Path

    def scrape(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        """Every sample on the metrics port: (name, labels) -> value."""
        response = httpx.get(f"{self.metrics}/metrics", timeout=10)
        assert response.status_code == 200
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }


def portal_env(sandbox: Sandbox, database_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    port = free_port()
    env = {
        **os.environ,
        "FRONTDOOR_ENV": "test",
        "FRONTDOOR_PORT": str(port),
        "FRONTDOOR_WORKERS": "2",
        "FRONTDOOR_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "FRONTDOOR_DATABASE_URL": database_url,
        "FRONTDOOR_VAR_DIR": str(var_dir),
        "FRONTDOOR_METRICS_PORT": str(free_port()),
        "FRONTDOOR_TWILIO_API_URL": f"{sandbox.url}/twilio",
        "FRONTDOOR_SMTP_PORT": str(sandbox.smtp_port),
        "FRONTDOOR_CITIZEN_OIDC_ISSUER": f"{sandbox.url}/oidc/citizen",
        "FRONTDOOR_STAFF_OIDC_ISSUER": f"{sandbox.url}/oidc/staff",
        "FRONTDOOR_DEPARTMENTS_URL": f"{sandbox.url}/departments",
        "FRONTDOOR_RASA_URL": f"http://127.0.0.1:{free_port()}",
        **extra,
    }
    for name in ("FRONTDOOR_REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "OTEL_TRACES_EXPORTER"):
        env.pop(name, None)
    return env


def start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "portal", "serve"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    wait_for(f"http://127.0.0.1:{env['FRONTDOOR_PORT']}/healthz", process, seconds=60)
    return process


@pytest.fixture(scope="module")
def served(
    sandbox_process: Sandbox, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """A portal sending its traces to a collector of the test's (batches every 0.2 s)."""
    collector = Collector()
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    var_dir = tmp_path_factory.mktemp("var")
    env = portal_env(
        sandbox_process,
        database_url,
        var_dir,
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{collector.server_address[1]}",
        OTEL_BSP_SCHEDULE_DELAY="200",
    )
    process = start(env, var_dir / "portal.log")
    try:
        yield Served(
            f"http://127.0.0.1:{env['FRONTDOOR_PORT']}",
            f"http://127.0.0.1:{env['FRONTDOOR_METRICS_PORT']}",
            database_url,
            collector,
            var_dir,
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
        collector.shutdown()


def _eventually(check: Callable[[], Any], seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while not (result := check()):
        assert time.monotonic() < deadline, "never came"
        time.sleep(0.1)
    return result


async def _queue(database_url: str, target: str) -> None:
    """Two messages waiting for `target` (one of them an hour old) and one parked."""
    engine = make_engine(database_url)
    async with AsyncSession(engine) as db:
        for n in range(3):
            enqueue(db, "deliver", f"{target}-{n}", target=target)
        await db.commit()
        hour_ago = datetime.now(UTC) - timedelta(hours=1)
        await db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.key == f"{target}-0")
            .values(created_at=hour_ago, next_attempt_at=datetime.now(UTC) + timedelta(hours=1))
        )
        await db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.key.in_([f"{target}-1", f"{target}-2"]))
            .values(next_attempt_at=datetime.now(UTC) + timedelta(hours=1))
        )
        await db.execute(
            update(OutboxMessage).where(OutboxMessage.key == f"{target}-2").values(status="failed")
        )
        await db.commit()
    await engine.dispose()


def test_requests_by_route_and_the_outbox_by_backend_are_on_the_metrics_port(
    served: Served,
) -> None:
    for _ in range(3):  # whichever of the two workers answers, they are added up
        assert httpx.get(f"{served.url}/services/open-business").status_code == 200
    assert httpx.get(f"{served.url}/services/no-such-service").status_code == 404
    assert httpx.get(f"{served.url}/no/such/page").status_code == 404
    target = f"dept-{uuid.uuid4().hex[:8]}"
    run_async(_queue(served.database_url, target))

    samples = served.scrape()

    def value(name: str, **labels: str) -> float | None:
        return samples.get((name, frozenset(labels.items())))

    route = "/services/{service_id}"
    requests = "frontdoor_http_requests_total"
    assert value(requests, method="GET", route=route, status="200") == 3
    assert value(requests, method="GET", route=route, status="404") == 1
    assert value(requests, method="GET", route="unmatched", status="404") == 1
    duration = "frontdoor_http_request_duration_seconds_count"
    assert value(duration, method="GET", route=route, status="200") == 3
    routes = {dict(labels).get("route") for name, labels in samples if name == requests}
    assert "/services/open-business" not in routes and "/no/such/page" not in routes
    assert value("frontdoor_metrics_database_up") == 1
    assert value("frontdoor_outbox_depth", target=target, status="pending") == 2
    assert value("frontdoor_outbox_depth", target=target, status="failed") == 1
    oldest = value("frontdoor_outbox_oldest_age_seconds", target=target)
    assert oldest is not None and 3590 < oldest < 3700


def test_each_request_reaches_the_collector_as_a_span_named_by_its_route(
    served: Served,
) -> None:
    assert httpx.get(f"{served.url}/services/report-a-problem").status_code == 200

    def found() -> list[Any]:
        return [
            span
            for service, name, span in served.collector.spans()
            if service == "frontdoor-portal" and name == "GET /services/{service_id}"
        ]

    spans = _eventually(found)
    assert not [name for _, name, _ in served.collector.spans() if "report-a-problem" in name]
    trace_ids = {span.trace_id for span in spans}
    # Its database statements are spans of the same trace, below the request's.
    statements = [
        span
        for _, _, span in served.collector.spans()
        if span.trace_id in trace_ids and span.kind == span.SPAN_KIND_CLIENT
    ]
    assert statements and all(span.parent_span_id for span in statements)


def test_sigterm_lets_a_request_in_hand_finish(
    sandbox: Sandbox, fresh_database: Callable[[str], str], tmp_path: Path
) -> None:
    """Granian's main process passes SIGTERM to its workers, which stop taking connections and
    finish the requests they hold before they exit."""
    database_url = fresh_database("sqlite")
    migrate(database_url)
    env = portal_env(sandbox, database_url, tmp_path, FRONTDOOR_BACKEND_TIMEOUT_SECONDS="10")
    process = start(env, tmp_path / "portal.log")
    sandbox.set_fault("oidc", delay_ms=3000)  # a fresh worker asks the provider's discovery
    answers: list[httpx.Response] = []
    url = f"http://127.0.0.1:{env['FRONTDOOR_PORT']}/sign-in/national"
    asking = threading.Thread(target=lambda: answers.append(httpx.get(url, timeout=20)))
    try:
        asking.start()
        _eventually(lambda: sandbox.requests("oidc"), seconds=10)  # the request is in hand
        process.send_signal(signal.SIGTERM)
        asking.join(timeout=20)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
    assert [answer.status_code for answer in answers] == [303]
    assert "/oidc/citizen/authorize" in answers[0].headers["location"]


def test_the_worker_counts_its_deliveries_on_its_own_port(
    sandbox: Sandbox, database_url: str, tmp_path: Path
) -> None:
    """A message nobody knows how to send is parked at its first attempt: one `failed`."""
    target = f"dept-{uuid.uuid4().hex[:8]}"
    run_async(_unknown_kind(database_url, target))
    env = portal_env(sandbox, database_url, tmp_path)
    env["FRONTDOOR_WORKER_METRICS_PORT"] = port = str(free_port())
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "portal", "worker"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        line = f'frontdoor_outbox_deliveries_total{{outcome="failed",target="{target}"}} 1.0'

        def counted() -> bool:
            try:
                return line in httpx.get(f"http://127.0.0.1:{port}/metrics").text
            except httpx.TransportError:
                return False

        _eventually(counted, seconds=60)
    finally:
        worker.terminate()
        worker.wait(timeout=30)


async def _unknown_kind(database_url: str, target: str) -> None:
    engine = make_engine(database_url)
    async with AsyncSession(engine) as db:
        enqueue(db, "no-such-kind", f"{target}-unknown", target=target)
        await db.commit()
    await engine.dispose()


def test_live_gauges_of_a_dead_worker_are_dropped_and_its_counts_kept(tmp_path: Path) -> None:
    script = (
        "from portal.observability import metrics\n"
        "metrics.backend_checked('mail', False)\n"
        "metrics.delivered('tax', 'done')\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    dead = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True)
    assert dead.returncode == 0
    before = sorted(path.name for path in tmp_path.iterdir())
    assert any(name.startswith("gauge_livemostrecent_") for name in before)
    [pid] = mark_dead_workers(tmp_path)
    after = sorted(path.name for path in tmp_path.iterdir())
    assert after == [f"counter_{pid}.db"]
