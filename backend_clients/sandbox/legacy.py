"""A legacy system's small wrapper, as a department would write one for the JSON adapter
(CONTRACTS.md §10), under /legacy/{department}/applications.

It checks the signature (401), the body against the schema's required fields (422) and keeps one
record per Idempotency-Key, numbered LG-000001...; each record then moves received -> in_review ->
approved (on the clock, or on command), every move pushed, signed, to the callback URL as the
departments' webhook (§1). Testers can make the next answers go astray:
`PUT /_sandbox/legacy/answers {"mode": "lost" | "malformed", "count": n}` ("lost": the record is
kept but the answer is a 500, as when the answer is lost on the way back).
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath

from backend_clients.sandbox.departments import signature
from backend_clients.sandbox.pushes import Delivery, Pushes

# The wrapper reads the committed schema as any department's developer would; it imports nothing.
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "json_post" / "application-1.schema.json"
SCRIPT = ("received", "in_review", "approved")
NOTES = {"approved": "Fire safety check passed: no visit needed"}
TOLERANCE = 300
MAX_KEY = 200
HEADER = "x-frontdoor-signature"


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def error(status: int, message: str) -> Response[dict[str, str]]:
    return Response({"error": message}, status_code=status)


def signed(secret: bytes, header: str, body: bytes, now: float) -> bool:
    """Whether `t=..,v1=..` signs this body with the key, recently enough."""
    parts = dict(item.strip().partition("=")[::2] for item in header.split(","))
    stamp = parts.get("t", "")
    if not stamp.isdigit() or abs(now - int(stamp)) > TOLERANCE:
        return False
    given = f"t={stamp},v1={parts.get('v1')}".encode()
    return hmac.compare_digest(signature(secret, body, int(stamp)).encode(), given)


def missing(instance: Any, schema: dict[str, Any], at: str = "") -> str | None:
    """The first required field the body lacks (or of the wrong kind), by the schema."""
    kinds = {"object": dict, "array": list, "string": str, "integer": int}
    kind = schema.get("type")
    if isinstance(kind, str) and kind in kinds and not isinstance(instance, kinds[kind]):
        return f"{at or 'the body'} must be of type {kind}"
    if isinstance(instance, str) and len(instance) < schema.get("minLength", 0):
        return f"{at} must not be empty"
    if "enum" in schema and instance not in schema["enum"]:
        return f"{at} must be one of {schema['enum']}"
    if isinstance(instance, dict):
        for name in schema.get("required", []):
            if name not in instance:
                return f"{at + '.' if at else ''}{name} is required"
        for name, part in schema.get("properties", {}).items():
            if name in instance and name in schema.get("required", []):
                problem = missing(instance[name], part, f"{at + '.' if at else ''}{name}")
                if problem:
                    return problem
    if isinstance(instance, list) and "items" in schema:
        for index, item in enumerate(instance):
            problem = missing(item, schema["items"], f"{at}[{index}]")
            if problem:
                return problem
    return None


@dataclass
class Record:
    department: str
    record_id: str
    body: dict[str, Any]
    headers: dict[str, str]
    received_at: str
    events: list[dict[str, Any]] = field(default_factory=list)
    create_calls: int = 1
    changed: float = field(default_factory=time.monotonic)
    deliveries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.events[-1]["status"]) if self.events else "received"

    def receipt(self) -> dict[str, Any]:
        """The same answer to every call with the record's key."""
        return {"id": self.record_id, "status": "received", "received_at": self.received_at}

    def view(self) -> dict[str, Any]:
        return {
            "id": self.record_id,
            "department": self.department,
            "status": self.status,
            "create_calls": self.create_calls,
            "body": self.body,
            "headers": self.headers,
            "events": self.events,
            "deliveries": self.deliveries,
        }


@dataclass
class LegacyState(Pushes):
    secret: bytes  # checks our requests' signatures
    webhook_secret: bytes  # signs the status pushes, as the departments do
    step_seconds: float
    records: dict[str, Record] = field(default_factory=dict)
    keys: dict[tuple[str, str], str] = field(default_factory=dict)  # (department, key) -> id
    mode: str | None = None  # the next answers: "lost" or "malformed"
    mode_left: int = 0
    schema: dict[str, Any] = field(
        default_factory=lambda: dict(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    )

    def next_mode(self) -> str | None:
        if self.mode is None or self.mode_left <= 0:
            return None
        self.mode_left -= 1
        mode = self.mode
        if self.mode_left == 0:
            self.mode = None
        return mode

    def create(
        self, department: str, key: str, body: dict[str, Any], headers: dict[str, str]
    ) -> Record:
        record = Record(
            department=department,
            record_id=f"LG-{len(self.records) + 1:06d}",
            body=body,
            headers=headers,
            received_at=now_iso(),
        )
        self.records[record.record_id] = record
        self.keys[(department, key)] = record.record_id
        return record

    def advance(self, record: Record) -> Delivery | None:
        """The next status of the script, and its signed push (None when already approved)."""
        position = SCRIPT.index(record.status)
        if position + 1 >= len(SCRIPT):
            return None
        status = SCRIPT[position + 1]
        event = {
            "event_id": f"{record.record_id}:{status}",
            "department": record.department,
            "case_id": record.record_id,
            "client_reference": record.body["references"]["request"],
            "status": status,
            "at": now_iso(),
            "note": NOTES.get(status, ""),
            "fee": None,
        }
        record.events.append(event)
        record.changed = time.monotonic()
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        headers = {
            "Content-Type": "application/json",
            "X-Frontdoor-Signature": signature(
                self.webhook_secret, body.encode(), int(time.time())
            ),
            "X-Request-ID": "sandbox-" + secrets.token_hex(8),
        }
        delivery_record = {"event_id": event["event_id"], "url": record.body["callback_url"]}
        delivery_record |= {"attempts": 0, "delivered": False, "gave_up": False}
        record.deliveries.append(delivery_record)
        return Delivery(record.body["callback_url"], body, headers, delivery_record)

    def tick(self, now: float) -> None:
        """Move on every record that has waited a step (the app's clock)."""
        for record in self.records.values():
            if record.status != SCRIPT[-1] and now - record.changed >= self.step_seconds:
                delivery = self.advance(record)
                if delivery is not None:
                    self.background(self.push(delivery))


class LegacyController(Controller):
    """The wrapper itself."""

    path = "/legacy/{department:str}/applications"
    include_in_schema = False

    @post(status_code=201)
    async def receive(
        self, request: Request[Any, Any, Any], department: FromPath[str]
    ) -> Response[Any]:
        state: LegacyState = request.app.state.legacy
        raw = await request.body()
        if not signed(state.secret, request.headers.get(HEADER, ""), raw, time.time()):
            return error(401, "bad signature")
        key = request.headers.get("idempotency-key", "")
        if not 1 <= len(key) <= MAX_KEY:
            return error(400, "the Idempotency-Key header (1-200 characters) is required")
        existing = state.keys.get((department, key))
        if existing is not None:
            record = state.records[existing]
            record.create_calls += 1
            return Response(record.receipt(), status_code=200)
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            return error(422, "the body must be JSON")
        problem = missing(body, state.schema)
        if problem:
            return error(422, problem)
        if body["department"] != department:
            return error(422, f"department is {body['department']!r}, this is {department!r}")
        headers = {
            name: request.headers.get(name, "")
            for name in ("content-type", "idempotency-key", HEADER, "x-request-id")
        }
        record = state.create(department, key, body, headers)
        mode = state.next_mode()
        if mode == "lost":
            return error(500, "sandbox: the answer was lost")
        if mode == "malformed":
            return Response({"record": record.record_id, "ok": True}, status_code=201)
        return Response(record.receipt(), status_code=201)


@dataclass
class AnswersCommand:
    mode: str | None = None  # "lost", "malformed" or None (normal again)
    count: int = 1


class LegacySandboxController(Controller):
    """Testers' controls: the records, moving one on, breaking the next answers."""

    path = "/_sandbox/legacy"
    include_in_schema = False

    @get("/records", sync_to_thread=False)
    def records(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        state: LegacyState = request.app.state.legacy
        return {"records": [record.view() for record in state.records.values()]}

    @put("/answers", sync_to_thread=False)
    def answers(self, request: Request[Any, Any, Any], data: AnswersCommand) -> Response[Any]:
        state: LegacyState = request.app.state.legacy
        if data.mode not in (None, "lost", "malformed"):
            return error(422, "mode is lost, malformed or null")
        state.mode, state.mode_left = data.mode, max(data.count, 0)
        return Response({"mode": state.mode, "count": state.mode_left})

    @post("/records/{record_id:str}/advance", status_code=200)
    async def advance(
        self, request: Request[Any, Any, Any], record_id: FromPath[str]
    ) -> Response[Any]:
        """Move one record on; answer its event and push, with the push's first try awaited."""
        state: LegacyState = request.app.state.legacy
        record = state.records.get(record_id)
        if record is None:
            return error(404, f"no record {record_id!r}")
        delivery = state.advance(record)
        if delivery is None:
            return error(409, f"record {record_id} is {record.status}, which is final")
        delivered = await state.attempt(delivery)
        if not delivered:
            state.background(state.retry(delivery))
        webhook = {
            "url": delivery.url,
            "body": delivery.body,
            "headers": delivery.headers,
            "delivered": delivered,
        }
        return Response({"event": record.events[-1], "webhook": webhook})
