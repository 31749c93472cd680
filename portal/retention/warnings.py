"""The warning a draft's owner gets before it is deleted, written when the worker sends it (so an
editor's fix to the text applies) in the citizen's language, on their channel, the way news of
their applications is sent (ApplicationWork.send_text)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from portal.applications.delivery import ApplicationWork
from portal.applications.notify import destination
from portal.database.engine import aware
from portal.forms.models import Draft
from portal.i18n import gettext as _
from portal.i18n.formatting import format_date
from portal.i18n.locale import use_locale
from portal.identity.models import Citizen
from portal.outbox.models import OutboxMessage
from portal.retention.drafts import WARNING, deletion_day
from portal.settings import Settings


def compose(settings: Settings, title: str, draft: Draft) -> tuple[str, str]:
    """(subject, text) in the current language: which service, the day the draft will be
    deleted, and the link to carry on with it."""
    day = format_date(deletion_day(draft, settings))
    link = f"{settings.public_url}/drafts/{draft.public_id}/check"
    text = _(
        "Your application for %(service)s has not been sent. We will delete it on %(date)s "
        "unless you continue it before then: %(link)s",
        service=title,
        date=day,
        link=link,
    )
    subject = _("Your unsent application will be deleted on %(date)s", date=day)
    return subject, text


def still_due(draft: Draft | None) -> bool:
    """Whether the warning still stands: the draft is there, unsent, unchanged since."""
    return (
        draft is not None
        and draft.submitted_at is None
        and draft.deletion_warned_at is not None
        and aware(draft.updated_at) <= aware(draft.deletion_warned_at)
    )


class DraftWarnings:
    """The worker's handler for the warnings the purge queues."""

    def __init__(self, work: ApplicationWork) -> None:
        self.work = work

    def handlers(self) -> dict[str, Any]:
        return {WARNING: self.send}

    async def send(self, message: OutboxMessage) -> None:
        async with self.work.sessionmaker() as db:
            draft = await db.scalar(
                select(Draft).where(Draft.public_id == message.payload["draft"])
            )
            if draft is None or not still_due(draft):
                return  # deleted, sent or changed by the citizen meanwhile
            citizen = await db.get(Citizen, draft.citizen_id)
            target = destination(citizen, always=True) if citizen else None
            if citizen is None or target is None:
                return
            if self.work.overlay is not None:
                await self.work.overlay.refresh()
            service = self.work.catalogue.version(draft.service_id, draft.service_version)
            use_locale(citizen.language)
            title = _(service.title) if service else draft.service_id
            subject, text = compose(self.work.settings, title, draft)
            await self.work.send_text(message, target[0], target[1], subject, text)
