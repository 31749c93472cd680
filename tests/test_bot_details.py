"""What a citizen's first message already says, without the bot: a greeting in front of a
request, the kind of problem and the place (per language), and the report's confirmations (the
place found by the geocoder, then the report itself) as the portal's action endpoint answers
Rasa's calls for them."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import insert

from conftest import Sandbox, run_async
from portal.conversations.details import (
    after_no,
    language_named,
    place_query,
    places_in,
    request_part,
    says_no,
    says_yes,
)
from portal.conversations.models import Conversation
from portal.settings import SANDBOX_BOT_SECRET
from tests.journey_support import execute

BOT = {"Authorization": f"Bearer {SANDBOX_BOT_SECRET}"}
CALLE_MAYOR = "Calle Mayor, Riverside RV2 7LM"


@pytest.mark.parametrize(
    ("message", "request_"),
    [
        ("hi, where is my application?", "where is my application?"),
        (
            "Thanks, and where is my application FD-7K3M-9QX2",
            "where is my application FD-7K3M-9QX2",
        ),
        ("Hola, ¿dónde está mi solicitud?", "¿dónde está mi solicitud?"),
        ("buenos días. hay un bache en la calle Mayor", "hay un bache en la calle Mayor"),
        ("مرحبا، أين طلبي؟", "أين طلبي؟"),
        ("شكرا، وأين طلبي؟", "أين طلبي؟"),
        # A greeting alone stays a greeting.
        ("Hello there", "Hello there"),
        ("hola, buenos días", "hola, buenos días"),
        ("السلام عليكم", "السلام عليكم"),
        ("highway is broken", "highway is broken"),  # "hi" only as a word of its own
        ("thank you so much", "thank you so much"),  # all thanks: not set apart
        ("thanks and where is my application", "where is my application"),
        ("thanks, bye", "thanks, bye"),
    ],
)
def test_a_greeting_in_front_of_a_request_leaves_the_request(message: str, request_: str) -> None:
    assert request_part(message) == request_


PROBLEM_WORDS = frozenset({"pothole", "light", "bache", "farola", "graffiti", "حفره", "alumbrado"})


@pytest.mark.parametrize(
    ("message", "places"),
    [
        ("pothole on Calle Mayor", ["Calle Mayor"]),
        ("there is a pothole on Calle Mayor 18, please fix it", ["Calle Mayor 18"]),
        (
            "the light near 12 Harbour Street is off",
            ["12 Harbour Street is off", "12 Harbour Street"],
        ),
        ("pothole Harbour Street", ["Harbour Street"]),
        ("graffiti on the wall at Market Square", ["Market Square", "wall"]),
        ("hay un bache enorme en la calle Mayor", ["calle Mayor"]),
        ("farola rota en la plaza", ["plaza"]),
        ("bache calle Mayor 18", ["calle Mayor 18"]),
        ("حفرة في شارع النيل", ["شارع النيل"]),
        ("عمود الإنارة مكسور في شارع النيل 12", ["شارع النيل 12"]),
        # Whose street, or only a kind of place or of problem, says nothing of where.
        ("I want to report a problem in my street", []),
        ("there is a broken street light on my road", []),
        ("quiero avisar de un problema en mi calle", []),
        ("hay un problema en el alumbrado", []),
        ("أريد الإبلاغ عن مشكلة في الشارع", []),
        ("حفرة كبيرة في شارعي", []),
    ],
)
def test_the_place_a_first_message_names(message: str, places: list[str]) -> None:
    assert places_in(message, PROBLEM_WORDS) == places


def test_a_place_typed_as_an_answer_loses_what_is_not_part_of_it() -> None:
    assert place_query("en la calle Mayor 18") == "calle Mayor 18"
    assert place_query("14 Mill Lane, by the school") == "14 Mill Lane"
    assert place_query("في شارع النيل") == "شارع النيل"
    assert after_no("no, Calle Mayor 23") == "Calle Mayor 23"
    assert after_no("لا، شارع النيل") == "شارع النيل"
    assert after_no("no") == "no"  # a plain no stays a no
    assert after_no("Northgate 4") == "Northgate 4"


def test_yes_and_no_in_every_language() -> None:
    for yes in ("Yes!", "ok", "sí", "Si", "vale", "نعم", "أجل"):
        assert says_yes(yes) and not says_no(yes), yes
    for no in ("No.", "nope", "NO", "لا", "كلا"):
        assert says_no(no) and not says_yes(no), no
    for neither in ("jjjjjj", "no, Calle Mayor 23", "maybe", ""):
        assert not says_yes(neither) and not says_no(neither), neither


def test_a_language_named_in_any_language() -> None:
    assert language_named("in Spanish please") == "es"
    assert language_named("en árabe, por favor") == "ar"
    assert language_named("بالعربي") == "ar"
    assert language_named("أريد التحدث بالإسبانية") == "es"
    assert language_named("English") == "en"
    assert language_named("I want to change the language") is None


# The report's steps, as Rasa calls the portal for them.


def _conversation(database_url: str, channel: str = "sms", language: str = "en") -> str:
    key = secrets.token_hex(16)
    address = f"+3461{secrets.randbelow(10**7):07d}"
    row = {"key": key, "channel": channel, "address": address, "language": language}
    run_async(
        execute(database_url, insert(Conversation).values(**row, language_fixed=True, status="bot"))
    )
    return key


class Rasa:
    """Calls the portal's action endpoint as Rasa does, for one conversation."""

    def __init__(self, portal: TestClient[Any], key: str) -> None:
        self.portal, self.key = portal, key

    def run(self, action: str, text: str, **slots: Any) -> tuple[list[str], dict[str, Any]]:
        """The texts the action says and the slots it sets."""
        tracker = {"latest_message": {"text": text, "metadata": {}}, "slots": slots}
        call = {"next_action": action, "sender_id": self.key, "tracker": tracker}
        answer = self.portal.post("/bot/actions", json=call, headers=BOT)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        set_ = {e["name"]: e["value"] for e in body["events"] if e["event"] == "slot"}
        return [r["text"] for r in body["responses"]], set_


@pytest.fixture
def rasa(portal_factory: Callable[..., TestClient[Any]], database_url: str) -> Callable[..., Rasa]:
    portal = portal_factory(database_url=database_url)
    return lambda channel="sms", language="en": Rasa(
        portal, _conversation(database_url, channel, language)
    )


@pytest.mark.parametrize(
    ("language", "message", "category", "label"),
    [
        ("en", "pothole on Calle Mayor", "pothole", CALLE_MAYOR),
        ("en", "the street light near 14 High Street is broken", "street-light", None),
        ("es", "hay un bache enorme en la calle Mayor", "pothole", CALLE_MAYOR),
        ("es", "farola rota en la plaza", "street-light", None),
        ("ar", "حفرة في شارع النيل", "pothole", "شارع النيل"),
    ],
)
def test_the_first_message_fills_what_it_says(
    rasa: Callable[..., Rasa], language: str, message: str, category: str, label: str | None
) -> None:
    texts, slots = rasa(language=language).run("validate_report_form", message)
    assert texts == []
    assert slots["problem_category"] == category
    assert slots["problem_place"] is None  # not kept before the citizen confirms it
    found = slots["problem_place_found"]
    if label is None:  # found by the geocoder: an address with its position
        assert found["lat"] and found["lon"] and found["postcode"]
    else:
        assert found["label"] == label


def test_a_first_message_without_details_asks_everything(rasa: Callable[..., Rasa]) -> None:
    _texts, slots = rasa().run("validate_report_form", "I want to report a problem in my street")
    assert slots["problem_category"] is None
    assert slots["problem_place_found"] is None


def test_the_place_found_is_confirmed_and_no_asks_again(rasa: Callable[..., Rasa]) -> None:
    chat = rasa(language="es")
    _texts, first = chat.run("validate_report_form", "hay un bache enorme en la calle Mayor")
    found = first["problem_place_found"]
    [question], _slots = chat.run("action_ask_problem_place", "", problem_place_found=found)
    assert question == f"¿Es {CALLE_MAYOR}? SÍ / NO"
    asked = {"requested_slot": "problem_place", "problem_place_found": found}
    texts, no = chat.run("validate_report_form", "no", **asked, problem_place="no")
    assert texts == [] and no == {"problem_place": None, "problem_place_found": None}
    [again], _slots = chat.run("action_ask_problem_place", "")
    assert again == "¿Dónde está? Escriba la calle y el número o un lugar de referencia."
    # Another place, looked up in turn; then SÍ keeps what was found.
    _texts, other = chat.run(
        "validate_report_form",
        "Calle Mayor 23",
        requested_slot="problem_place",
        problem_place="Calle Mayor 23",
    )
    assert other["problem_place"] is None
    assert other["problem_place_found"]["label"] == "Calle Mayor 23, Riverside RV2 7LM"
    asked["problem_place_found"] = other["problem_place_found"]
    _texts, yes = chat.run("validate_report_form", "sí", **asked, problem_place="sí")
    assert yes["problem_place"]["label"] == "Calle Mayor 23, Riverside RV2 7LM"
    assert yes["problem_place"]["id"]  # the geocoder's address, as the web form keeps it
    assert yes["problem_place_found"] is None


def test_no_with_another_place_looks_that_place_up(rasa: Callable[..., Rasa]) -> None:
    found = {"label": CALLE_MAYOR, "lat": 40.4, "lon": -3.7}
    asked = {"requested_slot": "problem_place", "problem_place_found": found}
    texts, slots = rasa().run(
        "validate_report_form", "no, Calle Mayor 23", **asked, problem_place="no, Calle Mayor 23"
    )
    assert texts == [] and slots["problem_place"] is None
    assert slots["problem_place_found"]["label"] == "Calle Mayor 23, Riverside RV2 7LM"


def test_with_the_geocoder_down_the_place_is_kept_as_written(
    rasa: Callable[..., Rasa], sandbox: Sandbox
) -> None:
    sandbox.set_fault("gis", down=True)
    chat = rasa()
    _texts, first = chat.run("validate_report_form", "pothole on Calle Mayor 18")
    assert first["problem_category"] == "pothole"
    assert first["problem_place_found"]["label"] == "Calle Mayor 18"  # to confirm, as written
    asked = {"requested_slot": "problem_place", "problem_place": "Calle Mayor 23"}
    texts, slots = chat.run("validate_report_form", "Calle Mayor 23", **asked)
    assert texts == [] and slots["problem_place"]["label"] == "Calle Mayor 23"


def test_a_place_the_geocoder_does_not_know_is_kept_as_written(rasa: Callable[..., Rasa]) -> None:
    chat = rasa(language="ar")
    asked = {"requested_slot": "problem_place", "problem_place": "شارع النيل 12"}
    texts, slots = chat.run("validate_report_form", "شارع النيل 12", **asked)
    assert texts == []
    assert slots["problem_place"]["label"] == "شارع النيل 12"


REPORT = {
    "problem_category": "pothole",
    "problem_place": {"label": "Calle Mayor 23, Riverside RV2 7LM", "lat": 40.4, "lon": -3.7},
    "problem_photo": "none",
}


@pytest.mark.parametrize(
    ("language", "question", "yes", "no", "not_sent"),
    [
        (
            "en",
            "Send this report? A pothole or damaged road, at Calle Mayor 23, Riverside RV2 7LM. "
            "YES / NO",
            "yes",
            "no",
            "All right, I have not sent the report.",
        ),
        (
            "es",
            "¿Envío este aviso? Un bache o una calzada dañada, en Calle Mayor 23, "
            "Riverside RV2 7LM. SÍ / NO",
            "sí",
            "no",
            "De acuerdo, no he enviado el aviso.",
        ),
        (
            "ar",
            "هل أرسل هذا البلاغ؟ حفرة أو طريق متضرر، في Calle Mayor 23, Riverside RV2 7LM. "
            "نعم / لا",
            "نعم",
            "لا",
            "حسنًا، لم أرسل البلاغ.",
        ),
    ],
)
def test_the_report_is_sent_only_after_yes(
    rasa: Callable[..., Rasa], language: str, question: str, yes: str, no: str, not_sent: str
) -> None:
    chat = rasa(language=language)
    assert chat.run("action_ask_problem_confirmed", "", **REPORT)[0] == [question]
    asked = {**REPORT, "requested_slot": "problem_confirmed"}
    texts, slots = chat.run("validate_report_form", no, **asked, problem_confirmed=no)
    assert texts == [not_sent]
    assert slots["problem_category"] is None and slots["problem_place"] is None
    # Rasa's rule then runs the filing action, which files nothing unconfirmed.
    assert chat.run("action_report_problem", "", **REPORT) == (
        [],
        {
            **dict.fromkeys(
                ("problem_category", "problem_place", "problem_photo", "problem_confirmed")
            ),
            "problem_place_found": None,
        },
    )
    texts, slots = chat.run("validate_report_form", yes, **asked, problem_confirmed=yes)
    assert texts == [] and slots == {"problem_confirmed": "yes"}
    texts, slots = chat.run("validate_report_form", "jjjjjj", **asked, problem_confirmed="jjjjjj")
    assert len(texts) == 1 and slots == {"problem_confirmed": None}  # asked again


def test_on_the_web_chat_a_report_needs_a_sign_in(rasa: Callable[..., Rasa]) -> None:
    [text], slots = rasa(channel="web").run("validate_report_form", "pothole on Calle Mayor")
    assert text.startswith("To send a report from here, sign in first, or use the form:")
    assert slots["problem_category"] is None


def test_a_language_named_is_chosen_without_the_menu(rasa: Callable[..., Rasa]) -> None:
    [greeting], _slots = rasa().run("action_language_menu", "in Spanish, please")
    assert greeting.startswith("Hola")
    [menu], _slots = rasa().run("action_language_menu", "I want to change the language")
    assert "1 English · 2 Español · 3 العربية" in menu
