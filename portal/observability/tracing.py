"""OpenTelemetry traces: off unless the standard OTEL_* variables name an exporter.

Off, nothing is instrumented and each helper here costs a context look-up. On, every request
(named by its route template), every database statement and every outgoing HTTP call is a span,
sent in batches over OTLP/HTTP. A request that leaves work in the outbox stores its trace context
on the row (`carrier()`), and the worker continues that trace when it delivers
(`continue_trace()`), so one trace runs from the citizen's form to the department's answer.

The tracer provider is this module's own, not the global one: tests can switch tracing on for a
while (`start_tracing(processor=...)`) and off again (`stop_tracing()`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import structlog
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Tracer

if TYPE_CHECKING:  # the SDK is imported only when tracing starts (it is off by default)
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.get_logger(component="tracing")
NAME = "frontdoor"
# Probes and static files: many, alike, and of no interest in a trace.
NOT_TRACED = "/healthz,/readyz,/static/"
_provider: TracerProvider | None = None


def exporter_from_environment(environ: Mapping[str, str] | None = None) -> SpanExporter | None:
    """The exporter the standard variables ask for, or None (tracing off).

    Off unless OTEL_TRACES_EXPORTER says `otlp` or an OTLP endpoint is set; `none` or
    OTEL_SDK_DISABLED=true turn it off. Only OTLP over HTTP (protobuf) is installed: the
    exporter reads its endpoint, headers and timeout from OTEL_EXPORTER_OTLP_* itself.
    """
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    names = {n.strip().lower() for n in env.get("OTEL_TRACES_EXPORTER", "").split(",")} - {""}
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if not names and endpoint:
        names = {"otlp"}
    if unknown := names - {"otlp", "none"}:
        log.warning("tracing_exporter_unknown", exporters=sorted(unknown), using="otlp or none")
    if "otlp" not in names:
        return None
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )
    if protocol != "http/protobuf":
        log.warning("tracing_protocol_unsupported", protocol=protocol, using="http/protobuf")
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def start_tracing(
    service: str, processor: SpanProcessor | None = None, environ: Mapping[str, str] | None = None
) -> bool:
    """Switch tracing on for this process when the environment (or a test's `processor`) asks;
    whether it is on. Once on, later calls only add their processor. Call it in each process
    that serves (each ASGI worker, the outbox worker), before its database engine is made."""
    global _provider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if processor is None:
        if (exporter := exporter_from_environment(environ)) is None:
            return _provider is not None
        processor = BatchSpanProcessor(exporter)
    if _provider is None:
        env = os.environ if environ is None else environ
        # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are read by Resource.create itself.
        named = {} if env.get("OTEL_SERVICE_NAME") else {"service.name": service}
        _provider = TracerProvider(resource=Resource.create(named))
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        HTTPXClientInstrumentor().instrument(tracer_provider=_provider)
        log.info("tracing_started", service=env.get("OTEL_SERVICE_NAME") or service)
    _provider.add_span_processor(processor)
    return True


def stop_tracing() -> None:
    """Tracing off again, its spans sent (for tests; a process that stops flushes by itself)."""
    global _provider
    if _provider is None:
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    HTTPXClientInstrumentor().uninstrument()
    EngineTracer.remove_all_event_listeners()  # type: ignore[no-untyped-call]
    _provider.shutdown()
    _provider = None


def tracing_on() -> bool:
    return _provider is not None


def tracer() -> Tracer:
    """Ours when tracing is on; else one that records nothing (but still carries a remote
    parent, so log lines of a continued trace keep its id)."""
    return _provider.get_tracer(NAME) if _provider is not None else trace.NoOpTracer()


def trace_engine(engine: AsyncEngine) -> None:
    """Spans for every statement of `engine` (nothing when tracing is off). The engine is
    instrumented itself: the portal made it with a create_async_engine imported before
    tracing started, which the instrumentor's patching of that function would miss."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import NoOpMeter

    usage = NoOpMeter(NAME).create_up_down_counter("db.client.connections.usage")
    EngineTracer(_provider.get_tracer(NAME), engine.sync_engine, usage)  # type: ignore[no-untyped-call]


def traced(app: Any) -> Any:
    """`app` inside OpenTelemetry's ASGI middleware when tracing is on (else `app` itself).
    The span is named by the method alone at first, never by the raw path (it may hold ids);
    `portal.observability.middleware` renames it by route template once Litestar has routed."""
    if _provider is None:
        return app
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return OpenTelemetryMiddleware(
        app,
        excluded_urls=NOT_TRACED,
        default_span_details=lambda scope: (str(scope.get("method") or "HTTP"), {}),
        tracer_provider=_provider,
        exclude_spans=["receive", "send"],
    )


def carrier() -> dict[str, str]:
    """The W3C trace context of the current span (`traceparent`, and `tracestate` or `baggage`
    when set), to store with work done later; {} when there is no span."""
    found: dict[str, str] = {}
    if trace.get_current_span().get_span_context().is_valid:
        propagate.inject(found)
    return found


@contextmanager
def continue_trace(
    carrier: Mapping[str, str] | None, name: str, **attributes: Any
) -> Iterator[Span]:
    """A span that is a child of the stored context (a new trace when there is none), current
    for the block: an outbox delivery joins the trace of the request that queued it."""
    parent = propagate.extract(dict(carrier or {}))
    with tracer().start_as_current_span(
        name, context=parent, kind=SpanKind.CONSUMER, attributes=attributes or None
    ) as span:
        yield span


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[Span]:
    """A child of the current span for a step worth seeing on its own (a bot turn)."""
    with tracer().start_as_current_span(name, attributes=attributes or None) as current:
        yield current
