"""The tax and fines office's bills (CONTRACTS.md §7): look a bill up by its reference, and hear
that it was paid, once, for the amount due.

Two bills exist from the start (README lists them); testers add more through /_sandbox/bills.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

MAX_KEY = 200
# References carry a Luhn mod 32 check character (the portal checks it before asking).
SEEDED = (
    ("BL-7K3M-9QX1", "Parking fine, Harbour Street", 6000),
    ("BL-2PWA-H5RA", "Property tax, second instalment", 48250),
)


@dataclass
class Bill:
    reference: str
    description: str
    amount_minor: int
    currency: str = "EUR"
    status: str = "due"  # due, paid
    payment_id: str | None = None
    paid_at: str | None = None
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key -> answer

    def view(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "description": self.description,
            "amount_minor": self.amount_minor,
            "currency": self.currency,
            "status": self.status,
            "payment_id": self.payment_id,
            "paid_at": self.paid_at,
        }


@dataclass
class BillsState:
    bills: dict[str, Bill] = field(default_factory=dict)

    @classmethod
    def seeded(cls) -> BillsState:
        return cls({ref: Bill(ref, text, amount) for ref, text, amount in SEEDED})


def _error(status: int, message: str) -> Response[dict[str, str]]:
    return Response({"error": message}, status_code=status)


class BillsController(Controller):
    path = "/bills/v1/bills"

    @get("/{reference:str}")
    async def read(
        self, request: Request[Any, Any, Any], reference: FromPath[str]
    ) -> Response[Any]:
        bill = request.app.state.bills.bills.get(reference)
        return Response(bill.view()) if bill else _error(404, f"no bill {reference}")

    @post("/{reference:str}/payment", status_code=200)
    async def paid(
        self, request: Request[Any, Any, Any], reference: FromPath[str]
    ) -> Response[Any]:
        """Paid once: the same key answers the same; another payment of a paid bill is 409."""
        bill = request.app.state.bills.bills.get(reference)
        if bill is None:
            return _error(404, f"no bill {reference}")
        key = request.headers.get("idempotency-key", "")
        if not 1 <= len(key) <= MAX_KEY:
            return _error(400, "Idempotency-Key header is required")
        if key in bill.answers:
            return Response(bill.answers[key])
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("payment_id"), str):
            return _error(422, "payment_id, amount_minor, currency and paid_at are required")
        if bill.status == "paid":
            return _error(409, f"bill {reference} is already paid")
        if (body.get("amount_minor"), body.get("currency")) != (bill.amount_minor, bill.currency):
            return _error(422, f"the amount paid is not the {bill.amount_minor} due")
        bill.status, bill.payment_id = "paid", body["payment_id"]
        bill.paid_at = str(body.get("paid_at") or datetime.now(UTC).isoformat())
        bill.answers[key] = bill.view()
        return Response(bill.answers[key])


class BillsSandboxController(Controller):
    """Testers' controls: add a bill, list them all."""

    path = "/_sandbox/bills"

    @post("/", status_code=201, sync_to_thread=False)
    def add(self, request: Request[Any, Any, Any], data: dict[str, Any]) -> Response[Any]:
        try:
            bill = Bill(str(data["reference"]), str(data["description"]), int(data["amount_minor"]))
        except (KeyError, TypeError, ValueError):
            return _error(422, "reference, description and amount_minor are required")
        request.app.state.bills.bills[bill.reference] = bill
        return Response(bill.view(), status_code=201)

    @get("/", sync_to_thread=False)
    def list_bills(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        return {"bills": [bill.view() for bill in request.app.state.bills.bills.values()]}
