"""Where is my application: the latest news from each department, only for the citizen whose
application it is: writing from the phone number on it, or signed in on the web chat, or
sending back the one-time code the bot sent to that number. Anyone else gets the same answer as
for a reference that does not exist, so the bot tells nobody which references are real; and
each conversation may look up only a few references a minute."""

from __future__ import annotations

import contextlib
import re

from sqlalchemy import select

from portal.applications.models import Application, DepartmentRequest, TimelineEvent
from portal.applications.references import parse_reference
from portal.applications.statuses import OVERALL_LABELS, label, overall
from portal.applications.timeline import department_name, department_note
from portal.conversations.turn import Outcome, Turn
from portal.i18n import current_locale
from portal.i18n import gettext as _
from portal.i18n.formatting import format_date, format_minor
from portal.identity.codes import CodeNotSent, Destination, TooManyAttempts
from portal.identity.models import Citizen
from portal.web.limits import within_limit

APPLICATION = re.compile(r"\bFD[\s-]?[0-9A-Z]{4}[\s-]?[0-9A-Z]{4}\b", re.IGNORECASE)


async def lookup_allowed(turn: Turn) -> bool:
    """A few reference look-ups (applications and bills) a minute per conversation, as many as
    a browser may make on the web."""
    per_minute = turn.settings.bill_lookups_per_minute
    return await within_limit(turn.counters, f"bot-lookups:{turn.conversation.id}", per_minute)


def too_many() -> Outcome:
    return Outcome([_("You have looked up too many references. Wait a minute, then try again.")])


async def _owner_asks(turn: Turn, application: Application) -> bool:
    """Whether this conversation is the application's citizen: signed in on the web chat, or
    writing from the phone number on their profile, or holding the code sent there."""
    conversation = turn.conversation
    if application.reference in (conversation.granted or []):
        return True
    if conversation.channel == "web":
        return conversation.citizen_id == application.citizen_id
    citizen = await turn.db.get(Citizen, application.citizen_id)
    return citizen is not None and citizen.phone == conversation.address


async def application_status(turn: Turn) -> Outcome:
    found = APPLICATION.search(turn.text)
    if found is None:
        return await _theirs(turn)
    if not await lookup_allowed(turn):
        return too_many()
    reference = parse_reference(found.group(0))
    application = None
    if reference is not None:
        application = await turn.db.scalar(
            select(Application).where(Application.reference == reference)
        )
    if application is None or not await _owner_asks(turn, application):
        await turn.audit.record(
            "bot_status_refused",
            actor="bot",
            subject=reference or found.group(0).upper(),
            conversation=turn.conversation.key,
        )
        return await _prove_it(turn, found.group(0).upper(), application)
    return Outcome([await _news(turn, application)])


async def _prove_it(turn: Turn, typed: str, application: Application | None) -> Outcome:
    """By SMS or WhatsApp from another number: a code goes to the phone number on the
    application, and whoever sends it back here gets the news (the gateway checks it). The
    answer is the same whether the reference exists or not."""
    link = f"{turn.public_url}/applications"
    if turn.conversation.channel == "web":
        text = _(
            "I cannot give news of %(reference)s here. Check the reference; if the application "
            "is yours, sign in to see it: %(link)s",
            reference=typed,
            link=link,
        )
        return Outcome([text])
    owner = await turn.db.get(Citizen, application.citizen_id) if application else None
    if application is not None and owner is not None and owner.phone:
        codes = turn.sign_in_codes
        # Refused or failed, the answer is the same: nobody learns more from the limits.
        with contextlib.suppress(TooManyAttempts, CodeNotSent):
            await codes.send(Destination("sms", owner.phone), ip=turn.conversation.code_asker)
    turn.conversation.expecting = f"code:{application.reference if application else typed}"[:32]
    text = _(
        "If %(reference)s is right, I have sent a code by text message to the phone number on "
        "the application. Send me the code here to get its news, or sign in to see it: %(link)s",
        reference=typed,
        link=link,
    )
    return Outcome([text])


async def _news(turn: Turn, application: Application) -> str:
    """The latest event of each department (the portal's own when none has news yet)."""
    events = (
        await turn.db.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.application_id == application.id)
            .order_by(TimelineEvent.occurred_at.desc(), TimelineEvent.id.desc())
        )
    ).all()
    latest: dict[str, TimelineEvent] = {}
    for event in events:
        if event.department:
            latest.setdefault(event.department, event)
    service = turn.catalogue.version(application.service_id, application.service_version)
    title = _(service.title) if service else application.service_id
    link = f"{turn.public_url}/applications/{application.reference}"
    lines = [
        _("%(service)s, reference %(reference)s:", service=title, reference=application.reference)
    ]
    if not latest and events:
        lines.append(f"{label(events[0].status)} ({format_date(events[0].occurred_at)})")
    for department, event in latest.items():
        name = department_name(turn.catalogue.departments, department)
        lines.append(f"{name}: {label(event.status)} ({format_date(event.occurred_at)})")
        if event.status == "information_requested" and (
            note := department_note(event, current_locale())
        ):
            lines.append(note.text)  # what the department asks
        fee = event.data.get("fee") if event.status == "fee_due" else None
        if fee:
            amount = format_minor(fee["amount_minor"], fee["currency"])
            lines.append(
                _("Fee to pay: %(amount)s. Pay it here: %(link)s", amount=amount, link=link)
            )
    lines.append(_("Details: %(link)s", link=link))
    await turn.audit.record(
        "bot_status_given",
        actor="bot",
        subject=application.reference,
        conversation=turn.conversation.key,
    )
    return "\n".join(lines)


OWN_NUMBER = "*"  # in `granted`: this conversation proved, by a code, that it holds its number
LISTED = 5  # applications listed in a reply; the rest are a link away


async def _theirs(turn: Turn) -> Outcome:
    """ "Where is my application?" with no reference, from someone the bot knows: the web chat's
    signed-in citizen, or a number on a citizen's profile once it sent back the code sent there
    (what the number's owner sees on the web, not whoever borrowed the phone). Anyone else is
    asked for the reference."""
    conversation = turn.conversation
    if conversation.channel == "web" and conversation.citizen_id is not None:
        return Outcome([await listing(turn, [conversation.citizen_id])])
    owners: list[int] = []
    if conversation.channel != "web":
        owners = list(
            (
                await turn.db.scalars(
                    select(Citizen.id).where(Citizen.phone == conversation.address).limit(10)
                )
            ).all()
        )
    if owners and OWN_NUMBER in (conversation.granted or []):
        return Outcome([await listing(turn, owners)])
    if owners:
        with contextlib.suppress(TooManyAttempts, CodeNotSent):
            await turn.sign_in_codes.send(
                Destination("sms", conversation.address), ip=conversation.code_asker
            )
        conversation.expecting = f"code:{OWN_NUMBER}"
        text = _(
            "To see your applications here, send me the code I have just sent to this number "
            "by text message. Or send me an application's reference."
        )
        return Outcome([text])
    text = _(
        "Please send me your application's reference. It looks like FD-7K3M-9QX2 "
        "and is in the message we sent when you applied."
    )
    return Outcome([text])


async def listing(turn: Turn, citizen_ids: list[int]) -> str:
    """The citizen's newest applications, each with its reference and its state as the web's
    "Your applications" words it."""
    applications = (
        await turn.db.scalars(
            select(Application)
            .where(Application.citizen_id.in_(citizen_ids))
            .order_by(Application.submitted_at.desc(), Application.id.desc())
            .limit(LISTED + 1)
        )
    ).all()
    link = f"{turn.public_url}/applications"
    if not applications:
        return _(
            "You have no applications yet. Every service you can apply for: %(link)s",
            link=f"{turn.public_url}/services",
        )
    shown = applications[:LISTED]
    requests = (
        await turn.db.execute(
            select(
                DepartmentRequest.application_id,
                DepartmentRequest.status,
                DepartmentRequest.finished,
            ).where(DepartmentRequest.application_id.in_([a.id for a in shown]))
        )
    ).all()
    lines = [_("Your applications:")]
    for application in shown:
        mine = [r for r in requests if r.application_id == application.id]
        state = overall([r.status for r in mine], [r.finished for r in mine])
        service = turn.catalogue.version(application.service_id, application.service_version)
        title = _(service.title) if service else application.service_id
        lines.append(
            _(
                "%(reference)s: %(service)s, %(state)s",
                reference=application.reference,
                service=title,
                state=OVERALL_LABELS[state],
            )
        )
    if len(applications) > LISTED:
        lines.append(_("Every application you have made: %(link)s", link=link))
    lines.append(_("Send me a reference to get its news."))
    await turn.audit.record(
        "bot_applications_listed",
        actor="bot",
        subject=",".join(a.reference for a in shown),
        conversation=turn.conversation.key,
    )
    return "\n".join(lines)
