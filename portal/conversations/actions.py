"""What the bot does, served to Rasa as custom actions: each takes the turn (the conversation,
Rasa's tracker, the message) and returns the texts to send and the events for Rasa's tracker.
Texts are worded here, in the conversation's language, from the portal's catalogue."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from portal.catalogue.search import suggest
from portal.conversations import handoff, service_questions
from portal.conversations.details import language_named
from portal.conversations.language import menu, spoken, unserved
from portal.conversations.paying import pay
from portal.conversations.report import REPORT_ACTIONS, STOP_FORM
from portal.conversations.responses import CAN_DO, render
from portal.conversations.status import application_status
from portal.conversations.turn import Outcome, Turn
from portal.i18n import gettext as _
from portal.i18n.locale import use_locale


async def find_service(turn: Turn) -> Outcome:
    """Services for what the citizen wants; a question about one (its cost, what you need...)
    is answered from its start page."""
    matched = suggest(turn.catalogue, turn.text)
    if matched and (aspects := service_questions.asked(turn.text)):
        return Outcome(
            [service_questions.answer(turn.catalogue, turn.public_url, matched[0], aspects)]
        )
    popular = [service for service in turn.catalogue.services.values() if service.popular]
    found = matched or popular[:3]  # nothing matched: the usual ones
    lines = [_("These services may be what you need:")]
    lines += [f"{_(service.title)}: {turn.public_url}/services/{service.id}" for service in found]
    lines.append(_("Every service: %(link)s", link=f"{turn.public_url}/services"))
    return Outcome(["\n".join(lines)])


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
    person = _("To talk to a person, write PERSON.")
    if unserved(turn.text):  # French, say, to a bot that speaks English, Spanish and Arabic
        sorry = _("Sorry, I can only answer in %(languages)s.", languages=spoken())
        return Outcome([f"{sorry} {person}"])
    # Out of scope or not understood, the citizen hears the same: what the bot can do.
    sorry = _("Sorry, I did not understand.")
    return Outcome([f"{sorry} {CAN_DO} {person}"])


async def language_menu(turn: Turn) -> Outcome:
    """The choice of languages; a message that names one ("in Spanish, please") has chosen."""
    if turn.conversation.channel == "web":  # the chat speaks the page's language
        return Outcome([_("To change language, use the language links at the top of the page.")])
    if (named := language_named(turn.text)) is not None:
        turn.conversation.language = named
        turn.conversation.language_fixed = True
        use_locale(named)
        return Outcome([str(render("utter_greet"))])
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
