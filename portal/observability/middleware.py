"""Each request counted and timed by its route template, and its span named after it.

Litestar puts the matched route's template in the scope (`path_template`) when it routes; this
wrapper sits outside Litestar, so it reads the template when the answer starts (the request's
span ends with the answer's last byte). Time runs until that last byte: work done after it (a
background task, such as the bot's turn after Twilio's webhook) is not the request's latency.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from litestar.enums import ScopeType
from opentelemetry import trace

from portal.observability.metrics import UNMATCHED, request_finished

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send


class Observed:
    """Pure ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        answered: float | None = None

        async def sending(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status = message["status"]
                _name_span(scope)
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                answered = time.perf_counter()
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            request_finished(
                str(scope.get("method")),
                _route(scope),
                status,
                (answered or time.perf_counter()) - started,
            )


def _route(scope: Scope) -> str:
    return str(scope.get("path_template") or UNMATCHED)


def _name_span(scope: Scope) -> None:
    """The request's span named "METHOD /route/{template}"; an unmatched path keeps the method
    alone, as OpenTelemetry's conventions say."""
    span = trace.get_current_span()
    if span.is_recording() and scope.get("path_template"):
        route = _route(scope)
        span.update_name(f"{scope.get('method')} {route}")
        span.set_attribute("http.route", route)
