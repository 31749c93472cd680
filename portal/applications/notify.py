"""Telling citizens what happened, on the channel they chose, in their language. The message is
written at sending time (so an editor's fix to a text applies) and sent through the outbox."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from portal.applications.models import Application, Notification, TimelineEvent
from portal.applications.statuses import label
from portal.applications.timeline import department_note, helped
from portal.catalogue.loader import Catalogue
from portal.i18n import gettext as _
from portal.i18n.locale import use_locale
from portal.identity.models import Citizen
from portal.outbox import enqueue


def channel_target(channel: str) -> str:
    """The backend that sends on a channel: email goes to the mail server, the rest to theirs."""
    return "mail" if channel == "email" else channel


def destination(citizen: Citizen, always: bool = False) -> tuple[str, str] | None:
    """(channel, address) for updates, or None when the citizen wants none or gave no address.
    `always`: something they must know of (an agent acted for them): email, else SMS."""
    channel = citizen.preferred_channel
    if channel in ("sms", "whatsapp") and citizen.phone:
        return channel, citizen.phone
    if channel == "email" and citizen.email:
        return channel, citizen.email
    if always and citizen.email:
        return "email", citizen.email
    if always and citizen.phone:
        return "sms", citizen.phone
    return None


async def queue_notification(
    db: AsyncSession,
    citizen: Citizen,
    application: Application,
    event: TimelineEvent,
    always: bool = False,
) -> Notification | None:
    """Queue one update about `event` (in the caller's transaction)."""
    target = destination(citizen, always)
    if target is None:
        return None
    notification = Notification(
        citizen_id=citizen.id,
        application_id=application.id,
        event_id=event.id,
        channel=target[0],
        destination=target[1],
        language=citizen.language,
    )
    db.add(notification)
    await db.flush()
    enqueue(
        db,
        "notify",
        key=f"notify-{notification.id}",
        target=channel_target(notification.channel),
        notification_id=notification.id,
    )
    return notification


def compose(
    catalogue: Catalogue,
    public_url: str,
    notification: Notification,
    application: Application,
    event: TimelineEvent,
) -> tuple[str, str]:
    """(subject, text) of the update in the citizen's language."""
    use_locale(notification.language)
    service = catalogue.version(application.service_id, application.service_version)
    service_title = _(service.title) if service else application.service_id
    department = catalogue.departments.get(event.department or "")
    status = label(event.status)
    if department:
        text = _(
            "%(service)s, reference %(reference)s: %(department)s: %(status)s.",
            service=service_title,
            reference=application.reference,
            department=_(department.name),
            status=status,
        )
    else:
        text = _(
            "%(service)s, reference %(reference)s: %(status)s.",
            service=service_title,
            reference=application.reference,
            status=status,
        )
    if assisted := helped(event):
        text = f"{text} {assisted}"
    if event.status == "information_requested" and (
        note := department_note(event, notification.language)
    ):
        text = f"{text} {note.text}"  # what the department asks, so the message says it
    link = f"{public_url}/applications/{application.reference}"
    details = _("Details: %(link)s", link=link)  # outside the f-string, where Babel finds it
    text = f"{text} {details}"
    subject = _("Update on your application %(reference)s", reference=application.reference)
    return subject, text
