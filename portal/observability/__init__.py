"""Traces (OpenTelemetry), metrics (Prometheus) and the trace ids on log lines.

A shared part at the bottom of the portal: features call it (the outbox stores the trace
context, the gateway times bot turns), so it imports no feature. Tracing is off unless the
standard OTEL_* variables ask for an exporter; metrics are always counted, and served on their
own port (docs/operations.md).
"""
