"""The department case API for every department of the catalogue (CONTRACTS.md §1).

Each department follows a script of statuses; a case moves on its own (see `tick`, called by the
app's clock) or on command (`POST /_sandbox/departments/{d}/cases/{id}/advance`), and stops
where it waits for someone. Every new event after the create is pushed, signed, to the case's
callback URL by the departments that push; a failed push is retried after 1, 2 and 4 seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from backend_clients.sandbox.pushes import Delivery, Pushes

STATUSES = (
    "received",
    "in_review",
    "information_requested",
    "fee_due",
    "paid",
    "approved",
    "rejected",
    "certificate_issued",
)
# Where a case stops moving on its own: someone else must act (pay, answer, or a command).
WAITING = frozenset({"fee_due", "information_requested"})
FEE = {"amount_minor": 15000, "currency": "EUR"}
MAX_KEY = 200


@dataclass(frozen=True)
class Step:
    status: str
    note: str = ""  # in English, the departments' language
    notes: dict[str, str] = field(default_factory=dict)  # the same note in other languages


# What the departments write on their own, in English and in their citizens' other languages.
SITE_PLAN = Step(
    "information_requested",
    "Send a site plan of the premises",
    {"es": "Envíe un plano de situación del local", "ar": "أرسلوا مخطط موقع المحل"},
)
INFORMATION_RECEIVED = Step(
    "in_review",
    "Information received from the applicant",
    {"es": "Información recibida de la persona solicitante", "ar": "وصلت المعلومات من مقدم الطلب"},
)
FEE_RECEIVED = Step("paid", "Fee received", {"es": "Tasa recibida", "ar": "وصلت الرسوم"})


@dataclass(frozen=True)
class Department:
    name: str
    prefix: str
    pushes: bool
    script: tuple[Step, ...]

    @property
    def final(self) -> frozenset[str]:
        return frozenset({"rejected", self.script[-1].status})


def _script(*statuses: str | Step) -> tuple[Step, ...]:
    return tuple(item if isinstance(item, Step) else Step(item) for item in statuses)


def _note(status: str, en: str, es: str, ar: str) -> Step:
    return Step(status, en, {"es": es, "ar": ar})


# The departments of the city's other services (issue 18): some push, some are polled; a few
# ask for a fee (the services whose cost a department quotes) or write a note on the way.
CATALOGUE_DEPARTMENTS = (
    Department(
        "parking",
        "PK",
        True,
        _script(
            "received",
            "in_review",
            "approved",
            _note(
                "certificate_issued",
                "Your permit is active from today",
                "Su permiso está activo desde hoy",
                "تصريحكم ساري المفعول اعتبارًا من اليوم",
            ),
        ),
    ),
    Department(
        "waste",
        "WS",
        False,
        _script(
            "received",
            _note(
                "approved",
                "Collection booked: leave the items outside by 7am on the day",
                "Recogida reservada: deje los objetos fuera antes de las 7:00 de ese día",
                "تم حجز موعد الجمع: ضعوا الأغراض في الخارج قبل الساعة 7 صباحًا في ذلك اليوم",
            ),
        ),
    ),
    Department(
        "register-office",
        "RO",
        True,
        _script(
            "received",
            "in_review",
            _note(
                "certificate_issued",
                "Certificate copy prepared",
                "Copia del certificado preparada",
                "تم إعداد نسخة الشهادة",
            ),
        ),
    ),
    Department(
        "planning",
        "PL",
        True,
        _script(
            "received",
            "in_review",
            _note(
                "approved",
                "This work does not need planning permission",
                "Esta obra no necesita licencia urbanística",
                "هذه الأعمال لا تحتاج إلى ترخيص تخطيط",
            ),
        ),
    ),
    Department(
        "building-control",
        "BC",
        False,
        _script("received", "in_review", "fee_due", FEE_RECEIVED, "approved"),
    ),
    Department("police", "PO", False, _script("received", "in_review", "approved")),
    Department(
        "highways",
        "HW",
        True,
        _script(
            "received",
            "in_review",
            _note(
                "approved",
                "Road closure approved for the date of your event",
                "Corte de calle aprobado para la fecha de su evento",
                "تمت الموافقة على إغلاق الطريق في تاريخ فعاليتكم",
            ),
        ),
    ),
    Department(
        "fire",
        "FR",
        False,
        _script(
            "received",
            _note(
                "approved",
                "Fire safety advice sent by email",
                "Recomendaciones de seguridad contra incendios enviadas por correo electrónico",
                "أُرسلت إرشادات السلامة من الحرائق بالبريد الإلكتروني",
            ),
        ),
    ),
    Department(
        "markets",
        "MK",
        True,
        _script("received", "in_review", "fee_due", FEE_RECEIVED, "approved"),
    ),
    Department(
        "animal-welfare",
        "AW",
        False,
        _script(
            "received",
            _note(
                "approved",
                "Licence tag posted",
                "Placa de la licencia enviada por correo postal",
                "أُرسلت قلادة الترخيص بالبريد",
            ),
        ),
    ),
    Department(
        "schools-north",
        "SN",
        True,
        _script(
            "received",
            "in_review",
            _note(
                "approved",
                "Bus pass posted to your address",
                "Abono de autobús enviado a su dirección",
                "أُرسلت بطاقة الحافلة إلى عنوانكم",
            ),
        ),
    ),
    Department("schools-south", "SS", False, _script("received", "in_review", "approved")),
    Department(
        "water",
        "WA",
        True,
        _script(
            "received",
            _note(
                "in_review",
                "Site survey booked",
                "Visita técnica programada",
                "تم حجز موعد المعاينة الفنية للموقع",
            ),
            "fee_due",
            FEE_RECEIVED,
            "approved",
        ),
    ),
)


DEPARTMENTS = {
    department.name: department
    for department in (
        Department(
            "trade-licence",
            "TL",
            True,
            _script("received", "in_review", "fee_due", "paid", "approved", "certificate_issued"),
        ),
        Department("tax", "TX", True, _script("received", "in_review", "approved")),
        Department(
            "environment",
            "EN",
            True,
            _script(
                "received",
                "in_review",
                SITE_PLAN,
                "in_review",
                "approved",
            ),
        ),
        Department("employer", "EM", False, _script("received", "in_review", "approved")),
        *CATALOGUE_DEPARTMENTS,
    )
}


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def error(status: int, message: str) -> Response[dict[str, str]]:
    return Response({"error": message}, status_code=status)


@dataclass
class Case:
    department: Department
    case_id: str
    client_reference: str
    callback_url: str | None
    request: dict[str, Any]
    received_at: str
    events: list[dict[str, Any]] = field(default_factory=list)
    position: int = 0  # where the case is in its department's script
    create_calls: int = 1
    changed: float = field(default_factory=time.monotonic)
    # Idempotency key of an /information or /payment call -> the answer it got.
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    information: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.events[-1]["status"])

    @property
    def final(self) -> bool:
        return self.status in self.department.final

    @property
    def waiting(self) -> bool:
        return self.status in WAITING

    def view(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "client_reference": self.client_reference,
            "status": self.status,
            "events": [dict(event) for event in self.events],
        }

    def receipt(self, created: bool) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "client_reference": self.client_reference,
            "status": self.status,
            "received_at": self.received_at,
            "created": created,
        }

    def locate(self, status: str) -> int:
        """The script position for `status`: where the case is if it is that step, else the next
        one ahead, else the last one behind, else where the case is (say for "rejected")."""
        script = self.department.script
        if script[self.position].status == status:
            return self.position
        ahead = [i for i in range(self.position + 1, len(script)) if script[i].status == status]
        if ahead:
            return ahead[0]
        behind = [i for i in range(self.position + 1) if script[i].status == status]
        return behind[-1] if behind else self.position

    def move(
        self,
        status: str | None = None,
        note: str | None = None,
        notes: dict[str, str] | None = None,
        **details: Any,
    ) -> dict[str, Any]:
        """Add the next event (the script's next status, or the one given) and return it;
        `details` (say the fee and payment of a "paid") are added to the event. The note is the
        script's (with its translations) unless one is given."""
        if status is None:
            self.position = min(self.position + 1, len(self.department.script) - 1)
            step = self.department.script[self.position]
        else:
            self.position = self.locate(status)
            step = self.department.script[self.position]
            if step.status != status:
                step = Step(status)
        event = {
            "event_id": "ev_" + secrets.token_hex(8),
            "status": step.status,
            "at": now_iso(),
            "note": step.note if note is None else note,
            "notes": dict(step.notes) if note is None else dict(notes or {}),
            "fee": dict(FEE) if step.status == "fee_due" else None,
            **details,
        }
        self.events.append(event)
        self.changed = time.monotonic()
        return event


def signature(secret: bytes, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class DepartmentsState(Pushes):
    secret: bytes
    step_seconds: float
    cases: dict[str, dict[str, Case]] = field(
        default_factory=lambda: {name: {} for name in DEPARTMENTS}
    )
    keys: dict[tuple[str, str], str] = field(default_factory=dict)  # (dept, key) -> case id

    def create(self, department: Department, key: str, body: dict[str, Any]) -> Case:
        cases = self.cases[department.name]
        case = Case(
            department=department,
            case_id=f"{department.prefix}-{len(cases) + 1:06d}",
            client_reference=body["client_reference"],
            callback_url=body.get("callback_url"),
            request=body,
            received_at=now_iso(),
        )
        case.move("received")
        cases[case.case_id] = case
        self.keys[(department.name, key)] = case.case_id
        return case

    def delivery(self, case: Case, event: dict[str, Any]) -> Delivery | None:
        """The signed push for one event, or None for a department that does not push."""
        if not case.department.pushes:
            return None
        payload = {
            "event_id": event["event_id"],
            "department": case.department.name,
            "case_id": case.case_id,
            "client_reference": case.client_reference,
            **{key: event[key] for key in ("status", "at", "note", "notes", "fee")},
            **({"payment_id": event["payment_id"]} if "payment_id" in event else {}),
        }
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        headers = {
            "Content-Type": "application/json",
            "X-Frontdoor-Signature": signature(self.secret, body.encode(), int(time.time())),
            "X-Request-ID": "sandbox-" + secrets.token_hex(8),
        }
        record = {
            "event_id": event["event_id"],
            "url": case.callback_url,
            "attempts": 0,
            "delivered": False,
            "gave_up": False,
        }
        case.deliveries.append(record)
        return Delivery(case.callback_url, body, headers, record)

    def move(
        self, case: Case, status: str | None = None, step: Step | None = None, **details: Any
    ) -> None:
        """Move a case (to `status`, or to a scripted `step` with its note) and push the new
        event in the background (the clock's, /information's and /payment's way; /advance awaits
        the first try to tell the tester)."""
        if step is not None:
            status, details = step.status, {"note": step.note, "notes": step.notes, **details}
        delivery = self.delivery(case, case.move(status, **details))
        if delivery is not None and delivery.url is not None:
            self.background(self.push(delivery))

    def tick(self, now: float) -> None:
        """Move on every case that has waited a step and is not waiting for someone."""
        for cases in self.cases.values():
            for case in cases.values():
                if not case.final and not case.waiting and now - case.changed >= self.step_seconds:
                    self.move(case)


def _key(request: Request[Any, Any, Any]) -> str | None:
    key = request.headers.get("idempotency-key", "")
    return key if 1 <= len(key) <= MAX_KEY else None


async def _json_object(request: Request[Any, Any, Any]) -> dict[str, Any] | None:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _invalid_case(body: dict[str, Any]) -> str | None:
    """Why a create body is refused, or None."""
    if not isinstance(body.get("client_reference"), str) or not body["client_reference"]:
        return "client_reference is required"
    applicant = body.get("applicant")
    if not isinstance(applicant, dict) or not isinstance(applicant.get("name"), str):
        return "applicant.name is required"
    if not applicant["name"].strip():
        return "applicant.name is required"
    for name in ("application_reference", "service", "language"):
        if not isinstance(body.get(name, ""), str):
            return f"{name} must be a string"
    if not isinstance(body.get("data", {}), dict):
        return "data must be an object"
    documents = body.get("documents", [])
    if not isinstance(documents, list) or not all(isinstance(doc, str) for doc in documents):
        return "documents must be a list of document ids"
    callback = body.get("callback_url")
    if callback is not None and (
        not isinstance(callback, str) or urlsplit(callback).scheme not in {"http", "https"}
    ):
        return "callback_url must be an http(s) URL"
    return None


def _invalid_information(body: dict[str, Any]) -> str | None:
    text, documents = body.get("text", ""), body.get("documents", [])
    if not isinstance(text, str):
        return "text must be a string"
    if not isinstance(documents, list) or not all(isinstance(doc, str) for doc in documents):
        return "documents must be a list of document ids"
    if not text.strip() and not documents:
        return "send text, documents or both"
    return None


def _keyed_case(
    request: Request[Any, Any, Any], state: DepartmentsState, department: str, case_id: str
) -> tuple[str, Case] | Response[Any]:
    """The idempotency key and case of a write to a case; or the answer to give at once: an
    error, or the earlier answer to the same key."""
    key = _key(request)
    if key is None:
        return error(400, "the Idempotency-Key header (1-200 characters) is required")
    case = state.cases.get(department, {}).get(case_id)
    if case is None:
        return error(404, f"no case {case_id!r} at {department!r}")
    if key in case.answers:
        return Response(case.answers[key])
    return key, case


class DepartmentController(Controller):
    """The contract itself, under /departments/{department}."""

    path = "/departments/{department:str}/cases"
    include_in_schema = False

    @post()
    async def create_case(
        self, request: Request[Any, Any, Any], department: FromPath[str]
    ) -> Response[Any]:
        state: DepartmentsState = request.app.state.departments
        known = DEPARTMENTS.get(department)
        if known is None:
            return error(404, f"unknown department {department!r}")
        key = _key(request)
        if key is None:
            return error(400, "the Idempotency-Key header (1-200 characters) is required")
        existing = state.keys.get((department, key))
        if existing is not None:
            case = state.cases[department][existing]
            case.create_calls += 1
            return Response(case.receipt(created=False), status_code=200)
        body = await _json_object(request)
        if body is None:
            return error(422, "the body must be a JSON object")
        problem = _invalid_case(body)
        if problem:
            return error(422, problem)
        case = state.create(known, key, body)
        return Response(case.receipt(created=True), status_code=201)

    @get("/{case_id:str}")
    async def get_case(
        self, request: Request[Any, Any, Any], department: FromPath[str], case_id: FromPath[str]
    ) -> Response[Any]:
        state: DepartmentsState = request.app.state.departments
        case = state.cases.get(department, {}).get(case_id)
        if case is None:
            return error(404, f"no case {case_id!r} at {department!r}")
        return Response(case.view())

    @post("/{case_id:str}/information", status_code=200)
    async def send_information(
        self, request: Request[Any, Any, Any], department: FromPath[str], case_id: FromPath[str]
    ) -> Response[Any]:
        """The applicant's answer: back to in_review once; the same key answers the same."""
        state: DepartmentsState = request.app.state.departments
        found = _keyed_case(request, state, department, case_id)
        if isinstance(found, Response):
            return found
        key, case = found
        body = await _json_object(request)
        if body is None:
            return error(422, "the body must be a JSON object")
        problem = _invalid_information(body)
        if problem:
            return error(422, problem)
        if case.status != "information_requested":
            return error(409, f"case {case_id} is {case.status}, not waiting for information")
        case.information.append(
            {"text": body.get("text", ""), "documents": body.get("documents", []), "at": now_iso()}
        )
        state.move(case, step=INFORMATION_RECEIVED)
        case.answers[key] = case.view()
        return Response(case.answers[key])

    @post("/{case_id:str}/payment", status_code=200)
    async def report_payment(
        self, request: Request[Any, Any, Any], department: FromPath[str], case_id: FromPath[str]
    ) -> Response[Any]:
        """The portal says the fee was paid: "paid" once, with the amount and the gateway's
        payment id; the same key answers the same. The amount must be the fee asked for."""
        state: DepartmentsState = request.app.state.departments
        found = _keyed_case(request, state, department, case_id)
        if isinstance(found, Response):
            return found
        key, case = found
        body = await _json_object(request)
        if body is None or not isinstance(body.get("payment_id"), str) or not body["payment_id"]:
            return error(422, "payment_id, amount_minor, currency and paid_at are required")
        if case.status != "fee_due":
            return error(409, f"case {case_id} is {case.status}, not waiting for a fee")
        fee = case.events[-1]["fee"] or {}
        paid = {"amount_minor": body.get("amount_minor"), "currency": body.get("currency")}
        if paid != fee:
            return error(422, f"the amount paid {paid} is not the fee due {fee}")
        state.move(case, step=FEE_RECEIVED, fee=paid, payment_id=body["payment_id"])
        case.answers[key] = case.view()
        return Response(case.answers[key])


@dataclass
class AdvanceCommand:
    status: str | None = None
    note: str | None = None
    notes: dict[str, str] | None = None  # the note in other languages, by language


class DepartmentSandboxController(Controller):
    """Testers' controls: list cases, move one along its script (even past a wait)."""

    path = "/_sandbox/departments/{department:str}/cases"
    include_in_schema = False

    @get()
    async def list_cases(
        self, request: Request[Any, Any, Any], department: FromPath[str]
    ) -> Response[Any]:
        state: DepartmentsState = request.app.state.departments
        if department not in DEPARTMENTS:
            return error(404, f"unknown department {department!r}")
        cases = [
            {
                **case.view(),
                "create_calls": case.create_calls,
                "callback_url": case.callback_url,
                "request": case.request,
                "information": case.information,
                "deliveries": case.deliveries,
            }
            for case in state.cases[department].values()
        ]
        return Response({"cases": cases})

    @post("/{case_id:str}/advance", status_code=200)
    async def advance(
        self,
        request: Request[Any, Any, Any],
        department: FromPath[str],
        case_id: FromPath[str],
        data: AdvanceCommand | None = None,
    ) -> Response[Any]:
        """Move one case; answer the event and its push, with the push's first try awaited."""
        state: DepartmentsState = request.app.state.departments
        command = data or AdvanceCommand()
        case = state.cases.get(department, {}).get(case_id)
        if case is None:
            return error(404, f"no case {case_id!r} at {department!r}")
        if command.status is not None and command.status not in STATUSES:
            return error(422, f"unknown status {command.status!r}; known: {list(STATUSES)}")
        if case.final:
            return error(409, f"case {case_id} is {case.status}, which is final")
        event = case.move(command.status, command.note, command.notes)
        delivery = state.delivery(case, event)
        webhook = None
        if delivery is not None:
            delivered = await state.attempt(delivery)
            if not delivered and delivery.url is not None:
                state.background(state.retry(delivery))
            webhook = {
                "url": delivery.url,
                "body": delivery.body,
                "headers": delivery.headers,
                "delivered": delivered,
            }
        return Response({"event": event, "webhook": webhook})
