"""What the bot does, served to Rasa as custom actions: each takes the turn (the conversation,
Rasa's tracker, the message) and returns the texts to send and the events for Rasa's tracker.
Texts are worded here, in the conversation's language, from the portal's catalogue."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select

from backend_clients.http import BackendError, BackendRejected
from portal.applications.models import Application, TimelineEvent
from portal.applications.references import parse_reference
from portal.applications.statuses import label
from portal.applications.timeline import department_name
from portal.catalogue.search import suggest
from portal.conversations import handoff
from portal.conversations.language import menu
from portal.conversations.report import REPORT_ACTIONS, STOP_FORM
from portal.conversations.responses import CAN_DO
from portal.conversations.turn import Outcome, Turn
from portal.i18n import gettext as _
from portal.i18n.formatting import format_date, format_minor
from portal.identity.models import Citizen

APPLICATION = re.compile(r"\bFD[\s-]?[0-9A-Z]{4}[\s-]?[0-9A-Z]{4}\b", re.IGNORECASE)
BILL = re.compile(r"\bBL[\s-]?[0-9A-Z]{4}[\s-]?[0-9A-Z]{4}\b", re.IGNORECASE)
BILL_LOOKUPS_PER_MINUTE = 5


async def find_service(turn: Turn) -> Outcome:
    found = suggest(turn.catalogue, turn.text) or list(turn.catalogue.services.values())
    lines = [_("These services may be what you need:")]
    lines += [f"{_(service.title)}: {turn.public_url}/services/{service.id}" for service in found]
    lines.append(_("Every service: %(link)s", link=f"{turn.public_url}/services"))
    return Outcome(["\n".join(lines)])


async def _owner_asks(turn: Turn, application: Application) -> bool:
    """Whether this conversation is the application's citizen: signed in on the web chat, or
    writing from the phone number on their profile."""
    conversation = turn.conversation
    if conversation.channel == "web":
        return conversation.citizen_id == application.citizen_id
    citizen = await turn.db.get(Citizen, application.citizen_id)
    return citizen is not None and citizen.phone == conversation.address


async def application_status(turn: Turn) -> Outcome:
    found = APPLICATION.search(turn.text)
    if found is None:
        return Outcome(
            [
                _(
                    "Please send me your application's reference. It looks like FD-7K3M-9QX2 "
                    "and is in the message we sent when you applied."
                )
            ]
        )
    reference = parse_reference(found.group(0))
    application = None
    if reference is not None:
        application = await turn.db.scalar(
            select(Application).where(Application.reference == reference)
        )
    if application is None:
        return Outcome(
            [
                _(
                    "I cannot find an application with the reference %(reference)s. Please "
                    "check it and send it again.",
                    reference=found.group(0).upper(),
                )
            ]
        )
    link = f"{turn.public_url}/applications/{application.reference}"
    if not await _owner_asks(turn, application):
        await turn.audit.record(
            "bot_status_refused",
            actor="bot",
            subject=application.reference,
            conversation=turn.conversation.key,
        )
        return Outcome(
            [
                _(
                    "For your privacy I can only give news of an application to the phone "
                    "number on it. Write from that phone, or sign in to see it: %(link)s",
                    link=link,
                )
            ]
        )
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
    service = turn.catalogue.services.get(application.service_id)
    title = _(service.title) if service else application.service_id
    lines = [
        _("%(service)s, reference %(reference)s:", service=title, reference=application.reference)
    ]
    if not latest and events:
        lines.append(f"{label(events[0].status)} ({format_date(events[0].occurred_at)})")
    for department, event in latest.items():
        name = department_name(turn.catalogue.departments, department)
        lines.append(f"{name}: {label(event.status)} ({format_date(event.occurred_at)})")
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
    return Outcome(["\n".join(lines)])


async def _lookups_left(turn: Turn) -> bool:
    """A few bill look-ups a minute per conversation, as on the web: references cannot be
    walked through by message either."""
    key = f"bot-bill-lookups:{turn.conversation.id}:{int(time.time() // 60)}"
    done = int(await turn.store.get(key) or 0)
    if done >= BILL_LOOKUPS_PER_MINUTE:
        return False
    await turn.store.set(key, str(done + 1), expires_in=120)
    return True


async def pay(turn: Turn) -> Outcome:
    web = f"{turn.public_url}/pay-a-bill"
    found = BILL.search(turn.text)
    if found is None:
        if APPLICATION.search(turn.text):
            return await application_status(turn)  # its fee, with the link to pay it
        return Outcome(
            [
                _(
                    "Send me the reference on your bill or fine (like BL-7K3M-9QX1) and I will "
                    "send you a link to pay it. For an application's fee, send me the "
                    "application's reference."
                )
            ]
        )
    reference = parse_reference(found.group(0), "BL")
    if reference is None:
        return Outcome(
            [_("That reference does not look right. It looks like BL-7K3M-9QX1: please check it.")]
        )
    if not await _lookups_left(turn):
        return Outcome(
            [_("You have looked up too many references. Wait a minute, then try again.")]
        )
    try:
        bill = await turn.backends.bills.get_bill(reference)
    except BackendRejected as error:
        if error.status_code != 404:
            raise
        return Outcome(
            [
                _(
                    "There is no bill with the reference %(reference)s. Check it and try again.",
                    reference=reference,
                )
            ]
        )
    except BackendError:
        return Outcome(
            [
                _(
                    "Bills cannot be looked up at the moment. Try again in a few minutes, or "
                    "pay here: %(link)s",
                    link=web,
                )
            ]
        )
    if bill.status == "paid":
        return Outcome(
            [_("Bill %(reference)s is already paid. Nothing more to do.", reference=reference)]
        )
    amount = format_minor(bill.amount_minor, bill.currency)
    return Outcome(
        [
            _(
                "Bill %(reference)s: %(amount)s to pay. Pay it securely here: %(link)s",
                reference=reference,
                amount=amount,
                link=f"{web}?reference={reference}",
            )
        ]
    )


async def ask_for_person(turn: Turn) -> Outcome:
    await handoff.request(turn.db, turn.audit, turn.conversation, "asked")
    text = _(
        "I am putting you through to a person. Please stay here: they will answer in this "
        "conversation."
    )
    return Outcome([text], [*STOP_FORM, {"event": "pause"}])  # a report half-told ends here


def _misses_in_a_row(tracker: dict[str, Any]) -> int:
    """How many of the citizen's last messages in a row, this one included, the bot could not
    help with (each answered by action_fallback; a photo or a place on its own does not count)."""
    answers: list[str | None] = []  # per message of the citizen, the action that answered it
    for event in tracker.get("events") or []:
        if event.get("event") == "user":
            media_only = event.get("text") == "/nlu_fallback"
            answers.append("media" if media_only else None)
        elif (
            event.get("event") == "action"
            and answers
            and answers[-1] is None
            and event.get("name") != "action_listen"
        ):
            answers[-1] = str(event.get("name"))
    count = 0
    for answer in reversed(answers):
        if answer not in (None, "action_fallback"):  # None: the message being answered now
            break
        count += 1
    return count


async def not_understood(turn: Turn) -> Outcome:
    """Misunderstood, or out of scope: say what the bot can do; the second time in a row, hand
    the conversation to a person."""
    metadata = turn.metadata
    if turn.text == "/nlu_fallback" and (metadata.get("media") or metadata.get("location")):
        return Outcome(
            [_("Thank you, I received it. Tell me in a few words what you need, and I will help.")]
        )
    if _misses_in_a_row(turn.tracker) >= 2:
        await handoff.request(turn.db, turn.audit, turn.conversation, "not_understood")
        text = _(
            "Sorry, I still do not understand. I am putting you through to a person: they "
            "will answer in this conversation."
        )
        return Outcome([text], [{"event": "pause"}])
    if turn.intent == "out_of_scope":
        sorry = _("Sorry, I cannot help with that.")
    else:
        sorry = _("Sorry, I did not understand.")
    person = _("To talk to a person, write PERSON.")
    return Outcome([f"{sorry} {CAN_DO} {person}"])


async def language_menu(turn: Turn) -> Outcome:
    turn.conversation.expecting = "language"
    question = _("Which language? Reply with its number:")
    return Outcome([f"{question} {menu()}"])


ACTIONS: dict[str, Callable[[Turn], Awaitable[Outcome]]] = {
    "action_find_service": find_service,
    "action_application_status": application_status,
    "action_pay": pay,
    **REPORT_ACTIONS,
    "action_handoff": ask_for_person,
    "action_fallback": not_understood,
    "action_language_menu": language_menu,
}
