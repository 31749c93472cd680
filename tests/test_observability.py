"""Traces and logs: one application is one trace from the citizen's form to the outbox row that
carries it to the worker; log lines carry the trace's ids; several processes writing to one
stdout never cut each other's lines."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twilio.request_validator import RequestValidator

from conftest import ROOT, Sandbox, free_port, run_async
from portal.app import create_app
from portal.applications.models import Application, DepartmentRequest
from portal.conversations.replies import KIND as REPLY
from portal.conversations.turns import KIND as TURN
from portal.database import make_engine
from portal.observability.tracing import exporter_from_environment, start_tracing, stop_tracing
from portal.outbox.models import OutboxMessage
from portal.settings import Settings
from tests.journey_support import fill_business, reference_of, run_worker, submit
from tests.support import sign_in_as


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for the test, every span kept in memory as soon as it ends."""
    memory = InMemorySpanExporter()
    start_tracing("frontdoor-test", SimpleSpanProcessor(memory))
    yield memory
    stop_tracing()


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database_url=database_url)


def _hex(number: int, width: int) -> str:
    return format(number, f"0{width}x")


async def _outbox_of(database_url: str, reference: str) -> list[OutboxMessage]:
    """The messages that send the application to its departments."""
    engine = make_engine(database_url)
    async with AsyncSession(engine) as db:
        requests = set(
            await db.scalars(
                select(DepartmentRequest.id)
                .join(Application, Application.id == DepartmentRequest.application_id)
                .where(Application.reference == reference)
            )
        )
        rows = await db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "deliver"))
        found = [row for row in rows if row.payload.get("request_id") in requests]
    await engine.dispose()
    return found


def _request_span(memory: InMemorySpanExporter, name: str) -> ReadableSpan:
    [found] = [
        span
        for span in memory.get_finished_spans()
        if span.kind == SpanKind.SERVER and span.name == name
    ]
    return found


def test_an_application_is_one_trace_from_the_form_to_the_outbox_row(
    spans: InMemorySpanExporter,
    settings: Settings,
    sandbox: Sandbox,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with TestClient(create_app(settings)) as ana:
        assert sign_in_as(ana, "ana").status_code == 303
        base = fill_business(ana)
        spans.clear()
        capsys.readouterr()
        response = submit(ana, base)
    reference = reference_of(response)

    request = _request_span(spans, "POST /drafts/{draft_id}/submit")
    assert request.context is not None and request.attributes is not None
    assert request.attributes["http.route"] == "/drafts/{draft_id}/submit"
    trace_id, span_id = request.context.trace_id, request.context.span_id
    statements = [
        span
        for span in spans.get_finished_spans()
        if span.kind == SpanKind.CLIENT and span.context and span.context.trace_id == trace_id
    ]
    assert any("INSERT" in span.name for span in statements)
    assert all(span.parent and span.parent.span_id == span_id for span in statements)

    # Each department's message carries the request's trace to the worker.
    rows = run_async(_outbox_of(settings.database_url, reference))
    assert {"trade-licence", "tax", "environment", "employer"} <= {row.target for row in rows}
    flags = _hex(request.context.trace_flags, 2)
    traceparent = f"00-{_hex(trace_id, 32)}-{_hex(span_id, 16)}-{flags}"
    assert [row.trace_context for row in rows] == [{"traceparent": traceparent}] * len(rows)

    # The access log line (and every line the request logged) names the trace.
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line[:1] == "{"]
    [access] = [line for line in lines if line.get("path", "").endswith("/submit")]
    assert access["trace_id"] == _hex(trace_id, 32) and access["span_id"] == _hex(span_id, 16)


def _done(target: str) -> float:
    labels = {"target": target, "outcome": "done"}
    return REGISTRY.get_sample_value("frontdoor_outbox_deliveries_total", labels) or 0.0


def test_the_worker_delivers_in_the_trace_of_the_request(
    spans: InMemorySpanExporter, settings: Settings, sandbox: Sandbox
) -> None:
    with TestClient(create_app(settings)) as ana:
        assert sign_in_as(ana, "ana").status_code == 303
        base = fill_business(ana)
        spans.clear()
        reference_of(submit(ana, base))
    request = _request_span(spans, "POST /drafts/{draft_id}/submit")
    assert request.context is not None
    before = _done("tax")
    run_worker(settings)  # (with what earlier tests left waiting in the same database)
    to_tax = [
        span
        for span in spans.get_finished_spans()
        if span.name == "outbox deliver"
        and span.attributes
        and span.attributes.get("outbox.target") == "tax"
    ]
    assert _done("tax") - before == len(to_tax)  # each counted by the worker's on_finish hook
    [delivery] = [
        span
        for span in to_tax
        if span.context and span.context.trace_id == request.context.trace_id
    ]
    assert delivery.context and delivery.context.trace_id == request.context.trace_id
    assert delivery.parent and delivery.parent.span_id == request.context.span_id
    assert delivery.kind == SpanKind.CONSUMER
    # Its calls to the department (create, then read back) are its children.
    calls = [
        span
        for span in spans.get_finished_spans()
        if span.kind == SpanKind.CLIENT
        and span.attributes
        and "/departments/tax" in str(span.attributes.get("http.url", ""))
        and span.context
        and span.context.trace_id == request.context.trace_id
    ]
    assert calls
    assert all(call.parent and call.parent.span_id == delivery.context.span_id for call in calls)


def test_a_text_message_is_one_trace_from_twilios_webhook_to_the_reply(
    spans: InMemorySpanExporter, make_settings: Callable[..., Settings], database_url: str
) -> None:
    """No bot is running, so the assistant says sorry: the turn, its failed call to Rasa and
    the reply sent through Twilio are all in the trace of Twilio's webhook request."""
    settings = make_settings(
        database_url=database_url,
        rasa_url=f"http://127.0.0.1:{free_port()}",
        bot_retry_seconds=0,  # sorry at once, not after the turn was tried again
    )
    form = {
        "From": f"+3460{random.randrange(10**7):07d}",
        "To": settings.twilio_from_number,
        "Body": "Hola",
        "MessageSid": f"SM{uuid.uuid4().hex}",
    }
    validator = RequestValidator(settings.twilio_auth_token.get_secret_value())
    signature = validator.compute_signature(f"{settings.public_url}/webhooks/twilio", form)
    turns = {"outcome": "unavailable"}
    before = REGISTRY.get_sample_value("frontdoor_bot_turn_seconds_count", turns) or 0.0
    with TestClient(create_app(settings)) as twilio:
        spans.clear()
        response = twilio.post(
            "/webhooks/twilio", data=form, headers={"X-Twilio-Signature": signature}
        )  # the test client returns once the background turn is over too
    assert response.status_code == 200
    webhook = _request_span(spans, "POST /webhooks/twilio")
    assert webhook.context is not None
    in_trace = [
        span
        for span in spans.get_finished_spans()
        if span.context and span.context.trace_id == webhook.context.trace_id
    ]
    [turn] = [span for span in in_trace if span.name == "bot turn"]
    urls = [str((span.attributes or {}).get("http.url", "")) for span in in_trace]
    assert any(url.startswith(settings.rasa_url) for url in urls)
    assert any(url.endswith("/Messages.json") for url in urls)
    # The turn is an outbox message, answered at once; its reply is one too, sent within it.
    outbox = {span.name: span for span in in_trace if span.name.startswith("outbox ")}
    assert set(outbox) == {f"outbox {TURN}", f"outbox {REPLY}"}
    reply, answering = outbox[f"outbox {REPLY}"], outbox[f"outbox {TURN}"]
    assert answering.parent and answering.parent.span_id == webhook.context.span_id
    assert turn.parent and reply.parent and answering.context
    assert turn.parent.span_id == reply.parent.span_id == answering.context.span_id
    after = REGISTRY.get_sample_value("frontdoor_bot_turn_seconds_count", turns)
    assert after == before + 1


def test_tracing_is_off_unless_the_standard_variables_ask_for_an_exporter() -> None:
    endpoint = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    assert exporter_from_environment({}) is None
    assert isinstance(exporter_from_environment(endpoint), OTLPSpanExporter)
    assert isinstance(exporter_from_environment({"OTEL_TRACES_EXPORTER": "otlp"}), OTLPSpanExporter)
    assert exporter_from_environment({**endpoint, "OTEL_TRACES_EXPORTER": "none"}) is None
    assert exporter_from_environment({**endpoint, "OTEL_SDK_DISABLED": "true"}) is None
    # Only OTLP over HTTP is installed: gRPC would send to a port that does not answer it.
    assert exporter_from_environment({**endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}) is None


WRITER = """
import logging, sys
from portal.logs import configure_logging
configure_logging()
name = sys.argv[1]
for n in range(150):
    logging.getLogger("library").warning("%s-%d %s", name, n, "s" * 15000)
    __import__("structlog").get_logger().info("event", who=name, n=n, filler="x" * 20000)
"""


def test_lines_of_several_processes_on_one_stdout_stay_whole(tmp_path: Path) -> None:
    """Four processes log long lines (over stdout's 8 KiB buffer) to one file at once: each line
    is one write(), so none is cut by another's."""
    output = tmp_path / "stdout.log"
    with output.open("ab") as stdout:
        writers = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, f"p{n}"],
                cwd=ROOT,
                stdout=stdout,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            for n in range(4)
        ]
        assert [writer.wait(timeout=120) for writer in writers] == [0] * 4
    lines: list[dict[str, Any]] = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(lines) == 4 * 150 * 2
    assert sum(1 for line in lines if line.get("filler") == "x" * 20000) == 600
