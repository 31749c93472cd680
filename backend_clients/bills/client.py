"""The tax and fines office's bills: look one up by reference, report that it was paid.

The payment report is the same as a department's fee report; the Idempotency-Key makes a repeat
after a timeout harmless (CONTRACTS.md §7).
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict

from backend_clients.departments.models import PaymentReport
from backend_clients.http import BackendClient


class Bill(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    reference: str
    description: str
    amount_minor: int
    currency: str
    status: Literal["due", "paid"]
    payment_id: str | None = None


class BillsClient(BackendClient):
    name = "bills"

    def _bill(self, reference: str) -> str:
        return f"/v1/bills/{quote(reference, safe='')}"

    async def get_bill(self, reference: str) -> Bill:
        """The bill; BackendRejected(404) when there is none with that reference."""
        return self.read(await self.request("GET", self._bill(reference)), Bill)

    async def report_payment(
        self, reference: str, payment: PaymentReport, idempotency_key: str
    ) -> Bill:
        """BackendRejected(409) when it was paid by another payment, (422) for a wrong amount."""
        response = await self.request(
            "POST",
            f"{self._bill(reference)}/payment",
            json=payment.model_dump(mode="json"),
            headers={"Idempotency-Key": idempotency_key},
        )
        return self.read(response, Bill)
