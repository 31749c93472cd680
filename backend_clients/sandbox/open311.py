"""Open311 GeoReport v2 for public works and environmental health (CONTRACTS.md §4), JSON only,
with an Idempotency-Key.

Reports move Received -> Scheduled for repair -> Fixed (closed), on the app's clock or by
`POST /_sandbox/open311/requests/{id}/advance`. Open311 cannot push: the portal polls.
"""

from __future__ import annotations

import hmac
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

AGENCY = "Riverside Public Works"
MAX_DESCRIPTION = 4000
MAX_KEY = 200
STEPS = (("open", "Received"), ("open", "Scheduled for repair"), ("closed", "Fixed"))
SERVICES = (
    {
        "service_code": "pothole",
        "service_name": "Pothole",
        "description": "A hole or broken surface in a road or pavement.",
        "group": "streets",
    },
    {
        "service_code": "street-light",
        "service_name": "Street light",
        "description": "A street light that is out, flickering or damaged.",
        "group": "streets",
    },
    {
        "service_code": "missed-bin",
        "service_name": "Missed bin collection",
        "description": "A household bin that was not emptied on its collection day.",
        "group": "waste",
    },
    {
        "service_code": "graffiti",
        "service_name": "Graffiti",
        "description": "Graffiti on a public building, wall or street furniture.",
        "group": "cleaning",
    },
    {
        "service_code": "street-light-day",
        "service_name": "Street light on during the day",
        "description": "A street light that stays on in daylight.",
        "group": "streets",
    },
    {
        "service_code": "street-light-damaged",
        "service_name": "Damaged street light",
        "description": "A street light column or lamp that is damaged, leaning or open.",
        "group": "streets",
    },
    {
        "service_code": "noise-music",
        "service_name": "Noise: music or parties",
        "description": "Loud music, parties or voices from a home or business.",
        "group": "noise",
    },
    {
        "service_code": "noise-works",
        "service_name": "Noise: building work",
        "description": "Building, demolition or road work outside the permitted hours.",
        "group": "noise",
    },
    {
        "service_code": "noise-alarm",
        "service_name": "Noise: alarm",
        "description": "A burglar or car alarm ringing for a long time.",
        "group": "noise",
    },
    {
        "service_code": "noise-other",
        "service_name": "Noise: other",
        "description": "Barking dogs, machinery or other noise.",
        "group": "noise",
    },
)
SERVICE_NAMES = {service["service_code"]: service["service_name"] for service in SERVICES}
# The city's Open311 endpoint is shared: the agency depends on the kind of request.
AGENCIES = {"noise": "Riverside Environmental Health"}
SERVICE_AGENCIES = {
    service["service_code"]: AGENCIES.get(service["group"], AGENCY) for service in SERVICES
}
NOTICE = "Thank you. Riverside Public Works looks at new reports within 2 working days."


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def errors(status: int, description: str) -> Response[list[dict[str, Any]]]:
    """GeoReport v2's error shape: a list of {code, description}."""
    return Response([{"code": status, "description": description}], status_code=status)


@dataclass
class Report:
    public: dict[str, Any]  # what GET requests answer
    contact: dict[str, str]  # who reported it (never shown by GET)
    step: int = 0
    changed: float = field(default_factory=time.monotonic)

    def advance(self) -> None:
        self.step += 1
        self.public["status"], self.public["status_notes"] = STEPS[self.step]
        self.public["updated_datetime"] = now_iso()
        self.changed = time.monotonic()

    @property
    def closed(self) -> bool:
        return self.step == len(STEPS) - 1


@dataclass
class Open311State:
    api_key: str
    step_seconds: float = 0.0
    reports: dict[str, Report] = field(default_factory=dict)
    answers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # key -> answer

    def tick(self, now: float) -> None:
        for report in self.reports.values():
            if not report.closed and now - report.changed >= self.step_seconds:
                report.advance()


def _coordinate(value: str, limit: float) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and abs(number) <= limit else None


def _new_report(form: dict[str, str], request_id: str) -> Report | str:
    """The report the form describes, or why it is refused."""
    code = form.get("service_code", "")
    if code not in SERVICE_NAMES:
        return f"service_code {code!r} not found"
    lat_text, long_text = form.get("lat", ""), form.get("long", "")
    address = form.get("address_string", "").strip()
    lat = _coordinate(lat_text, 90) if lat_text else None
    long = _coordinate(long_text, 180) if long_text else None
    if (lat_text or long_text) and (lat is None or long is None):
        return "lat and long must both be given as decimal degrees"
    if lat is None and not address:
        return "a location is required: lat and long, or address_string"
    description = form.get("description", "").strip()
    if not description:
        return "description is required"
    if len(description) > MAX_DESCRIPTION:
        return f"description is limited to {MAX_DESCRIPTION} characters"
    now = now_iso()
    public = {
        "service_request_id": request_id,
        "status": STEPS[0][0],
        "status_notes": STEPS[0][1],
        "service_name": SERVICE_NAMES[code],
        "service_code": code,
        "description": description,
        "agency_responsible": SERVICE_AGENCIES[code],
        "requested_datetime": now,
        "updated_datetime": now,
        "address": address or None,
        "lat": lat,
        "long": long,
        "media_url": form.get("media_url") or None,
    }
    contact_fields = ("email", "first_name", "last_name", "phone")
    contact = {name: form[name] for name in contact_fields if form.get(name)}
    return Report(public, contact)


class Open311Controller(Controller):
    path = "/open311"
    include_in_schema = False

    @get("/services.json")
    async def services(self) -> list[dict[str, Any]]:
        return [
            {**service, "metadata": False, "type": "realtime", "keywords": ""}
            for service in SERVICES
        ]

    @post("/requests.json")
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        state: Open311State = request.app.state.open311
        form = {key: str(value) for key, value in (await request.form()).items()}
        if not hmac.compare_digest(form.get("api_key", "").encode(), state.api_key.encode()):
            return errors(403, "api_key is missing or not valid")
        key = request.headers.get("idempotency-key")
        if key is not None and not 1 <= len(key) <= MAX_KEY:
            return errors(400, "Idempotency-Key must have 1 to 200 characters")
        if key is not None and key in state.answers:
            return Response(state.answers[key], status_code=201)
        report = _new_report(form, f"PW-{len(state.reports) + 1:06d}")
        if isinstance(report, str):
            return errors(400, report)
        state.reports[report.public["service_request_id"]] = report
        answer = [
            {
                "service_request_id": report.public["service_request_id"],
                "service_notice": NOTICE,
                "account_id": None,
            }
        ]
        if key is not None:
            state.answers[key] = answer
        return Response(answer, status_code=201)

    @get("/requests.json")
    async def list_requests(
        self, request: Request[Any, Any, Any], service_request_id: FromQuery[str | None] = None
    ) -> list[dict[str, Any]]:
        """The requests asked for (unknown ids left out), or every request."""
        state: Open311State = request.app.state.open311
        if service_request_id is None:
            return [dict(report.public) for report in state.reports.values()]
        wanted = [item.strip() for item in service_request_id.split(",") if item.strip()]
        return [dict(state.reports[item].public) for item in wanted if item in state.reports]

    @get("/requests/{request_file:str}")
    async def get_request(
        self, request: Request[Any, Any, Any], request_file: FromPath[str]
    ) -> Response[Any]:
        state: Open311State = request.app.state.open311
        request_id = request_file.removesuffix(".json")
        report = state.reports.get(request_id)
        if report is None or not request_file.endswith(".json"):
            return errors(404, f"service request {request_id!r} not found")
        return Response([dict(report.public)])


@post("/_sandbox/open311/requests/{request_id:str}/advance", status_code=200)
async def advance_report(
    request: Request[Any, Any, Any], request_id: FromPath[str]
) -> Response[Any]:
    """Testers' control: the report's next status (409 once it is fixed)."""
    state: Open311State = request.app.state.open311
    report = state.reports.get(request_id)
    if report is None:
        return errors(404, f"service request {request_id!r} not found")
    if report.closed:
        return errors(409, f"service request {request_id} is closed")
    report.advance()
    return Response(dict(report.public))
