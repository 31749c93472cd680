"""Structured JSON logs (structlog), one line per event, carrying the request id and, inside a
trace, its trace and span ids.

Several processes (granian's workers) share one stdout. Each line is written whole with a single
write() on the file descriptor, never in pieces: Python's print() writes the text and its newline
separately, and a line longer than stdout's buffer (8 KiB) went out in two writes between which
another process's line could land. On a pipe, POSIX keeps a write of up to 4 KiB (PIPE_BUF) in
one piece whatever else is written; a longer line (a traceback) is one write that Linux keeps
whole unless the reader of the pipe has fallen 64 KiB behind.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import threading
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import trace

_lock = threading.Lock()


def add_trace_ids(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    """The current trace and span ids on every line logged inside a span (a request's, an
    outbox delivery's); nothing outside one, or when tracing is off and no trace was carried."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", format(context.trace_id, "032x"))
        event.setdefault("span_id", format(context.span_id, "016x"))
    return event


def write_line(text: str) -> None:
    """`text` and its newline to stdout (as it is at this call) in one write()."""
    stream = sys.stdout
    if stream is None:  # the interpreter is shutting down
        return
    data = (text + "\n").encode("utf-8", errors="replace")
    try:
        descriptor = stream.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):  # a test's captured stdout
        with _lock:
            stream.write(text + "\n")
            stream.flush()
        return
    with _lock:  # a partial write's rest must not let this process's next line in between
        stream.flush()  # anything printed before goes first
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]


class LineLogger:
    """structlog's logger: each rendered event is one line, written by `write_line`."""

    def msg(self, message: str) -> None:
        write_line(message)

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


class LineHandler(logging.Handler):
    """The standard library's records (granian, alembic) written the same way."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            write_line(self.format(record))
        except Exception:
            self.handleError(record)


def _line_logger(*_args: Any) -> LineLogger:
    return LineLogger()


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    """structlog and the standard library's loggers (granian, alembic) both write JSON lines."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        add_trace_ids,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # JSON carries tracebacks as structured data; the console renderer prints them itself.
    renderers: list[structlog.types.Processor] = (
        [
            # Frames without their local variables: those hold tokens and session ids.
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            ),
            structlog.processors.JSONRenderer(),
        ]
        if json
        # A plain traceback: rich's (the default when rich is installed) prints every frame's
        # local variables, tokens too, and took 40 s to render one SQLAlchemy error.
        else [
            structlog.dev.ConsoleRenderer(
                colors=False, exception_formatter=structlog.dev.plain_traceback
            )
        ]
    )
    structlog.configure(
        processors=[*shared, *renderers],
        logger_factory=_line_logger,  # sys.stdout at each call
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=False,
    )
    handler = LineHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderers],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Each request is logged once by the request context; the clients' own lines would repeat it.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
