"""What the worker does for applications: deliver each department request, pass on the citizen's
extra information, send notifications, and ask departments that cannot push for news."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend_clients.departments import Applicant, Case, CaseEvent, CaseRequest
from backend_clients.http import BackendError, BackendRejected
from backend_clients.mail import MailClient
from backend_clients.open311 import ServiceRequest, ServiceRequestStatus
from backend_clients.twilio import TwilioClient
from portal.applications.models import (
    Application,
    DepartmentRequest,
    Document,
    Notification,
    TimelineEvent,
)
from portal.applications.notify import compose
from portal.applications.tracking import News, payment_event_id, record
from portal.backends import Backends
from portal.catalogue.loader import Catalogue
from portal.catalogue.models import Delivery, Service
from portal.journeys import engine
from portal.outbox.models import OutboxMessage
from portal.settings import Settings
from portal.translations.overlay import CatalogueOverlay

log = structlog.get_logger()


def case_news(case: Case, department: str) -> list[News]:
    return event_news(case.events, department)


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


def report_news(report: ServiceRequestStatus) -> list[News]:
    """Open311 has no events, only a state: each state (and note) seen becomes one event."""
    if report.status == "closed":
        status = "resolved"
    elif (report.status_notes or "").strip().lower() in ("", "received"):
        status = "received"
    else:
        status = "in_review"
    at = report.updated_datetime or report.requested_datetime
    key = f"open311:{report.service_request_id}:{report.status}:{report.status_notes or ''}"
    return [News(external_id=key[:120], status=status, at=at, note=report.status_notes or "")]


@dataclass
class ApplicationWork:
    sessionmaker: async_sessionmaker[AsyncSession]
    backends: Backends
    catalogue: Catalogue
    settings: Settings
    twilio: TwilioClient
    mail: MailClient
    overlay: CatalogueOverlay | None = None  # editors' published texts, for notifications
    live: Any = None  # the LiveCatalogue that keeps `catalogue` current (the worker's)

    def handlers(self) -> dict[str, Any]:
        return {
            "deliver": self.deliver,
            "information": self.send_information,
            "notify": self.notify,
        }

    def failure_handlers(self) -> dict[str, Any]:
        return {"deliver": self.not_delivered, "information": self.not_delivered}

    async def not_delivered(self, message: OutboxMessage) -> None:
        """A department refused what we sent: the timeline says so, and staff see the message
        parked as failed in the outbox."""
        async with self.sessionmaker() as db:
            request = await db.get(DepartmentRequest, message.payload["request_id"])
            if request is None:
                return
            if message.kind == "deliver":
                request.status = "not_delivered"
            db.add(
                TimelineEvent(
                    application_id=request.application_id,
                    department=request.department,
                    status="not_delivered",
                )
            )
            await db.commit()

    async def _load(
        self, db: AsyncSession, request_id: int
    ) -> tuple[DepartmentRequest, Application, Service, Delivery]:
        request = await db.get(DepartmentRequest, request_id)
        if request is None:
            raise LookupError(f"department request {request_id} is gone")
        application = await db.get(Application, request.application_id)
        assert application is not None
        # The version the citizen answered, even if a newer one is served now (or it is retired).
        service = self.catalogue.version(application.service_id, application.service_version)
        delivery = next(
            (
                d
                for d in (service.deliver_to if service else ())
                if d.department == request.department
            ),
            None,
        )
        if service is None or delivery is None:  # the definition changed: a person must look
            raise LookupError(
                f"{application.service_id} no longer delivers to {request.department}"
            )
        return request, application, service, delivery

    async def _documents(self, db: AsyncSession, answers: dict[str, Any]) -> dict[str, str]:
        """Our document ids in the answers -> the document service's ids."""
        ours = [str(item["document"]) for item in engine.documents_in(answers)]
        if not ours:
            return {}
        rows = await db.execute(
            select(Document.public_id, Document.stored_id).where(Document.public_id.in_(ours))
        )
        return {public: stored for public, stored in rows.tuples()}

    async def deliver(self, message: OutboxMessage) -> None:
        """Send one department request; the message key makes a repeated call harmless."""
        async with self.sessionmaker() as db:
            request, application, service, delivery = await self._load(
                db, message.payload["request_id"]
            )
            if request.case_id:
                return  # delivered before the worker could mark the message done
            department = self.catalogue.departments[request.department]
            answers = engine.answers_for(service, delivery, application.answers)
            stored = await self._documents(db, answers)
            if department.contract == "open311":
                report = await self._report(application, delivery, answers, stored, message.key)
                request.case_id = report.service_request_id
                news = report_news(report)
            else:
                case = await self._case(application, request, answers, stored, message.key)
                request.case_id = case.case_id
                news = case_news(case, request.department)
            request.delivered_at = datetime.now(UTC)
            reference = application.reference
            await db.commit()  # delivered, whatever happens to recording its first events
            await record(db, request, news, self.catalogue.certifies(request.department))
        log.info("delivered", department=department.id, reference=reference)

    async def _case(
        self,
        application: Application,
        request: DepartmentRequest,
        answers: dict[str, Any],
        stored: dict[str, str],
        key: str,
    ) -> Case:
        client = self.backends.departments[request.department]
        contact = application.answers
        receipt = await client.create_case(
            CaseRequest(
                client_reference=request.public_id,
                application_reference=application.reference,
                service=application.service_id,
                language=application.language,
                applicant=Applicant(
                    name=str(contact.get("contact_name") or "-"),
                    email=contact.get("contact_email"),
                    phone=contact.get("contact_phone"),
                ),
                data=answers,
                documents=sorted(stored.values()),
                callback_url=f"{self.settings.public_url}/webhooks/departments/{request.department}",
            ),
            idempotency_key=key,
        )
        return await client.get_case(receipt.case_id)

    async def _report(
        self,
        application: Application,
        delivery: Delivery,
        answers: dict[str, Any],
        stored: dict[str, str],
        key: str,
    ) -> ServiceRequestStatus:
        fields = delivery.open311
        assert fields is not None
        place = answers.get(fields.place) or {}
        photo = answers.get(fields.photo) if fields.photo else None
        if isinstance(photo, list):  # several photos: Open311 takes one
            photo = photo[0] if photo else None
        media = None
        if isinstance(photo, dict) and photo.get("document") in stored:
            media = f"{self.settings.documents_url}/documents/{stored[photo['document']]}"
        located = place.get("lat") is not None and place.get("lon") is not None
        report_id = await self.backends.open311.create_request(
            ServiceRequest(
                service_code=str(answers.get(fields.service_code)),
                description=str(answers.get(fields.description) or "")[:4000],
                lat=place.get("lat") if located else None,
                long=place.get("lon") if located else None,
                address_string=str(place.get("label") or "") or None,
                media_url=media,
            ),
            idempotency_key=key,
        )
        return await self.backends.open311.get_request(report_id)

    async def send_information(self, message: OutboxMessage) -> None:
        """Pass the citizen's answer to 'more information needed' to the department."""
        async with self.sessionmaker() as db:
            request = await db.get(DepartmentRequest, message.payload["request_id"])
            if request is None or not request.case_id:
                raise BackendError("the department has not received the application yet")
            stored = await self._documents(
                db, {str(i): {"document": d} for i, d in enumerate(message.payload["documents"])}
            )
            client = self.backends.departments[request.department]
            try:
                case = await client.send_information(
                    request.case_id, message.payload["text"], sorted(stored.values()), message.key
                )
            except BackendRejected as error:
                if error.status_code != 409:
                    raise
                case = await client.get_case(request.case_id)  # it had already moved on
            await record(
                db,
                request,
                case_news(case, request.department),
                self.catalogue.certifies(request.department),
            )

    async def notify(self, message: OutboxMessage) -> None:
        async with self.sessionmaker() as db:
            notification = await db.get(Notification, message.payload["notification_id"])
            if notification is None or notification.status == "sent":
                return
            application = await db.get(Application, notification.application_id)
            event = await db.get(TimelineEvent, notification.event_id)
            assert application is not None and event is not None
            if self.overlay is not None:
                await self.overlay.refresh()
            subject, text = compose(
                self.catalogue, self.settings.public_url, notification, application, event
            )
            if notification.channel == "email":
                await self.mail.send(to=notification.destination, subject=subject, text=text)
            else:
                prefix = "whatsapp:" if notification.channel == "whatsapp" else ""
                await self.twilio.send_message(
                    to=f"{prefix}{notification.destination}",
                    from_=f"{prefix}{self.settings.twilio_from_number}",
                    body=text,
                )
            notification.body = text
            notification.status = "sent"
            notification.sent_at = datetime.now(UTC)
            await db.commit()

    async def check_cases(self) -> int:
        """Ask departments that do not push (and Open311) for news of their open cases."""
        polled = [d.id for d in self.catalogue.departments.values() if not d.pushes]
        due = datetime.now(UTC) - timedelta(seconds=self.settings.case_check_seconds)
        added = 0
        async with self.sessionmaker() as db:
            ids = (
                await db.scalars(
                    select(DepartmentRequest.id).where(
                        DepartmentRequest.department.in_(polled),
                        DepartmentRequest.finished.is_(False),
                        DepartmentRequest.case_id.is_not(None),
                    )
                )
            ).all()
        for request_id in ids:  # one session each: a failed one does not spoil the others
            async with self.sessionmaker() as db:
                request = await db.get(DepartmentRequest, request_id)
                checked = request.checked_at if request else None
                if request is None or (
                    checked and checked.replace(tzinfo=checked.tzinfo or UTC) > due
                ):
                    continue
                try:
                    news = await self._news(request)
                except BackendError as error:
                    log.warning(
                        "case_check_failed", department=request.department, error=str(error)
                    )
                    continue
                added += await record(
                    db, request, news, self.catalogue.certifies(request.department)
                )
        return added

    async def _news(self, request: DepartmentRequest) -> list[News]:
        assert request.case_id is not None
        if self.catalogue.departments[request.department].contract == "open311":
            return report_news(await self.backends.open311.get_request(request.case_id))
        return case_news(
            await self.backends.departments[request.department].get_case(request.case_id),
            request.department,
        )
