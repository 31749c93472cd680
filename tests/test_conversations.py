"""The channel gateway's own rules, without the bot: languages, Twilio's forms, the bot's
endpoints and their secret, and that the bot's texts are the catalogue's (editors' too)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import insert

from backend_clients.http import BackendRejected, ClientConfig
from backend_clients.twilio import TwilioClient
from conftest import ROOT, run_async
from portal.conversations.gateway import _worded
from portal.conversations.language import choice, detect, menu
from portal.conversations.models import Conversation
from portal.conversations.twilio_webhook import inbound_message
from portal.i18n.catalogue import load_catalogues
from portal.i18n.locale import DEFAULT_LANGUAGE, use_locale
from portal.settings import SANDBOX_BOT_SECRET
from tests.journey_support import execute
from tests.test_translations import editor, newest_draft, propose, publish

BOT = {"Authorization": f"Bearer {SANDBOX_BOT_SECRET}"}
THANKS = "You're welcome. Can I help with anything else?"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("hola", "es"),
        ("Hello!", "en"),
        ("where is my application please", "en"),
        ("dónde está mi solicitud", "es"),
        ("مرحبا", "ar"),
        ("FD-M5AT-48BY", None),  # a reference alone says nothing of its language
        ("", None),
    ],
)
def test_the_language_of_a_message(text: str, language: str | None) -> None:
    assert detect(text) == language


def test_the_language_menu_takes_numbers_codes_and_names() -> None:
    assert menu() == "1 English · 2 Español · 3 العربية"
    for answer, language in (("2", "es"), ("٣", "ar"), (" 1. ", "en"), ("Español", "es")):
        assert choice(answer) == language
    assert choice("4") is None
    assert choice("yes") is None


def test_twilio_forms_with_media_or_a_place_and_no_text() -> None:
    whatsapp = inbound_message(
        {
            "From": "whatsapp:+34600111222",
            "Body": "",
            "NumMedia": "2",
            "MediaUrl0": "https://api.twilio.com/media/1",
            "MediaUrl1": "https://api.twilio.com/media/2",
            "Latitude": "40.4",
            "Longitude": "-3.7",
            "MessageSid": "SM1",
        }
    )
    assert whatsapp is not None
    assert (whatsapp.channel, whatsapp.address, whatsapp.text) == ("whatsapp", "+34600111222", "")
    assert whatsapp.media == ("https://api.twilio.com/media/1", "https://api.twilio.com/media/2")
    assert whatsapp.location == {"latitude": 40.4, "longitude": -3.7}
    sms = inbound_message(
        {"From": "+447400123456", "Body": "hi", "NumMedia": "x", "Latitude": "500"}
    )
    assert sms is not None and sms.channel == "sms" and sms.media == () and sms.location is None
    assert inbound_message({"Body": "no sender"}) is None


def _conversation(database_url: str, key: str, language: str) -> None:
    row = {"key": key, "channel": "sms", "address": f"+3460{key[-7:]}", "language": language}
    run_async(
        execute(database_url, insert(Conversation).values(**row, language_fixed=True, status="bot"))
    )


def test_the_bot_says_what_editors_publish(
    portal_factory: Callable[..., TestClient[Any]], database_url: str
) -> None:
    _conversation(database_url, "a" * 25 + "1234567", "es")
    bot = portal_factory(database_url=database_url, catalogue_check_seconds=0)
    request = {"response": "utter_thank", "tracker": {"sender_id": "a" * 25 + "1234567"}}
    before = bot.post("/bot/nlg", json=request, headers=BOT)
    assert before.status_code == 200
    assert before.json()["text"] == "De nada. ¿Puedo ayudarle en algo más?"
    eli = editor(portal_factory, database_url, "editor")
    rui = editor(portal_factory, database_url, "reviewer")
    assert propose(eli, "es", THANKS, "¡De nada! ¿Algo más?").status_code == 303
    assert publish(rui, newest_draft(rui, "es", THANKS)).status_code == 303
    assert bot.post("/bot/nlg", json=request, headers=BOT).json()["text"] == "¡De nada! ¿Algo más?"


def test_the_bots_named_replies_reach_the_citizen_worded_in_their_language() -> None:
    """Rasa answers with the names of its fixed replies; the citizen never reads a name."""
    load_catalogues(ROOT / "locales")
    use_locale("es")
    try:
        assert _worded("utter_thank") == "De nada. ¿Puedo ayudarle en algo más?"
        assert _worded("utter_greet").startswith("Hola")  # type: ignore[union-attr]
        assert _worded("utter_no_such_reply") is None  # logged; the citizen hears sorry instead
        assert _worded("Estos servicios: ...") == "Estos servicios: ..."  # an action's own text
        assert _worded("") is None
    finally:
        use_locale(DEFAULT_LANGUAGE)


def test_the_bots_endpoints_refuse_without_the_secret(web: TestClient[Any]) -> None:
    for path in ("/bot/nlg", "/bot/actions"):
        assert web.post(path, json={"response": "utter_greet"}).status_code == 401
        wrong = {"Authorization": "Bearer sandbox-bot-secreT"}
        assert web.post(path, json={"response": "utter_greet"}, headers=wrong).status_code == 401


def test_an_unknown_action_or_conversation_is_a_404(
    portal_factory: Callable[..., TestClient[Any]], database_url: str
) -> None:
    _conversation(database_url, "b" * 25 + "7654321", "en")
    bot = portal_factory(database_url=database_url)
    known = {"next_action": "action_teleport", "sender_id": "b" * 25 + "7654321", "tracker": {}}
    answer = bot.post("/bot/actions", json=known, headers=BOT)
    assert answer.status_code == 404 and answer.json()["action_name"] == "action_teleport"
    stranger = {"next_action": "action_find_service", "sender_id": "nobody", "tracker": {}}
    assert bot.post("/bot/actions", json=stranger, headers=BOT).status_code == 404


def test_only_the_accounts_own_media_are_fetched() -> None:
    """A MediaUrl in an incoming message is fetched with our Twilio credentials: never from
    another host or account, whatever the message says."""
    client = TwilioClient(
        ClientConfig(base_url="https://api.twilio.com", timeout=httpx.Timeout(1.0)),
        account_sid="AC1",
    )
    for url in (
        "https://attacker.example/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        "https://api.twilio.com/2010-04-01/Accounts/AC2/Messages/MM1/Media/ME1",
        "http://169.254.169.254/latest/meta-data",
    ):
        with pytest.raises(BackendRejected):
            run_async(client.fetch_media(url, 1000))
    run_async(client.aclose())
