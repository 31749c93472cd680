"""Report street problems to public works over Open311 GeoReport v2 (JSON), and poll them.

`base_url` is the endpoint root (`{open311_url}`). Open311 cannot push, so the portal polls
`get_requests` for the reports it has open.
"""

from __future__ import annotations

from urllib.parse import quote

from pydantic import TypeAdapter

from backend_clients.http import BackendClient, BackendError, ClientConfig
from backend_clients.open311.models import (
    Open311Service,
    RequestCreated,
    ServiceRequest,
    ServiceRequestStatus,
)

_SERVICES = TypeAdapter(list[Open311Service])
_CREATED = TypeAdapter(list[RequestCreated])
_STATUSES = TypeAdapter(list[ServiceRequestStatus])


class Open311Client(BackendClient):
    name = "open311"

    def __init__(self, config: ClientConfig, api_key: str) -> None:
        super().__init__(config)
        self._api_key = api_key

    async def services(self) -> list[Open311Service]:
        """The kinds of problem public works takes reports for."""
        return self.read(await self.request("GET", "/services.json"), _SERVICES)

    async def create_request(self, request: ServiceRequest, idempotency_key: str) -> str:
        """File a report and return its service_request_id; the same key files it only once."""
        form = {key: str(value) for key, value in request.model_dump(exclude_none=True).items()}
        response = await self.request(
            "POST",
            "/requests.json",
            data={**form, "api_key": self._api_key},
            headers={"Idempotency-Key": idempotency_key},
        )
        created = self.read(response, _CREATED)
        if not created:
            raise BackendError(f"{self.name}: no service request in the answer")
        return created[0].service_request_id

    async def get_request(self, request_id: str) -> ServiceRequestStatus:
        """One report's status; BackendRejected(404) when unknown."""
        response = await self.request("GET", f"/requests/{quote(request_id, safe='')}.json")
        found = self.read(response, _STATUSES)
        if not found:
            raise BackendError(f"{self.name}: no service request in the answer")
        return found[0]

    async def get_requests(self, request_ids: list[str]) -> list[ServiceRequestStatus]:
        """Several reports in one call; ids the service does not know are left out."""
        if not request_ids:
            return []
        response = await self.request(
            "GET", "/requests.json", params={"service_request_id": ",".join(request_ids)}
        )
        return self.read(response, _STATUSES)
