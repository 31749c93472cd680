"""Create a payment, read its state and search a time range. The browser's return is never
trusted: the portal asks `get_payment` what happened, and the gateway's signed webhook says the
same."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import quote

import httpx

from backend_clients.http import BackendClient, BackendError, BackendUnavailable, ClientConfig
from backend_clients.payments.models import NewPayment, Payment, SearchPage

LARGEST_PAGE = 500  # the gateway's own limit on display_size
MOST_PAGES = 1_000  # half a million payments: past that, the gateway is going round in circles
PAGE_RETRY_SECONDS = (0.5, 1.0)  # a search page is a read: asked again twice when it fails


class PaymentsClient(BackendClient):
    name = "payments"

    def __init__(self, config: ClientConfig, api_key: str) -> None:
        super().__init__(config)
        self._auth = {"Authorization": f"Bearer {api_key}"}

    async def create_payment(self, payment: NewPayment, idempotency_key: str) -> Payment:
        """Start a payment; the same key answers the same payment (never a second charge)."""
        response = await self.request(
            "POST",
            "/v1/payments",
            json=payment.model_dump(),
            headers={**self._auth, "Idempotency-Key": idempotency_key},
        )
        return self.read(response, Payment)

    async def get_payment(self, payment_id: str) -> Payment:
        """The payment as the gateway knows it now; BackendRejected(404) when unknown."""
        response = await self.request(
            "GET", f"/v1/payments/{quote(payment_id, safe='')}", headers=self._auth
        )
        return self.read(response, Payment)

    async def search_payments(
        self, from_date: datetime, to_date: datetime, *, display_size: int = LARGEST_PAGE
    ) -> AsyncIterator[Payment]:
        """Every payment created from `from_date` (included) to `to_date` (excluded), page by
        page as the gateway's `next_page` links lead, each once (a payment made meanwhile shifts
        the newest-first pages: what reappears is skipped). The links' parameters are sent to
        our own base URL, so the API key never goes where a link points."""
        params: dict[str, str | int] = {
            "from_date": from_date.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "to_date": to_date.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "page": 1,
            "display_size": min(display_size, LARGEST_PAGE),
        }
        seen: set[str] = set()
        for _ in range(MOST_PAGES):
            page = await self._search_page(params)
            for payment in page.results:
                if payment.payment_id not in seen:
                    seen.add(payment.payment_id)
                    yield payment
            if page.links.next_page is None:
                return
            params = dict(httpx.URL(page.links.next_page.href).params)
        raise BackendError(f"{self.name}: the search did not end after {MOST_PAGES} pages")

    async def _search_page(self, params: dict[str, str | int]) -> SearchPage:
        for pause in (*PAGE_RETRY_SECONDS, None):
            try:
                response = await self.request(
                    "GET", "/v1/payments", params=params, headers=self._auth
                )
                return self.read(response, SearchPage)
            except BackendUnavailable:
                if pause is None:
                    raise
                await asyncio.sleep(pause)
        raise AssertionError("unreachable")
