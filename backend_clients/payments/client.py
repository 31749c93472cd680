"""Create a payment and read its state. The browser's return is never trusted: the portal asks
`get_payment` what happened, and the gateway's signed webhook says the same."""

from __future__ import annotations

from urllib.parse import quote

from backend_clients.http import BackendClient, ClientConfig
from backend_clients.payments.models import NewPayment, Payment


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
