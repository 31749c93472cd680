"""The gateway's payment, its state and its webhook message, as the contract defines them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["created", "started", "submitted", "success", "failed", "cancelled", "expired"]
FINISHED: frozenset[str] = frozenset({"success", "failed", "cancelled", "expired"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class PaymentState(_Model):
    status: Status
    finished: bool
    code: str | None = None  # why it failed, was cancelled or expired (P0010, P0020, ...)
    message: str | None = None  # the gateway's words, for logs: citizens see ours


class Link(_Model):
    href: str
    method: str


class Links(_Model):
    self_: Link = Field(alias="self")
    next_url: Link | None = None  # where to send the citizen while the payment can still start


class Payment(_Model):
    payment_id: str
    amount: int  # minor units
    currency: str = "EUR"
    reference: str
    description: str
    return_url: str
    language: str
    state: PaymentState
    created_date: datetime
    metadata: dict[str, str] = {}
    card_last_four: str | None = None
    links: Links = Field(alias="_links")

    @property
    def next_url(self) -> str | None:
        return self.links.next_url.href if self.links.next_url else None


class NewPayment(_Model):
    amount: int = Field(gt=0, le=100_000_000)
    reference: str = Field(min_length=1, max_length=255)
    description: str = Field(min_length=1, max_length=255)
    return_url: str = Field(min_length=1, max_length=2000)
    language: Literal["en", "es", "ar"] = "en"
    metadata: dict[str, str] = {}


class WebhookMessage(_Model):
    """What the gateway POSTs when a payment changes state (signed: see signature.py)."""

    webhook_message_id: str
    created_date: datetime
    resource_id: str
    resource_type: Literal["payment"]
    event_type: str  # card_payment_started, card_payment_succeeded, card_payment_failed, ...
    resource: Payment


class PageLink(_Model):
    href: str


class PageLinks(_Model):
    next_page: PageLink | None = None


class SearchPage(_Model):
    """One page of the gateway's payment search, newest first."""

    total: int
    count: int
    page: int
    results: list[Payment]
    links: PageLinks = Field(alias="_links")
