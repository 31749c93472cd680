"""Open311 GeoReport v2 (CONTRACTS.md §4): one service request per problem, a state and notes
instead of events, no pushes (the worker asks)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from backend_clients.open311 import Open311Client, ServiceRequest, ServiceRequestStatus
from portal.contracts.base import Config, Connection, Contract, Environment, News, Outgoing, Sent

FieldId = str


class Open311Config(Config):
    url: str | None = None  # default: FRONTDOOR_OPEN311_URL (the key is FRONTDOOR_OPEN311_API_KEY)


class Open311Request(BaseModel):
    """Which answers fill a service request (the delivery's `request:` block)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service_code: FieldId
    place: FieldId
    description: FieldId
    photo: FieldId | None = None


def report_news(report: ServiceRequestStatus) -> list[News]:
    """Open311 has no events, only a state: each state (and note) seen becomes one event."""
    if report.status == "closed":
        status = "resolved"
    elif (report.status_notes or "").strip().lower() in ("", "received"):
        status = "received"
    else:
        status = "in_review"
    at = report.updated_datetime or report.requested_datetime
    key = f"open311:{report.service_request_id}:{report.status}:{report.status_notes or ''}"
    return [News(external_id=key[:120], status=status, at=at, note=report.status_notes or "")]


class Open311Connection(Connection):
    def __init__(self, department: str, client: Open311Client, documents_url: str) -> None:
        super().__init__(department)
        self.client = client
        self.documents_url = documents_url

    async def send(self, outgoing: Outgoing) -> Sent:
        fields = Open311Request.model_validate(outgoing.request)
        answers = outgoing.answers
        place = answers.get(fields.place) or {}
        photo = answers.get(fields.photo) if fields.photo else None
        if isinstance(photo, list):  # several photos: Open311 takes one
            photo = photo[0] if photo else None
        media = None
        if isinstance(photo, dict) and photo.get("document") in outgoing.documents:
            media = f"{self.documents_url}/documents/{outgoing.documents[photo['document']]}"
        located = place.get("lat") is not None and place.get("lon") is not None
        report_id = await self.client.create_request(
            ServiceRequest(
                service_code=str(answers.get(fields.service_code)),
                description=str(answers.get(fields.description) or "")[:4000],
                lat=place.get("lat") if located else None,
                long=place.get("lon") if located else None,
                address_string=str(place.get("label") or "") or None,
                media_url=media,
            ),
            idempotency_key=outgoing.key,
        )
        report = await self.client.get_request(report_id)
        return Sent(report.service_request_id, report_news(report))

    async def news(self, case_id: str) -> list[News]:
        return report_news(await self.client.get_request(case_id))

    async def aclose(self) -> None:
        await self.client.aclose()


def connect(department: str, config: Open311Config, env: Environment) -> Connection:
    settings = env.settings
    client = Open311Client(
        env.http(config.url or settings.open311_url), settings.open311_api_key.get_secret_value()
    )
    return Open311Connection(department, client, settings.documents_url)


CONTRACT = Contract(
    name="open311",
    config=Open311Config,
    connect=connect,
    request=Open311Request,
    description="Open311 GeoReport v2: problem reports with a place, a category and a photo",
)
