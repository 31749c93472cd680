"""The payment gateway's contract (CONTRACTS.md §5), through the typed client against the sandbox
over real HTTP: one payment per idempotency key, every documented test card on the hosted page,
cancel and expiry, and webhooks signed over the exact bytes sent."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from backend_clients.http import BackendRejected, ClientConfig
from backend_clients.payments import (
    SIGNATURE_HEADER,
    NewPayment,
    Payment,
    PaymentsClient,
    WebhookMessage,
    verify,
)
from conftest import Sandbox, run_async

API_KEY = "sandbox-payments-api-key"
SECRET = b"sandbox-payments-webhook-secret"
RETURN = "http://127.0.0.1:9/applications/FD-TEST-0000/payment"


def _client(sandbox: Sandbox, key: str = API_KEY) -> PaymentsClient:
    return PaymentsClient(ClientConfig(base_url=f"{sandbox.url}/payments"), api_key=key)


def _create(sandbox: Sandbox, key: str, amount: int = 15000, api_key: str = API_KEY) -> Payment:
    async def run() -> Payment:
        client = _client(sandbox, api_key)
        try:
            new = NewPayment(
                amount=amount,
                reference="FD-TEST-0000",
                description="Trade licence fee",
                return_url=RETURN,
                language="es",
                metadata={"fee": "trade-licence"},
            )
            return await client.create_payment(new, idempotency_key=key)
        finally:
            await client.aclose()

    return run_async(run())  # type: ignore[no-any-return]


def _get(sandbox: Sandbox, payment_id: str) -> Payment:
    async def run() -> Payment:
        client = _client(sandbox)
        try:
            return await client.get_payment(payment_id)
        finally:
            await client.aclose()

    return run_async(run())  # type: ignore[no-any-return]


def _pay(payment: Payment, card: str, expiry: str = "12/39", action: str = "pay") -> httpx.Response:
    assert payment.next_url is not None
    assert httpx.get(payment.next_url).status_code == 200  # the citizen opens the card page
    form = {"card-number": card, "expiry": expiry, "cvc": "123", "name": "Ana García"}
    return httpx.post(payment.next_url, data={**form, "action": action}, timeout=10)


def _key() -> str:
    return f"fee-{time.monotonic_ns()}"


def test_one_payment_per_key_and_only_with_the_api_key(sandbox: Sandbox) -> None:
    key = _key()
    first = _create(sandbox, key)
    assert first.state.status == "created" and not first.state.finished
    assert first.amount == 15000 and first.language == "es"
    assert first.next_url and first.next_url.endswith(f"/payments/card/{first.payment_id}")
    assert _create(sandbox, key).payment_id == first.payment_id  # a retry, not a new charge
    with pytest.raises(BackendRejected) as other_amount:
        _create(sandbox, key, amount=99)
    assert other_amount.value.status_code == 422
    with pytest.raises(BackendRejected) as no_key:
        _create(sandbox, _key(), api_key="wrong")
    assert no_key.value.status_code == 401
    with pytest.raises(BackendRejected) as unknown:
        _get(sandbox, "pay_unknown")
    assert unknown.value.status_code == 404


@pytest.mark.parametrize(
    ("card", "expiry", "status", "code"),
    [
        ("4444 3333 2222 1111", "12/39", "success", None),
        ("4000000000000002", "12/39", "failed", "P0010"),
        ("4000000000009995", "12/39", "failed", "P0011"),
        ("4000000000000069", "12/39", "failed", "P0012"),
        ("4444333322221111", "01/20", "failed", "P0012"),  # a real card, out of date
        ("4111111111111111", "12/39", "failed", "P0010"),  # not a test card: declined
    ],
)
def test_each_test_card_ends_as_documented(
    sandbox: Sandbox, card: str, expiry: str, status: str, code: str | None
) -> None:
    payment = _create(sandbox, _key())
    answer = _pay(payment, card, expiry)
    assert answer.status_code == 303
    assert answer.headers["location"] == RETURN  # back to the service, which must ask, not trust
    after = _get(sandbox, payment.payment_id)
    assert (after.state.status, after.state.code, after.state.finished) == (status, code, True)
    assert after.next_url is None
    assert after.card_last_four == card.replace(" ", "")[-4:]


def test_a_finished_payment_cannot_be_paid_again(sandbox: Sandbox) -> None:
    payment = _create(sandbox, _key())
    assert _pay(payment, "4444333322221111").status_code == 303
    again = httpx.post(payment.next_url or "", data={"card-number": "4444333322221111"})
    assert again.status_code == 200
    assert "This payment has finished" in again.text
    assert _get(sandbox, payment.payment_id).state.status == "success"


def test_the_slow_card_is_submitted_while_the_bank_thinks(sandbox: Sandbox) -> None:
    payment = _create(sandbox, _key())
    answers: list[httpx.Response] = []
    paying = threading.Thread(target=lambda: answers.append(_pay(payment, "4000000000000077")))
    paying.start()
    time.sleep(0.5)
    assert _get(sandbox, payment.payment_id).state.status == "submitted"
    paying.join(timeout=10)
    assert answers[0].status_code == 303
    assert _get(sandbox, payment.payment_id).state.status == "success"


def test_a_submitted_payment_cannot_be_cancelled_or_expired_meanwhile(sandbox: Sandbox) -> None:
    """A double click, Pay then Cancel, or an expiry while the bank thinks: one outcome."""
    payment = _create(sandbox, _key())
    answers: list[httpx.Response] = []
    paying = threading.Thread(target=lambda: answers.append(_pay(payment, "4000000000000077")))
    paying.start()
    time.sleep(0.5)
    cancel = httpx.post(payment.next_url or "", data={"action": "cancel"})
    assert cancel.status_code == 303
    expire = httpx.post(f"{sandbox.url}/_sandbox/payments/{payment.payment_id}/expire")
    assert expire.json()["state"]["status"] == "submitted"
    again = httpx.post(payment.next_url or "", data={"card-number": "4000000000000002"})
    assert again.status_code == 303
    paying.join(timeout=10)
    final = _get(sandbox, payment.payment_id)
    assert (final.state.status, final.state.code) == ("success", None)


def test_bad_card_details_are_refused_and_cancel_and_expiry_end_it(sandbox: Sandbox) -> None:
    payment = _create(sandbox, _key())
    refused = _pay(payment, "1234", expiry="13/30")
    assert refused.status_code == 400
    assert "<title>Error: Enter card details" in refused.text
    assert "Enter a valid card number" in refused.text
    assert "Enter the expiry date as MM/YY" in refused.text
    assert _pay(payment, "4444333322221111", expiry="²2/39").status_code == 400  # not a 500
    assert _get(sandbox, payment.payment_id).state.status == "started"
    cancelled = _pay(payment, "", action="cancel")
    assert cancelled.status_code == 303
    assert _get(sandbox, payment.payment_id).state.code == "P0030"

    waiting = _create(sandbox, _key())
    httpx.post(f"{sandbox.url}/_sandbox/payments/{waiting.payment_id}/expire").raise_for_status()
    expired = _get(sandbox, waiting.payment_id)
    assert (expired.state.status, expired.state.code) == ("expired", "P0020")


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[bytes, str | None]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((body, self.headers.get(SIGNATURE_HEADER)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def receiver(sandbox: Sandbox) -> Iterator[list[tuple[bytes, str | None]]]:
    """A service's webhook endpoint that keeps what it is sent."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/payments"
    httpx.put(f"{sandbox.url}/_sandbox/payments/webhook", json={"url": url}).raise_for_status()
    try:
        yield _Receiver.received
    finally:
        httpx.put(f"{sandbox.url}/_sandbox/payments/webhook", json={"url": None})
        server.shutdown()


def test_webhooks_are_signed_over_the_bytes_sent(
    sandbox: Sandbox, receiver: list[tuple[bytes, str | None]]
) -> None:
    payment = _create(sandbox, _key())
    _pay(payment, "4444333322221111")
    for _ in range(50):
        if len(receiver) >= 2:
            break
        time.sleep(0.1)
    messages = {
        m.event_type: m for m in (WebhookMessage.model_validate_json(b) for b, _ in receiver)
    }
    assert set(messages) == {"card_payment_started", "card_payment_succeeded"}  # in any order
    succeeded = messages["card_payment_succeeded"].resource
    assert (succeeded.payment_id, succeeded.state.status) == (payment.payment_id, "success")
    for body, header in receiver:
        assert verify(SECRET, body, header)
        assert not verify(b"another secret", body, header)
        reordered = json.dumps(json.loads(body), sort_keys=True).encode()  # same JSON, other bytes
        assert not verify(SECRET, reordered, header)
        assert not verify(SECRET, body.replace(b"15000", b"1"), header)
    assert not verify(SECRET, receiver[0][0], None)
