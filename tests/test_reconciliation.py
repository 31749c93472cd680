"""Administrators' reconciliation of a day of payments against the gateway's search: what
differs is shown first, including payments the gateway has and we do not, over as many pages of
the search as the day takes."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from backend_clients.http import ClientConfig
from backend_clients.payments import PaymentsClient
from conftest import Sandbox, run_async
from tests.payments_support import Made, a_day, seed_day, spread
from tests.support import sign_in_as, visible_text

API_KEY = {"Authorization": "Bearer sandbox-payments-api-key"}
ONLY_AT_GATEWAY = "At the gateway, not in our records"
NONE = "\N{EN DASH}"  # a state one side does not have


@pytest.fixture
def admin(portal_factory: Callable[..., TestClient[Any]], database_url: str) -> TestClient[Any]:
    client = portal_factory(database_url=database_url)
    assert sign_in_as(client, "admin", "/staff", staff=True).status_code == 303
    return client


def row_of(text: str, reference: str) -> str:
    """The visible text of a row, from its reference to the next reference."""
    after = text[text.index(reference) :]
    end = after.find("RC-", len(reference))
    return after if end < 0 else after[:end]


def test_a_payment_only_the_gateway_has_is_shown_beside_a_state_that_differs(
    admin: TestClient[Any], sandbox: Sandbox, database_url: str
) -> None:
    day = a_day()
    seeded = seed_day(
        sandbox.url,
        database_url,
        day,
        [
            *spread(3),
            Made(at=0.6, ours=None),  # the gateway has it, we do not
            Made(at=0.7, ours="created", theirs="success"),
            Made(at=0.8, theirs=None),  # we have it (with a gateway id), the gateway does not
        ],
    )
    stranger, differs, lost = seeded.references[3:]
    page = admin.get("/staff/payments", params={"day": day.isoformat()})
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "3 payments do not match the gateway" in text
    assert "3 payments match the gateway." in text
    gateway_id = seeded.gateway_ids[stranger]
    assert f"{stranger} {gateway_id} €60.00 {NONE} success {ONLY_AT_GATEWAY}" in text
    assert "created success States differ" in row_of(text, differs)
    assert f"success {NONE} Not at the gateway" in row_of(text, lost)
    for matching in seeded.references[:3]:
        assert matching not in text  # only the differences are listed

    export = admin.get("/staff/payments/export.csv", params={"day": day.isoformat()})
    lines = [line for line in csv.reader(io.StringIO(export.text)) if "RC-" in line[4]]
    assert len(lines) == 6  # every row, the matching ones too
    only = next(line for line in lines if line[4] == stranger)
    assert only[1:3] == ["", gateway_id] and only[7:] == ["", "success", ONLY_AT_GATEWAY]

    spanish = admin.get(
        "/staff/payments", params={"day": day.isoformat()}, headers={"Accept-Language": "es"}
    )
    assert "En la pasarela, pero no en nuestros registros" in visible_text(spanish.text)


def test_a_day_longer_than_one_page_of_the_search_is_read_to_its_end(
    admin: TestClient[Any], sandbox: Sandbox, database_url: str
) -> None:
    """The search lists newest first, 500 a page: the day's first payments are on page 2."""
    day = a_day()
    seeded = seed_day(
        sandbox.url,
        database_url,
        day,
        [
            Made(at=0.01, ours=None),
            Made(at=0.02, ours="started", theirs="failed"),
            *(Made(at=0.1 + 0.8 * n / 520) for n in range(520)),
        ],
    )
    stranger, differs = seeded.references[:2]
    text = visible_text(admin.get("/staff/payments", params={"day": day.isoformat()}).text)
    assert "520 payments match the gateway." in text
    assert "2 payments do not match the gateway" in text
    assert ONLY_AT_GATEWAY in row_of(text, stranger)
    assert "started failed States differ" in row_of(text, differs)


def test_the_client_follows_the_search_pages_and_the_sandbox_refuses_wrong_searches(
    sandbox: Sandbox,
) -> None:
    day = a_day()
    seeded = seed_day(sandbox.url, "", day, spread(5, ours=None))  # the gateway's only
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=2)

    async def search() -> list[str]:
        client = PaymentsClient(ClientConfig(f"{sandbox.url}/payments"), "sandbox-payments-api-key")
        try:
            found = client.search_payments(start, start + timedelta(days=2), display_size=2)
            return [payment.reference async for payment in found]
        finally:
            await client.aclose()

    assert run_async(search()) == list(reversed(seeded.references))  # newest first, 3 pages
    url = f"{sandbox.url}/payments/v1/payments"
    window = {
        "from_date": start.isoformat(),
        "to_date": (start + timedelta(days=2)).isoformat(),
        "display_size": "2",
    }
    second = httpx.get(url, params={**window, "page": "2"}, headers=API_KEY).json()
    assert (second["total"], second["count"], second["page"]) == (5, 2, 2)
    assert second["_links"]["next_page"]["href"].endswith("page=3&display_size=2")
    assert httpx.get(url, params={**window, "page": "4"}, headers=API_KEY).status_code == 404
    refused = httpx.get(url, params={"from_date": "yesterday"}, headers=API_KEY)
    assert refused.status_code == 422 and "from_date" in refused.json()["description"]
    assert httpx.get(url, params={"display_size": "501"}, headers=API_KEY).status_code == 422
    assert httpx.get(url, params=window).status_code == 401


def test_when_the_gateway_does_not_answer_the_page_says_so_instead_of_guessing(
    admin: TestClient[Any], sandbox: Sandbox, database_url: str
) -> None:
    day = a_day()
    seed_day(sandbox.url, database_url, day, spread(2))
    sandbox.set_fault("payments", down=True)
    text = visible_text(admin.get("/staff/payments", params={"day": day.isoformat()}).text)
    assert "The gateway did not answer, so this day could not be compared." in text
    assert "2 payments were started this day." in text
