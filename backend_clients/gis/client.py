"""Find addresses in the municipality (to fill in and check an address a citizen types)."""

from __future__ import annotations

from urllib.parse import quote

from backend_clients.gis.models import Address, SearchResults
from backend_clients.http import BackendClient

MIN_QUERY = 2
MAX_LIMIT = 20


class GeocoderClient(BackendClient):
    name = "gis"

    async def search(self, query: str, limit: int = 5) -> list[Address]:
        """Addresses whose label holds every word of `query`, best first.

        The geocoder refuses a query under 2 characters and a limit outside 1..20
        (BackendRejected 422); callers check the query before asking.
        """
        response = await self.request("GET", "/geocode", params={"q": query, "limit": limit})
        return self.read(response, SearchResults).results

    async def address(self, address_id: str) -> Address:
        """One address by id; BackendRejected(404) when there is none."""
        response = await self.request("GET", f"/addresses/{quote(address_id, safe='')}")
        return self.read(response, Address)
