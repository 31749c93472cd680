"""Requests and answers of the department case API (CONTRACTS.md §1)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

CaseStatus = Literal[
    "received",
    "in_review",
    "information_requested",
    "fee_due",
    "paid",
    "approved",
    "rejected",
    "certificate_issued",
]


class _Answer(BaseModel):
    """Fields a backend adds later must not break the portal."""

    model_config = ConfigDict(extra="ignore")


class Applicant(BaseModel):
    name: str = Field(min_length=1)
    email: str | None = None
    phone: str | None = None


class CaseRequest(BaseModel):
    client_reference: str = Field(min_length=1)
    application_reference: str
    service: str
    language: str
    applicant: Applicant
    data: dict[str, Any] = Field(default_factory=dict)
    documents: list[str] = Field(default_factory=list)
    callback_url: str | None = None


class CaseReceipt(_Answer):
    case_id: str
    client_reference: str
    status: CaseStatus
    received_at: AwareDatetime
    created: bool


class Fee(_Answer):
    amount_minor: int = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class CaseEvent(_Answer):
    event_id: str
    status: CaseStatus
    at: AwareDatetime
    note: str = ""
    # The language `note` is written in (a BCP 47 tag), and the same note in other languages,
    # by tag, so each reader can get their own; a department that says nothing writes English.
    note_language: str = "en"
    notes: dict[str, str] = Field(default_factory=dict)
    fee: Fee | None = None
    payment_id: str | None = None  # on "paid": the gateway payment the portal reported

    @field_validator("note_language", mode="before")
    @classmethod
    def _english_unless_said(cls, value: object) -> object:
        return value or "en"

    @field_validator("notes", mode="before")
    @classmethod
    def _no_notes_is_none(cls, value: object) -> object:
        return value or {}


class PaymentReport(BaseModel):
    """The portal telling a department its fee was paid (the gateway's payment id and amount)."""

    payment_id: str = Field(min_length=1, max_length=100)
    amount_minor: int = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    paid_at: AwareDatetime


class Case(_Answer):
    case_id: str
    client_reference: str
    status: CaseStatus
    events: list[CaseEvent]


class StatusWebhook(CaseEvent):
    """The body a department POSTs to the callback URL (check its signature first)."""

    department: str
    case_id: str
    client_reference: str
