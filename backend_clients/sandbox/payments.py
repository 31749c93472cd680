"""A payment gateway with a GOV.UK Pay-style API (CONTRACTS.md §5): payments in minor units with an
idempotency key, a hosted card page with documented test cards, signed webhooks.

Test cards (any future expiry, any 3 digits): 4444333322221111 succeeds; 4000000000000002 is
declined (P0010); 4000000000009995 has insufficient funds (P0011); 4000000000000069 is an expired
card (P0012); 4000000000000077 succeeds after FRONTDOOR_SANDBOX_SLOW_CARD_SECONDS (default 5),
showing "submitted" meanwhile. Any other well-formed number is declined.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import urlsplit

from litestar import Controller, Request, Response, get, post, put
from litestar.enums import MediaType
from litestar.params import FromPath

from backend_clients.sandbox import payment_search
from backend_clients.sandbox.pushes import Delivery, Pushes

EXPIRES_AFTER_SECONDS = 90 * 60
FINISHED = frozenset({"success", "failed", "cancelled", "expired"})
LANGUAGES = frozenset({"en", "es", "ar"})
OUTCOMES = {  # card number -> (status, code, message)
    "4444333322221111": ("success", None, None),
    "4000000000000002": ("failed", "P0010", "Card declined"),
    "4000000000009995": ("failed", "P0011", "Insufficient funds"),
    "4000000000000069": ("failed", "P0012", "Card expired"),
    "4000000000000077": ("success", None, None),
}
SLOW_CARD = "4000000000000077"
DECLINED = ("failed", "P0010", "Card declined")
EVENTS = {
    "started": "card_payment_started",
    "success": "card_payment_succeeded",
    "failed": "card_payment_failed",
    "cancelled": "card_payment_cancelled",
    "expired": "card_payment_expired",
}


def _digits(text: str) -> bool:
    """ASCII digits only (str.isdigit also takes '²' and other scripts' digits)."""
    return text.isascii() and text.isdecimal()


def _luhn(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return total % 10 == 0


@dataclass
class Card:
    """What the citizen typed on the card page."""

    number: str
    expiry: str
    cvc: str
    name: str

    def problems(self) -> dict[str, str]:
        found = {}
        if not (12 <= len(self.number) <= 19 and _digits(self.number) and _luhn(self.number)):
            found["card-number"] = "Enter a valid card number"
        month, _, year = self.expiry.partition("/")
        if not (_digits(month) and _digits(year) and 1 <= int(month) <= 12 and len(year) == 2):
            found["expiry"] = "Enter the expiry date as MM/YY"
        if not (_digits(self.cvc) and len(self.cvc) in (3, 4)):
            found["cvc"] = "Enter the 3 or 4 digit security code"
        if not self.name.strip():
            found["name"] = "Enter the name on the card"
        return found

    def expired(self, now: datetime) -> bool:
        month, _, year = self.expiry.partition("/")
        return (2000 + int(year), int(month)) < (now.year, now.month)


@dataclass
class GatewayPayment:
    payment_id: str
    request: dict[str, Any]
    created: float  # monotonic, for expiry
    created_at: datetime  # what searches filter and sort on
    status: str = "created"
    code: str | None = None
    message: str | None = None
    card_last_four: str | None = None
    deliveries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def created_date(self) -> str:
        return self.created_at.isoformat()

    def as_json(self, base_url: str) -> dict[str, Any]:
        links: dict[str, Any] = {
            "self": {"href": f"{base_url}/payments/v1/payments/{self.payment_id}", "method": "GET"}
        }
        if not self.finished:
            links["next_url"] = {
                "href": f"{base_url}/payments/card/{self.payment_id}",
                "method": "GET",
            }
        return {
            "payment_id": self.payment_id,
            **{k: self.request[k] for k in ("amount", "reference", "description", "return_url")},
            "currency": "EUR",
            "language": self.request.get("language", "en"),
            "metadata": self.request.get("metadata", {}),
            "state": {
                "status": self.status,
                "finished": self.finished,
                "code": self.code,
                "message": self.message,
            },
            "created_date": self.created_date,
            "card_last_four": self.card_last_four,
            "_links": links,
        }


@dataclass
class PaymentsState(Pushes):
    api_key: str
    webhook_secret: bytes
    webhook_url: str | None
    slow_seconds: float
    payments: dict[str, GatewayPayment] = field(default_factory=dict)
    keys: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (body, payment id)

    def authorised(self, request: Request[Any, Any, Any]) -> bool:
        given = request.headers.get("authorization", "")
        return secrets.compare_digest(given.encode(), f"Bearer {self.api_key}".encode())

    def expire_if_due(self, payment: GatewayPayment, base_url: str) -> None:
        """Expiry is applied when the payment is next looked at (read, page, pay). One already
        submitted is with the bank and ends as the bank says."""
        if self.expirable(payment) and time.monotonic() - payment.created > EXPIRES_AFTER_SECONDS:
            self.finish(payment, ("expired", "P0020", "Payment expired"), base_url)

    @staticmethod
    def expirable(payment: GatewayPayment) -> bool:
        return not payment.finished and payment.status != "submitted"

    def finish(
        self, payment: GatewayPayment, outcome: tuple[str, str | None, str | None], base_url: str
    ) -> None:
        payment.status, payment.code, payment.message = outcome
        self.notify(payment, base_url)

    def notify(self, payment: GatewayPayment, base_url: str) -> None:
        """Push the payment's new state to the service's webhook, signed, in the background."""
        if not self.webhook_url or payment.status not in EVENTS:
            return
        message = {
            "webhook_message_id": "wh_" + secrets.token_hex(10),
            "created_date": datetime.now(UTC).isoformat(),
            "resource_id": payment.payment_id,
            "resource_type": "payment",
            "event_type": EVENTS[payment.status],
            "resource": payment.as_json(base_url),
        }
        body = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        record = {
            "webhook_message_id": message["webhook_message_id"],
            "event_type": message["event_type"],
            "attempts": 0,
            "delivered": False,
            "gave_up": False,
        }
        payment.deliveries.append(record)
        headers = {
            "Content-Type": "application/json",
            "Pay-Signature": hmac.new(
                self.webhook_secret, body.encode(), hashlib.sha256
            ).hexdigest(),
        }
        self.background(self.push(Delivery(self.webhook_url, body, headers, record)))


def _base(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url).rstrip("/")


def _error(status: int, code: str, description: str) -> Response[dict[str, str]]:
    return Response({"code": code, "description": description}, status_code=status)


def _invalid(body: Any) -> str | None:
    """Why a create request is refused, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    amount = body.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= 100_000_000:
        return "amount must be a whole number of minor units between 1 and 100000000"
    for name, longest in (("reference", 255), ("description", 255), ("return_url", 2000)):
        if not isinstance(body.get(name), str) or not 0 < len(body[name]) <= longest:
            return f"{name} is required, up to {longest} characters"
        if any(ord(character) < 0x20 for character in body[name]):
            return f"{name} must not contain control characters"
    if urlsplit(body["return_url"]).scheme not in ("http", "https"):
        return "return_url must be an http(s) URL"
    if body.get("language", "en") not in LANGUAGES:
        return f"language must be one of {sorted(LANGUAGES)}"
    metadata = body.get("metadata", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        return "metadata must map names to strings"
    return None


class PaymentsController(Controller):
    path = "/payments"

    @post("/v1/payments")
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        state: PaymentsState = request.app.state.payments
        if not state.authorised(request):
            return _error(401, "P0120", "API key missing or wrong")
        key = request.headers.get("idempotency-key", "")
        if not 1 <= len(key) <= 255:
            return _error(400, "P0101", "Idempotency-Key header is required")
        raw = await request.body()
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        problem = _invalid(body)
        if problem:
            return _error(422, "P0102", problem)
        canonical = json.dumps(body, sort_keys=True)
        if key in state.keys:
            earlier, payment_id = state.keys[key]
            if earlier != canonical:
                return _error(422, "P0103", "Idempotency-Key already used for another payment")
            earlier_payment = state.payments[payment_id]
            state.expire_if_due(earlier_payment, _base(request))
            return Response(earlier_payment.as_json(_base(request)), status_code=200)
        payment = GatewayPayment(
            payment_id="pay_" + secrets.token_hex(10),
            request=body,
            created=time.monotonic(),
            created_at=datetime.now(UTC),
        )
        state.payments[payment.payment_id] = payment
        state.keys[key] = (canonical, payment.payment_id)
        return Response(payment.as_json(_base(request)), status_code=201)

    @get("/v1/payments", sync_to_thread=False)
    def search(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """GOV.UK Pay's "Search payments": a date range (and reference or state), newest
        first, a page at a time (payment_search.py)."""
        state: PaymentsState = request.app.state.payments
        if not state.authorised(request):
            return _error(401, "P0120", "API key missing or wrong")
        search = payment_search.parse(request.query_params)
        if isinstance(search, str):
            return _error(422, "P0401", f"Invalid parameters: {search}")
        page, total, last = payment_search.results(search, state.payments.values())
        if search.page > last:
            return _error(404, "P0402", "Page not found")
        base = _base(request)
        for payment in page:  # read, so expiry applies as it does to GET one
            state.expire_if_due(payment, base)
        return Response(
            {
                "total": total,
                "count": len(page),
                "page": search.page,
                "results": [payment.as_json(base) for payment in page],
                "_links": payment_search.links(search, base, last),
            }
        )

    @get("/v1/payments/{payment_id:str}")
    async def read(
        self, request: Request[Any, Any, Any], payment_id: FromPath[str]
    ) -> Response[Any]:
        state: PaymentsState = request.app.state.payments
        if not state.authorised(request):
            return _error(401, "P0120", "API key missing or wrong")
        payment = state.payments.get(payment_id)
        if payment is None:
            return _error(404, "P0200", "No such payment")
        state.expire_if_due(payment, _base(request))
        return Response(payment.as_json(_base(request)))

    @get("/card/{payment_id:str}", media_type=MediaType.HTML)
    async def card_page(
        self, request: Request[Any, Any, Any], payment_id: FromPath[str]
    ) -> Response[str]:
        state: PaymentsState = request.app.state.payments
        payment = state.payments.get(payment_id)
        if payment is None:
            return _not_found()
        state.expire_if_due(payment, _base(request))
        if payment.finished:
            return _finished(payment)
        if payment.status == "submitted":
            return Response(_page("Your payment is being processed", "<p>Please wait.</p>"))
        if payment.status == "created":
            payment.status = "started"
            state.notify(payment, _base(request))
        return Response(_card_form(payment, {}, {}))

    @post("/card/{payment_id:str}", media_type=MediaType.HTML, status_code=200)
    async def pay(
        self, request: Request[Any, Any, Any], payment_id: FromPath[str]
    ) -> Response[str]:
        state: PaymentsState = request.app.state.payments
        payment = state.payments.get(payment_id)
        if payment is None:
            return _not_found()
        base = _base(request)
        form = await request.form()
        # From here to "submitted" nothing awaits: two posts (a double click, Pay and Cancel)
        # cannot both act on the same payment.
        state.expire_if_due(payment, base)
        if payment.finished or payment.status == "submitted":
            return _finished(payment) if payment.finished else _back_to_service(payment)
        if form.get("action") == "cancel":
            state.finish(payment, ("cancelled", "P0030", "Cancelled by the user"), base)
            return _back_to_service(payment)
        card = Card(
            number="".join(str(form.get("card-number", "")).split()),
            expiry=str(form.get("expiry", "")).strip(),
            cvc=str(form.get("cvc", "")).strip(),
            name=str(form.get("name", "")),
        )
        problems = card.problems()
        if problems:
            typed = {"expiry": card.expiry, "name": card.name}
            return Response(_card_form(payment, problems, typed), status_code=400)
        payment.card_last_four = card.number[-4:]
        payment.status = "submitted"
        if card.number == SLOW_CARD:
            await asyncio.sleep(state.slow_seconds)  # nothing else may end it meanwhile
        outcome = OUTCOMES.get(card.number, DECLINED)
        if card.expired(datetime.now(UTC)):
            outcome = OUTCOMES["4000000000000069"]
        state.finish(payment, outcome, base)
        return _back_to_service(payment)


def _not_found() -> Response[str]:
    return Response(_page("Payment not found", "<p>There is no such payment.</p>"), status_code=404)


def _back_to_service(payment: GatewayPayment) -> Response[str]:
    return Response("", status_code=303, headers={"Location": payment.request["return_url"]})


def _finished(payment: GatewayPayment) -> Response[str]:
    link = escape(payment.request["return_url"])
    body = (
        f"<p>This payment has finished ({escape(payment.status)}).</p>"
        f'<p><a href="{link}">Return to the service</a></p>'
    )
    return Response(_page("Payment finished", body))


def _page(title: str, body: str, error: bool = False) -> str:
    """The sandbox's own pages are in English; the service's texts carry their language."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{'Error: ' if error else ''}{escape(title)} - Sandbox payments</title>"
        "</head><body><main>"
        f"<h1>{escape(title)}</h1>{body}</main></body></html>"
    )


def _card_form(payment: GatewayPayment, problems: dict[str, str], typed: dict[str, str]) -> str:
    amount = payment.request["amount"]
    summary = ""
    if problems:
        items = "".join(f'<li><a href="#{k}">{escape(v)}</a></li>' for k, v in problems.items())
        summary = f'<div role="alert"><h2>There is a problem</h2><ul>{items}</ul></div>'
    language = payment.request.get("language", "en")

    def field(
        name: str, label: str, autocomplete: str, value: str = "", numeric: bool = False
    ) -> str:
        error = problems.get(name)
        described = f' aria-describedby="{name}-error"' if error else ""
        message = f'<p id="{name}-error">Error: {escape(error)}</p>' if error else ""
        invalid = ' aria-invalid="true"' if error else ""
        return (
            f'<div><label for="{name}">{label}</label>{message}'
            f'<input id="{name}" name="{name}" autocomplete="{autocomplete}"'
            + (' inputmode="numeric"' if numeric else "")
            + f' value="{escape(value)}"{described}{invalid}></div>'
        )

    body = (
        f'{summary}<p lang="{language}" dir="auto">{escape(payment.request["description"])}</p>'
        f"<p>Amount: €{amount // 100}.{amount % 100:02d}</p>"
        f'<form method="post" action="/payments/card/{payment.payment_id}" novalidate>'
        + field("card-number", "Card number", "cc-number", numeric=True)
        + field("expiry", "Expiry date (MM/YY)", "cc-exp", typed.get("expiry", ""))
        + field("cvc", "Security code", "cc-csc", numeric=True)
        + field("name", "Name on card", "cc-name", typed.get("name", ""))
        + '<button type="submit" name="action" value="pay">Pay</button> '
        '<button type="submit" name="action" value="cancel">Cancel payment</button></form>'
    )
    return _page("Enter card details", body, error=bool(problems))


class PaymentsSandboxController(Controller):
    """Testers' controls: where webhooks go, expiring a payment, what was pushed."""

    path = "/_sandbox/payments"

    @put("/webhook", sync_to_thread=False)
    def set_webhook(self, request: Request[Any, Any, Any], data: dict[str, Any]) -> dict[str, Any]:
        state: PaymentsState = request.app.state.payments
        url = data.get("url")
        state.webhook_url = url if isinstance(url, str) and url else None
        return {"url": state.webhook_url}

    @get("/", sync_to_thread=False)
    def list_payments(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        state: PaymentsState = request.app.state.payments
        base = _base(request)
        return {
            "payments": [
                {**payment.as_json(base), "webhooks": payment.deliveries}
                for payment in state.payments.values()
            ]
        }

    @post("/seed", sync_to_thread=False, status_code=201)
    def seed(self, request: Request[Any, Any, Any], data: dict[str, Any]) -> Response[Any]:
        """Payments made earlier, for reconciliation tests and measurements: `{"payments":
        [{"amount", "reference", "description", "created_date", "status", "metadata"}]}`
        (`status` default success, `created_date` default now). No webhook is sent for them."""
        state: PaymentsState = request.app.state.payments
        given = data.get("payments")
        if not isinstance(given, list):
            return _error(422, "P0102", "payments must be a list")
        made = []
        for item in given:
            if not isinstance(item, dict):
                return _error(422, "P0102", "each payment must be a JSON object")
            body = {"return_url": "https://service.invalid/return", **item}
            status = body.pop("status", "success")
            when = body.pop("created_date", None)
            problem = _invalid(body) or (
                None if status in payment_search.STATES else "status is not a gateway state"
            )
            try:
                created_at = datetime.fromisoformat(when) if when else datetime.now(UTC)
            except (TypeError, ValueError):
                problem = problem or "created_date must be an ISO 8601 moment"
            if problem:
                return _error(422, "P0102", problem)
            if created_at.tzinfo is None:
                return _error(422, "P0102", "created_date needs its offset")
            payment = GatewayPayment(
                payment_id="pay_" + secrets.token_hex(10),
                request=body,
                created=time.monotonic(),
                created_at=created_at.astimezone(UTC),
                status=status,
                card_last_four="1111" if status == "success" else None,
            )
            made.append(payment)
        for payment in made:
            state.payments[payment.payment_id] = payment
        return Response({"payment_ids": [payment.payment_id for payment in made]}, status_code=201)

    @post("/{payment_id:str}/expire", sync_to_thread=False)
    def expire(self, request: Request[Any, Any, Any], payment_id: FromPath[str]) -> Response[Any]:
        state: PaymentsState = request.app.state.payments
        payment = state.payments.get(payment_id)
        if payment is None:
            return _error(404, "P0200", "No such payment")
        if state.expirable(payment):
            state.finish(payment, ("expired", "P0020", "Payment expired"), _base(request))
        return Response(payment.as_json(_base(request)))
