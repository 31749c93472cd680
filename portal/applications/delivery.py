"""What the worker does for applications: deliver each department request, pass on the citizen's
extra information, send notifications, and ask departments that cannot push for news."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend_clients.http import BackendError
from backend_clients.mail import MailClient, message_id
from backend_clients.twilio import TwilioClient
from portal.applications.models import (
    Application,
    DepartmentRequest,
    Document,
    Notification,
    TimelineEvent,
)
from portal.applications.notify import compose
from portal.applications.tracking import record
from portal.applications.undelivered import record_not_delivered
from portal.catalogue.loader import Catalogue
from portal.catalogue.models import Delivery, Service
from portal.contracts.base import Applicant, Outgoing, Summary
from portal.database.engine import aware
from portal.forms import engine
from portal.forms.fields import shown
from portal.i18n import gettext as _
from portal.i18n.locale import use_locale
from portal.outbox.models import OutboxMessage
from portal.settings import Settings
from portal.shared.backends import Backends
from portal.translations.overlay import CatalogueOverlay

log = structlog.get_logger()


def readable(service: Service, answers: dict[str, Any]) -> Summary:
    """The answers as people read them (question, answer), in the language asked for: for
    departments that read applications rather than parse them."""

    def rows(language: str) -> list[tuple[str, str]]:
        use_locale(language)
        return [
            (_(field.label), shown(field, answers.get(field.id)) or _("Not given"))
            for step in engine.visible_steps(service, answers)
            if not step.repeat
            for field in step.fields
            if field.id in answers
        ]

    return rows


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
    bot: Any = None  # the worker's RasaClient (it answers chat turns a portal could not)

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
            if await record_not_delivered(db, message.kind, message.payload):
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
            connection = self.backends.connection(request.department)
            answers = engine.answers_for(service, delivery, application.answers)
            contact = application.answers
            sent = await connection.send(
                Outgoing(
                    request_reference=request.public_id,
                    application_reference=application.reference,
                    service=application.service_id,
                    service_title=service.title,
                    service_version=application.service_version or 1,
                    language=application.language,
                    applicant=Applicant(
                        name=str(contact.get("contact_name") or "-"),
                        email=contact.get("contact_email"),
                        phone=contact.get("contact_phone"),
                    ),
                    answers=answers,
                    documents=await self._documents(db, answers),
                    summary=readable(service, answers),
                    request=dict(delivery.request or {}),
                    callback_url=(
                        f"{self.settings.public_url}/webhooks/departments/{request.department}"
                    ),
                    key=message.key,
                )
            )
            request.case_id = sent.case_id
            request.delivered_at = datetime.now(UTC)
            reference = application.reference
            await db.commit()  # delivered, whatever happens to recording its first events
            await record(db, request, sent.news, self.catalogue.certifies(request.department))
        log.info("delivered", department=request.department, reference=reference)

    async def send_information(self, message: OutboxMessage) -> None:
        """Pass the citizen's answer to 'more information needed' to the department."""
        async with self.sessionmaker() as db:
            request = await db.get(DepartmentRequest, message.payload["request_id"])
            if request is None or not request.case_id:
                raise BackendError("the department has not received the application yet")
            stored = await self._documents(
                db, {str(i): {"document": d} for i, d in enumerate(message.payload["documents"])}
            )
            news = await self.backends.connection(request.department).send_information(
                request.case_id, message.payload["text"], sorted(stored.values()), message.key
            )
            await record(db, request, news, self.catalogue.certifies(request.department))

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
            await self.send_text(
                message, notification.channel, notification.destination, subject, text
            )
            notification.body = text
            notification.status = "sent"
            notification.sent_at = datetime.now(UTC)
            await db.commit()

    async def send_text(
        self, message: OutboxMessage, channel: str, destination: str, subject: str, text: str
    ) -> None:
        """Send one outbox message's text to a citizen on `channel` (email, sms, whatsapp),
        once: email carries a Message-ID made from the outbox key, and Twilio, which takes no
        idempotency key, is asked first whether it already took it after a crash mid-send."""
        if channel == "email":
            await self.mail.send(
                to=destination,
                subject=subject,
                text=text,
                message_id=message_id(message.key, self.mail.config.sender),
            )
            return
        prefix = "whatsapp:" if channel == "whatsapp" else ""
        to = f"{prefix}{destination}"
        if not message.in_doubt or not await self.twilio.find_sent(
            to=to, body=text, since=aware(message.created_at)
        ):
            await self.twilio.send_message(
                to=to, from_=f"{prefix}{self.settings.twilio_from_number}", body=text
            )

    async def check_cases(self) -> int:
        """Ask departments that do not push (and can be asked) for news of their open cases."""
        polled = [
            d.id
            for d in self.catalogue.departments.values()
            if not d.pushes and d.id in self.backends.connections
            if self.backends.connections[d.id].can_poll
        ]
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
                if (
                    request is None
                    or request.case_id is None
                    or (checked and checked.replace(tzinfo=checked.tzinfo or UTC) > due)
                ):
                    continue
                try:
                    news = await self.backends.connection(request.department).news(request.case_id)
                except (BackendError, ValueError) as error:
                    log.warning(
                        "case_check_failed", department=request.department, error=str(error)
                    )
                    continue
                added += await record(
                    db, request, news, self.catalogue.certifies(request.department)
                )
        return added
