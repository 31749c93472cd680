"""Per-backend fault switches (delay, error rate, down) and a log of the requests received."""

from __future__ import annotations

import asyncio
import json
import random
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

DEPARTMENTS = ("trade-licence", "tax", "environment", "employer")
BACKENDS = (
    "twilio",
    "mail",
    "oidc",
    *DEPARTMENTS,
    "gis",
    "documents",
    "open311",
    "payments",
    "bills",
    "digit",
    "legacy",
)
# Backends whose contract is HTTP; mail's is SMTP, so its switches act there (the JSON list of
# received mail is the tester's view and stays readable).
HTTP_BACKENDS = tuple(name for name in BACKENDS if name != "mail")


def backend_of(path: str) -> str:
    """The backend a path belongs to: its first segment, or the department under /departments/."""
    segments = path.strip("/").split("/", 2)
    if segments[0] == "departments" and len(segments) > 1:
        return segments[1]
    return segments[0]


@dataclass
class Fault:
    delay_ms: int = 0
    error_rate: float = 0.0
    down: bool = False


@dataclass
class SandboxState:
    faults: dict[str, Fault] = field(default_factory=lambda: {name: Fault() for name in BACKENDS})
    requests: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=500))

    def outcome(self, backend: str) -> tuple[float, str | None]:
        """How long to wait and which failure to show ("down", "error") for one call."""
        fault = self.faults.get(backend)
        if fault is None:
            return 0.0, None
        if fault.down:
            return fault.delay_ms / 1000, "down"
        failed = fault.error_rate > 0 and random.random() < fault.error_rate
        return fault.delay_ms / 1000, "error" if failed else None

    def describe(self) -> dict[str, dict[str, Any]]:
        return {name: asdict(fault) for name, fault in self.faults.items()}


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    content = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
    ]
    start: Message = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": content, "more_body": False})


class FaultMiddleware:
    """Applies the switches to HTTP backends and records each request's id for testers."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        backend = backend_of(scope["path"])
        if backend in HTTP_BACKENDS:
            headers = dict(scope["headers"])
            self.state.requests.append(
                {
                    "backend": backend,
                    "method": scope["method"],
                    "path": scope["path"],
                    "request_id": headers.get(b"x-request-id", b"").decode("latin-1") or None,
                    "at": datetime.now(UTC).isoformat(),
                }
            )
            delay, failure = self.state.outcome(backend)
            if delay:
                await asyncio.sleep(delay)
            if failure is not None:
                status = 503 if failure == "down" else 500
                body = {
                    "error": f"sandbox: {backend} is {'down' if failure == 'down' else 'failing'}"
                }
                await _send_json(send, status, body)
                return
        await self.app(scope, receive, send)
