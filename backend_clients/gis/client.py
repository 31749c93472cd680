"""Find addresses in the municipality (to fill in and check an address a citizen types)."""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from backend_clients.gis.models import Address, SearchResults
from backend_clients.http import BackendClient, BackendError

ModelT = TypeVar("ModelT", bound=BaseModel)
MIN_QUERY = 2
MAX_LIMIT = 20


class GeocoderClient(BackendClient):
    name = "gis"

    def _read(self, response: httpx.Response, model: type[ModelT]) -> ModelT:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as error:
            raise BackendError(
                f"{self.name}: unexpected answer ({error.error_count()} problems)",
                request=response.request,
            ) from error

    async def search(self, query: str, limit: int = 5) -> list[Address]:
        """Addresses whose label holds every word of `query`, best first.

        The geocoder refuses a query under 2 characters and a limit outside 1..20
        (BackendRejected 422); callers check the query before asking.
        """
        response = await self.request("GET", "/geocode", params={"q": query, "limit": limit})
        return self._read(response, SearchResults).results

    async def address(self, address_id: str) -> Address:
        """One address by id; BackendRejected(404) when there is none."""
        response = await self.request("GET", f"/addresses/{quote(address_id, safe='')}")
        return self._read(response, Address)
