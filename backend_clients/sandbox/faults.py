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
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

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
    error_rate: float = 0.0  # refused before the backend does anything (500)
    down: bool = False
    # What a real network also does: the backend did the work but its answer never arrived
    # (the caller sees 502), or the request reached the backend twice.
    lost_answer_rate: float = 0.0
    duplicate_rate: float = 0.0


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

    def network(self, backend: str) -> str | None:
        """What the network does to this call once it got through: "lost", "twice" or None."""
        fault = self.faults.get(backend)
        if fault is None:
            return None
        if fault.lost_answer_rate > 0 and random.random() < fault.lost_answer_rate:
            return "lost"
        if fault.duplicate_rate > 0 and random.random() < fault.duplicate_rate:
            return "twice"
        return None

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
            if (network := self.state.network(backend)) is not None:
                await self._unreliable(network, backend, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _unreliable(
        self, network: str, backend: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Run the request with its body kept, so it can be played twice; "lost" throws the
        backend's answer away and tells the caller 502, as a proxy whose upstream hung up."""
        received: list[ReceiveMessage] = []
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay() -> ReceiveMessage:
            if received:
                return received.pop(0)
            return {"type": "http.disconnect"}

        async def swallow(message: Message) -> None:
            return None

        kept = list(received)
        await self.app(scope, replay, swallow)
        if network == "lost":
            await _send_json(send, 502, {"error": f"sandbox: {backend}'s answer was lost"})
            return
        received[:] = kept  # the same request again: its answer is the one the caller sees
        await self.app(scope, replay, send)
