"""What every contract module provides, and the plain values the portal hands it.

A contract knows nothing of the portal's tables: it is given an `Outgoing` (what one department
is sent) and answers with `News` (what happened, in our statuses). That keeps contracts below the
features that use them, and lets a new one be written without reading the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from backend_clients.documents import DocumentClient
from backend_clients.http import BackendRejected, ClientConfig
from backend_clients.mail import MailClient
from portal.settings import Settings


@dataclass(frozen=True)
class News:
    """One event from a department, in our terms. `external_id` is the backend's own id for it:
    the timeline keeps one row per id, however often it is heard of."""

    external_id: str
    status: str
    at: datetime
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def payment_event_id(gateway_payment_id: str) -> str:
    """The timeline id of a fee paid through the gateway, however we hear of it (from the
    gateway, or from a department that names our payment): kept once."""
    return f"payment:{gateway_payment_id}"[:120]


@dataclass(frozen=True)
class Applicant:
    name: str
    email: str | None = None
    phone: str | None = None


# The answers as people read them, (question, answer) rows, in the language asked for.
Summary = Callable[[str], list[tuple[str, str]]]


@dataclass(frozen=True)
class Outgoing:
    """One application as one department receives it, before any contract's format."""

    request_reference: str  # ours for this department's part (dr_...), unique
    application_reference: str  # what the citizen quotes (FD-...)
    service: str
    service_title: str
    service_version: int
    language: str  # the citizen's
    applicant: Applicant
    answers: dict[str, Any]  # only the answers this department gets
    documents: dict[str, str]  # our document id -> the document service's id
    summary: Summary
    request: dict[str, str]  # the delivery's `request:` block: which answer fills what
    callback_url: str  # our signed webhook for this department
    key: str  # idempotency key: the same for every attempt at this delivery


@dataclass(frozen=True)
class Sent:
    case_id: str  # the department's id for it, which the portal keeps
    news: list[News] = field(default_factory=list)


@dataclass(frozen=True)
class Paid:
    """A fee the department asked for, paid at our gateway."""

    payment_id: str  # the gateway's
    amount_minor: int
    currency: str
    paid_at: datetime


class Unsupported(BackendRejected):
    """The contract cannot do this (say, pass on more information by email): a person must."""

    def __init__(self, what: str) -> None:
        super().__init__(what, status_code=409)


@dataclass
class Environment:
    """What contracts may use to build their clients: the settings, one way to configure an
    HTTP client, and the shared clients (documents, mail)."""

    settings: Settings
    http: Callable[[str], ClientConfig]
    documents: DocumentClient
    mail: MailClient


class Config(BaseModel):
    """A department's `config:` in departments.yaml; each contract narrows it."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Connection:
    """One department reached through its contract: the worker's only way to talk to it."""

    # Whether the worker may ask for news (False: news only arrives some other way).
    can_poll: ClassVar[bool] = True

    def __init__(self, department: str) -> None:
        self.department = department

    async def send(self, outgoing: Outgoing) -> Sent:
        raise NotImplementedError

    async def news(self, case_id: str) -> list[News]:
        return []

    async def send_information(
        self, case_id: str, text: str, documents: list[str], key: str
    ) -> list[News]:
        raise Unsupported(f"{self.department} cannot be sent more information this way")

    async def report_payment(self, case_id: str, paid: Paid, key: str) -> list[News]:
        raise Unsupported(f"{self.department} takes no payment reports")

    async def aclose(self) -> None:
        return None


@dataclass(frozen=True)
class Contract:
    """One registry entry: the contract's name, its configuration schema, the `request:` block a
    delivery gives it (None: it takes none), and how to connect a department."""

    name: str
    config: type[Config]
    connect: Callable[[str, Any, Environment], Connection]
    request: type[BaseModel] | None = None
    description: str = ""
