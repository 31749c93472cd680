"""Reporting a problem in the street by message: what it is, where (words, or a location shared
on WhatsApp) and a photo if the citizen has one, then, once the citizen says YES to it, the same
"Report a problem" application as on the web, sent to public works by the outbox, with its
reference in the reply.

Rasa runs the form (report_form in chatbot/domain.yml: it asks for each slot in turn); the
portal words the questions, checks each answer (validate_report_form) and files the report.
What the first message already says (the kind of problem, the place) is not asked again: the
form's validation reads it when the form starts. A place in words is looked up with the
geocoder the web form uses, and the address found is confirmed with the citizen (YES / NO)
before it is kept.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from backend_clients.gis.client import MIN_QUERY
from backend_clients.http import BackendError
from portal.applications.documents import keep_document
from portal.applications.submit import submit_draft
from portal.catalogue.models import FieldDef, Service
from portal.conversations.details import (
    after_no,
    names_a_street,
    place_query,
    places_in,
    says_no,
    says_yes,
    shorter,
)
from portal.conversations.language import DIGITS
from portal.conversations.turn import Outcome, Turn, slot_set
from portal.forms.fields import MAX_UPLOAD_BYTES, address_answer, sniff
from portal.forms.models import Draft
from portal.i18n import gettext as _
from portal.i18n.folding import fold
from portal.identity.code_routes import ISSUER
from portal.identity.models import Citizen

SERVICE = "report-a-problem"
SLOTS = ("problem_category", "problem_place", "problem_photo", "problem_confirmed")
FOUND = "problem_place_found"  # an address the geocoder found, until the citizen confirms it
NO_PHOTO = "none"
CONFIRMED = "yes"
# Words people use for each kind of problem (matched as whole words, or as the start of a longer
# one for stems of five letters or more), in every language the bot speaks.
CATEGORY_WORDS = {
    "pothole": "pothole hole road tarmac bache agujero socavon calzada asfalto حفرة حفر طريق اسفلت",
    "street-light": "light lamp streetlight farola luz luces alumbrado farol "
    "إنارة ضوء عمود لمبة مصباح",
    "missed-bin": "bin rubbish garbage trash litter basura contenedor recogida "
    "قمامة زبالة نفايات حاوية",
    "graffiti": "graffiti grafiti pintada pintadas tag كتابات رسومات غرافيتي",
}
SKIP = {
    fold(word)
    for word in (
        *("no", "none", "skip", "nope", "no photo", "cancel", "stop"),
        *("saltar", "ninguna", "sin foto", "cancelar", "parar"),
        *("لا", "تخطي", "بدون صورة", "لا يوجد", "إلغاء", "توقف"),
    )
}
# Rasa's events that end the form (and forget its answers), when the citizen stops or cannot go on.
STOP_FORM = [
    {"event": "active_loop", "name": None},
    {"event": "slot", "name": "requested_slot", "value": None},
    *({"event": "slot", "name": name, "value": None} for name in (*SLOTS, FOUND)),
]
# A road is where a problem is as often as what it is: it does not name the problem on its own
# in a first message ("a broken street light on my road").
NOT_A_KIND_ALONE = {"road", "hole", "calzada", "طريق", "luz"}


def _service(turn: Turn) -> Service:
    return turn.catalogue.services[SERVICE]


def _category_field(turn: Turn) -> FieldDef:
    return _service(turn).steps[0].fields[0]


def _says(tokens: list[str], keyword: str) -> bool:
    return any(
        token == keyword or (len(keyword) >= 5 and token.startswith(keyword))
        for token in (*tokens, *(t[2:] for t in tokens if t.startswith("ال") and len(t) > 4))
    )


def category_of(turn: Turn, text: str, *, first: bool = False) -> str | None:
    """The category a reply names: its number in the list, or a word of its kind. In a
    `first` message (not a reply to the list), words only, and only one kind named."""
    options = _category_field(turn).options
    answer = fold(text).translate(DIGITS).strip(" .)")
    if not first and answer.isdigit() and 1 <= int(answer) <= len(options):
        return options[int(answer) - 1].value
    tokens = re.findall(r"\w+", answer)
    named = [
        option.value
        for option in options
        if any(
            _says(tokens, fold(word))
            for word in CATEGORY_WORDS[option.value].split()
            if not (first and word in NOT_A_KIND_ALONE)
        )
    ]
    if first:
        return named[0] if len(named) == 1 else None
    return named[0] if named else None


def _problem_words() -> frozenset[str]:
    return frozenset(fold(word) for words in CATEGORY_WORDS.values() for word in words.split())


def _category_label(turn: Turn, value: str) -> str:
    option = next((o for o in _category_field(turn).options if o.value == value), None)
    return _(option.label) if option else value


async def _geocoded(turn: Turn, query: str) -> dict[str, Any] | None:
    """The address the geocoder (the web form's) finds for a place in words, trying it without
    its last words too ("calle Mayor desde hace semanas"); a street without a number is the
    street itself. None when nothing is found or the geocoder cannot be asked."""
    for attempt in shorter(query):
        if len(attempt) < MIN_QUERY:
            continue
        try:
            found = await turn.backends.geocoder.search(attempt, limit=10)
        except BackendError:
            return None
        if not found:
            continue
        streets = {(address.street, address.postcode) for address in found}
        if len(streets) == 1 and not any(char.isdigit() for char in attempt):
            street = found[0]
            label = f"{street.street}, {street.town} {street.postcode}"
            return {
                "label": label,
                "postcode": street.postcode,
                "lat": street.lat,
                "lon": street.lon,
            }
        return address_answer(found[0])
    return None


def _typed(text: str) -> dict[str, Any]:
    words = text.strip()[:200]
    return {"label": words, "manual": True, "line1": words}


async def _first_place(turn: Turn) -> dict[str, Any] | None:
    """The place the first message names, to confirm: the address the geocoder finds, else the
    words of one with a street word or a number ("شارع النيل")."""
    places = places_in(turn.text, _problem_words())
    for place in places:
        if (address := await _geocoded(turn, place)) is not None:
            return address
    typed = next((place for place in places if names_a_street(place)), None)
    return _typed(typed) if typed else None


def _sign_in_first(turn: Turn, events: list[dict[str, Any]]) -> Outcome:
    link = f"{turn.public_url}/services/{SERVICE}"
    text = _("To send a report from here, sign in first, or use the form: %(link)s", link=link)
    return Outcome([text], events)


async def ask_category(turn: Turn) -> Outcome:
    options = _category_field(turn).options
    lines = [_("What is the problem? Reply with its number:")]
    lines += [f"{number}. {_(option.label)}" for number, option in enumerate(options, start=1)]
    lines.append(_("(To stop, write NO.)"))
    return Outcome(["\n".join(lines)])


async def ask_place(turn: Turn) -> Outcome:
    found = turn.slot(FOUND)
    if isinstance(found, dict):
        return Outcome([_("Is it %(place)s? YES / NO", place=found.get("label", ""))])
    if turn.conversation.channel == "whatsapp":
        text = _("Where is it? Write the street and number or a landmark, or share a location.")
    else:
        text = _("Where is it? Write the street and number or a landmark.")
    return Outcome([text])


async def ask_photo(turn: Turn) -> Outcome:
    if turn.conversation.channel == "web":
        text = _(
            "Photos can only be added on the web form. Write NO to send the report without one."
        )
    else:
        text = _("Send a photo of the problem if you can take one safely, or write NO.")
    return Outcome([text])


async def ask_confirmed(turn: Turn) -> Outcome:
    """The last question: the report as it will be sent, to send or not."""
    place = turn.slot("problem_place") or {}
    text = _(
        "Send this report? %(problem)s, at %(place)s. YES / NO",
        problem=_category_label(turn, str(turn.slot("problem_category"))),
        place=place.get("label", ""),
    )
    return Outcome([text])


def _shared_location(turn: Turn) -> dict[str, Any] | None:
    location = turn.metadata.get("location")
    if isinstance(location, dict) and {"latitude", "longitude"} <= location.keys():
        lat, lon = float(location["latitude"]), float(location["longitude"])
        return {"label": f"{lat:.5f}, {lon:.5f}", "lat": lat, "lon": lon}
    return None


async def _place_answer(turn: Turn, text: str) -> Outcome:
    """The answer to "where is it?" (or "is it ...?"): a yes keeps the address found, a no
    asks again; a location shared is kept as it is; words are looked up with the geocoder and
    what it finds is asked about; words it does not know are kept as written."""
    asked = "problem_place"
    found = turn.slot(FOUND)
    if isinstance(found, dict):
        if says_yes(text):
            return Outcome([], [slot_set(asked, found), slot_set(FOUND, None)])
        if says_no(text):
            return Outcome([], [slot_set(asked, None), slot_set(FOUND, None)])
    elif _no(text):
        return Outcome([_("All right, I have not reported anything.")], STOP_FORM)
    if (location := _shared_location(turn)) is not None:
        return Outcome([], [slot_set(asked, location), slot_set(FOUND, None)])
    text = after_no(text)  # "no, Calle Mayor 23": another place
    query = place_query(text) or text.strip()
    if len(query) < 3 or query.startswith("/"):
        return Outcome([_("Sorry, I need to know where it is.")], [slot_set(asked, None)])
    if (address := await _geocoded(turn, query)) is not None:
        return Outcome([], [slot_set(asked, None), slot_set(FOUND, address)])
    return Outcome([], [slot_set(asked, _typed(text)), slot_set(FOUND, None)])


async def _first_message(turn: Turn) -> Outcome:
    """The form starts: what the message that started it says already (the kind of problem,
    the place to confirm) is kept, and everything else is asked; answers left from an earlier
    report go. On the web chat, only a citizen signed in may report."""
    if turn.conversation.channel == "web" and turn.conversation.citizen_id is None:
        return _sign_in_first(turn, STOP_FORM)
    category = category_of(turn, turn.text, first=True)
    found = await _first_place(turn)
    events = [slot_set(name, None) for name in SLOTS[1:]]
    return Outcome([], [slot_set(SLOTS[0], category), *events, slot_set(FOUND, found)])


def _no(text: str) -> bool:
    """A plain "no" (or skip, or cancel): the words themselves, not a sentence that has a "no"
    in it ("the light does not work"), which the classifier may take for one."""
    return fold(text).strip(" .!") in SKIP


async def validate(turn: Turn) -> Outcome:
    """Check the answer Rasa took for the slot asked; a wrong one is cleared (asked again).
    A plain "no" to what or where stops the report, and so does NO to sending it. With no slot
    asked yet, the form is starting: what the first message says is read."""
    asked = turn.slot("requested_slot")
    if asked is None:
        return await _first_message(turn)
    value = turn.slot(asked) if asked in SLOTS else None
    if value is None:
        return Outcome()  # nothing taken from the message (e.g. a person asked for): Rasa decides
    text = str(value)
    if asked == "problem_category":
        found = category_of(turn, text)
        if found is None and _no(text):
            return Outcome([_("All right, I have not reported anything.")], STOP_FORM)
        texts = [] if found else [_("Sorry, I did not get which problem it is.")]
        return Outcome(texts, [slot_set(asked, found)])
    if asked == "problem_place":
        return await _place_answer(turn, text)
    if asked == "problem_photo":
        media = turn.metadata.get("media") or []
        if media:
            return Outcome([], [slot_set(asked, str(media[0]))])
        if _no(text) or turn.intent == "deny":
            return Outcome([], [slot_set(asked, NO_PHOTO)])
        return Outcome([], [slot_set(asked, None)])
    if asked == "problem_confirmed":
        if says_yes(text):
            return Outcome([], [slot_set(asked, CONFIRMED)])
        if says_no(text) or _no(text):
            return Outcome([_("All right, I have not sent the report.")], STOP_FORM)
        return Outcome([_("Please answer YES or NO.")], [slot_set(asked, None)])
    return Outcome()


async def _reporter(turn: Turn) -> Citizen | None:
    """Who files the report: on the web chat, the citizen signed in; by SMS or WhatsApp, the
    number's own account (the one a sign-in code to that number opens), made now if new. Not a
    profile that merely lists the number: anyone may type any number into their profile."""
    conversation = turn.conversation
    if conversation.channel == "web":
        if conversation.citizen_id is None:
            return None
        return await turn.db.get(Citizen, conversation.citizen_id)
    subject = f"sms:{conversation.address}"
    citizen = await turn.db.scalar(
        select(Citizen).where(Citizen.issuer == ISSUER, Citizen.subject == subject)
    )
    if citizen is None:
        citizen = Citizen(
            issuer=ISSUER,
            subject=subject,
            phone=conversation.address,
            language=conversation.language,
            preferred_channel=conversation.channel,  # news of the report where it was sent from
        )
        turn.db.add(citizen)
        await turn.db.flush()
    return citizen


async def _photo(turn: Turn, citizen: Citizen, url: str) -> dict[str, Any] | None:
    """The citizen's photo, fetched from Twilio and kept in the document service like an
    upload on the web; None when it cannot be (the report goes without it)."""
    try:
        content = await turn.twilio.fetch_media(url, MAX_UPLOAD_BYTES)
    except BackendError:
        return None
    kind = sniff(content)
    if kind not in ("image/jpeg", "image/png"):
        return None
    name = "photo.jpg" if kind == "image/jpeg" else "photo.png"
    try:
        document = await keep_document(turn.backends.documents, turn.db, citizen.id, name, content)
    except BackendError:
        return None
    return {
        "document": document.public_id,
        "filename": name,
        "content_type": kind,
        "size": len(content),
    }


async def file_report(turn: Turn) -> Outcome:
    """The form is complete: send the report and give its reference."""
    clear = [slot_set(name, None) for name in (*SLOTS, FOUND)]
    if turn.slot("problem_confirmed") != CONFIRMED or not turn.slot("problem_place"):
        return Outcome([], clear)  # the form was stopped, not completed: it has said so
    citizen = await _reporter(turn)
    if citizen is None:  # the web chat's citizen signed out meanwhile
        return _sign_in_first(turn, clear)
    category = str(turn.slot("problem_category"))
    place = turn.slot("problem_place") or {}
    answers: dict[str, Any] = {
        "category": category,
        "place": place,
        "description": _("Reported through the assistant: %(place)s", place=place.get("label", "")),
    }
    photo_url = turn.slot("problem_photo")
    if photo_url and photo_url != NO_PHOTO:
        photo = await _photo(turn, citizen, str(photo_url))
        if photo:
            answers["photo"] = photo
    draft = Draft(
        citizen_id=citizen.id,
        service_id=SERVICE,
        answers=answers,
        channel=turn.conversation.channel,
    )
    turn.db.add(draft)
    await turn.db.commit()
    reference = await submit_draft(turn.request, turn.db, citizen, _service(turn), draft)
    text = _(
        "Thank you: your report is on its way to public works. Its reference is %(reference)s. "
        "Send me the reference to hear how it goes.",
        reference=reference,
    )
    return Outcome([text], clear)


REPORT_ACTIONS = {
    "action_ask_problem_category": ask_category,
    "action_ask_problem_place": ask_place,
    "action_ask_problem_photo": ask_photo,
    "action_ask_problem_confirmed": ask_confirmed,
    "validate_report_form": validate,
    "action_report_problem": file_report,
}
