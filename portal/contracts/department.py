"""Our own case API (CONTRACTS.md §1): cases with events, more information, fee reports, and
signed status webhooks for the departments that push."""

from __future__ import annotations

from typing import Any

import structlog

from backend_clients.departments import (
    Applicant,
    Case,
    CaseEvent,
    CaseRequest,
    DepartmentClient,
    PaymentReport,
)
from backend_clients.http import BackendRejected, BackendUnavailable
from portal.contracts.base import (
    Config,
    Connection,
    Contract,
    Environment,
    News,
    Outgoing,
    Paid,
    Sent,
    payment_event_id,
)

log = structlog.get_logger()


class DepartmentConfig(Config):
    url: str | None = None  # default: {FRONTDOOR_DEPARTMENTS_URL}/{department}


def event_news(events: list[CaseEvent], department: str) -> list[News]:
    """A department's events in our terms. Its event id, prefixed with the department (two
    departments may number their events alike), keeps each event once. A "paid" that names our
    payment is the one the portal recorded when the payment succeeded: the same id, kept once."""
    return [
        News(
            external_id=payment_event_id(event.payment_id)
            if event.status == "paid" and event.payment_id
            else f"{department}:{event.event_id}"[:120],
            status=event.status,
            at=event.at,
            note=event.note,
            data={
                **({"fee": event.fee.model_dump()} if event.fee else {}),
                **note_languages(event),
            },
        )
        for event in events
    ]


def note_languages(event: CaseEvent) -> dict[str, Any]:
    """What the timeline keeps to show a note in each reader's language: the language it is
    written in and its translations (each cut to the length of a note)."""
    if not event.note and not event.notes:
        return {}
    notes = {language.lower(): text[:2000] for language, text in event.notes.items() if text}
    return {"note_language": event.note_language.lower(), **({"notes": notes} if notes else {})}


class DepartmentConnection(Connection):
    def __init__(self, department: str, client: DepartmentClient) -> None:
        super().__init__(department)
        self.client = client

    def _news(self, case: Case) -> list[News]:
        return event_news(case.events, self.department)

    async def send(self, outgoing: Outgoing) -> Sent:
        receipt = await self.client.create_case(
            CaseRequest(
                client_reference=outgoing.request_reference,
                application_reference=outgoing.application_reference,
                service=outgoing.service,
                language=outgoing.language,
                applicant=Applicant(
                    name=outgoing.applicant.name,
                    email=outgoing.applicant.email,
                    phone=outgoing.applicant.phone,
                ),
                data=outgoing.answers,
                documents=sorted(outgoing.documents.values()),
                callback_url=outgoing.callback_url,
            ),
            idempotency_key=outgoing.key,
        )
        try:
            case = await self.client.get_case(receipt.case_id)
        except BackendUnavailable as error:
            # The case exists: sending it again would only repeat the create. Its first news
            # come later, pushed by the department or asked for by the worker.
            log.warning("case_read_failed", department=self.department, error=str(error))
            return Sent(receipt.case_id, [])
        return Sent(case.case_id, self._news(case))

    async def news(self, case_id: str) -> list[News]:
        return self._news(await self.client.get_case(case_id))

    async def send_information(
        self, case_id: str, text: str, documents: list[str], key: str
    ) -> list[News]:
        try:
            case = await self.client.send_information(case_id, text, documents, key)
        except BackendRejected as error:
            if error.status_code != 409:
                raise
            case = await self.client.get_case(case_id)  # it had already moved on
        return self._news(case)

    async def report_payment(self, case_id: str, paid: Paid, key: str) -> list[News]:
        report = PaymentReport(
            payment_id=paid.payment_id,
            amount_minor=paid.amount_minor,
            currency=paid.currency,
            paid_at=paid.paid_at,
        )
        try:
            case = await self.client.report_payment(case_id, report, key)
        except BackendRejected as error:
            if error.status_code != 409:
                raise
            case = await self.client.get_case(case_id)
            if not any(event.payment_id == paid.payment_id for event in case.events):
                raise  # the case moved on without our payment: a person must look
        return self._news(case)

    async def aclose(self) -> None:
        await self.client.aclose()


def connect(department: str, config: DepartmentConfig, env: Environment) -> Connection:
    url = config.url or f"{env.settings.departments_url}/{department}"
    return DepartmentConnection(department, DepartmentClient(env.http(url), department))


CONTRACT = Contract(
    name="department",
    config=DepartmentConfig,
    connect=connect,
    description="The portal's case API: cases, events, more information, fee reports, webhooks",
)
