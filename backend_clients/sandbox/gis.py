"""The GIS geocoder (CONTRACTS.md §2) over a fixed gazetteer of the fictional town of Riverside.

Case and accents are folded on both sides and punctuation splits words, so "plaza de espana"
finds "Plaza de España" and "l eglise" finds "Rue de l'Église". Every word of the query must
appear in the label (as a word or part of one, so a half-typed street name finds it).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from litestar import Controller, Response, get
from litestar.params import FromPath, FromQuery

TOWN = "Riverside"
MAX_LIMIT = 20

# street, postcode, latitude and longitude of its first house, house numbers, number first?
_STREETS: tuple[tuple[str, str, float, float, tuple[int, ...], bool], ...] = (
    ("Harbour Street", "RV1 2AB", 40.4168, -3.7038, (2, 7, 12, 31), True),
    ("High Street", "RV1 3CD", 40.4181, -3.7012, (1, 14, 22, 45), True),
    ("Mill Lane", "RV2 5EF", 40.4205, -3.6987, (3, 8, 19), True),
    ("Station Road", "RV1 4GH", 40.4152, -3.7061, (5, 10, 27, 60), True),
    ("Church Road", "RV3 1JK", 40.4133, -3.6954, (4, 11, 16), True),
    ("Calle Mayor", "RV2 7LM", 40.4159, -3.7074, (5, 18, 23, 40), False),
    ("Plaza de España", "RV2 6NP", 40.4234, -3.7122, (1, 3, 9), False),
    ("Avenida de la Constitución", "RV3 2QR", 40.4101, -3.6921, (15, 28, 102), False),
    ("Rue de l'Église", "RV1 8ST", 40.4190, -3.7101, (6, 13), False),
    ("Market Square", "RV1 1UW", 40.4172, -3.7049, (2, 4, 9), True),
    ("Riverside Walk", "RV4 3XY", 40.4087, -3.7143, (17, 33, 58), True),
    ("Paseo del Río", "RV4 1AZ", 40.4066, -3.7167, (7, 21), False),
    ("Bridge Street", "RV1 5BD", 40.4143, -3.7089, (8, 26), True),
    ("Camino de Santiago", "RV3 4DE", 40.4119, -3.6899, (2, 12), False),
)


def _gazetteer() -> dict[str, dict[str, Any]]:
    addresses: dict[str, dict[str, Any]] = {}
    for street, postcode, lat, lon, numbers, number_first in _STREETS:
        for number in numbers:
            place = f"{number} {street}" if number_first else f"{street} {number}"
            address_id = f"addr-{len(addresses) + 1:04d}"
            addresses[address_id] = {
                "id": address_id,
                "label": f"{place}, {TOWN} {postcode}",
                "street": street,
                "number": str(number),
                "postcode": postcode,
                "town": TOWN,
                "lat": round(lat + number * 0.00004, 6),
                "lon": round(lon + number * 0.00003, 6),
            }
    return addresses


ADDRESSES = _gazetteer()


def fold(text: str) -> str:
    """Lower case without accents: "España" and "espana" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def words(text: str) -> list[str]:
    return re.findall(r"\w+", fold(text))


def search(query: str, limit: int) -> list[dict[str, Any]]:
    """Addresses whose label holds every word of the query, whole-word and prefix hits first."""
    wanted = words(query)
    if not wanted:
        return []
    ranked: list[tuple[int, str, int, dict[str, Any]]] = []
    for address in ADDRESSES.values():
        label = fold(address["label"])
        if not all(word in label for word in wanted):
            continue
        tokens = words(address["label"])
        score = sum(
            3 if word in tokens else 2 if any(t.startswith(word) for t in tokens) else 1
            for word in wanted
        )
        ranked.append((-score, fold(address["street"]), int(address["number"]), address))
    ranked.sort(key=lambda item: item[:3])
    return [dict(item[3]) for item in ranked[:limit]]


def _error(status: int, message: str) -> Response[dict[str, str]]:
    return Response({"error": message}, status_code=status)


class GisController(Controller):
    path = "/gis"
    include_in_schema = False

    @get("/geocode")
    async def geocode(self, q: FromQuery[str] = "", limit: FromQuery[int] = 5) -> Response[Any]:
        if len(q.strip()) < 2:
            return _error(422, "q must be at least 2 characters")
        if not 1 <= limit <= MAX_LIMIT:
            return _error(422, f"limit must be between 1 and {MAX_LIMIT}")
        return Response({"results": search(q, limit)})

    @get("/addresses/{address_id:str}")
    async def address(self, address_id: FromPath[str]) -> Response[Any]:
        found = ADDRESSES.get(address_id)
        if found is None:
            return _error(404, f"no address {address_id!r}")
        return Response(dict(found))
