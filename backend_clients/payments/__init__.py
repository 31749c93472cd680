"""A payment gateway speaking a GOV.UK Pay-style API (CONTRACTS.md §5)."""

from backend_clients.payments.client import PaymentsClient
from backend_clients.payments.models import NewPayment, Payment, PaymentState, WebhookMessage
from backend_clients.payments.signature import SIGNATURE_HEADER, sign, verify

__all__ = [
    "SIGNATURE_HEADER",
    "NewPayment",
    "Payment",
    "PaymentState",
    "PaymentsClient",
    "WebhookMessage",
    "sign",
    "verify",
]
