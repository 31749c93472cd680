"""What the assistant does with messages it cannot understand, without the bot running: the
check that a message shares a word with what the bot was taught (chatbot/vocabulary.py, run
inside Rasa's pipeline), the language of nonsense and of a language not served, and the short
answers the portal gives itself (an empty or an over-long message) or words for the bot
(emoji alone, French, a photo alone), each in the citizen's language."""

from __future__ import annotations

import importlib.util
import random
import secrets
import sys
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import insert

from conftest import ROOT, Sandbox, free_port, run_async
from portal.app import create_app
from portal.conversations.language import detect, unserved
from portal.conversations.models import Conversation
from portal.i18n import gettext as _
from portal.i18n.catalogue import load_catalogues
from portal.i18n.locale import DEFAULT_LANGUAGE, LANGUAGE_COOKIE, use_locale
from portal.settings import SANDBOX_BOT_SECRET, Settings
from scripts.bot import nlu_examples
from tests.journey_support import execute
from tests.support import csrf_token
from tests.test_chat_turns import _received, _text

BOT = {"Authorization": f"Bearer {SANDBOX_BOT_SECRET}"}
EMPTY = {
    "en": "Your message was empty. Tell me in a few words what you need.",
    "es": "Su mensaje estaba vacío. Dígame en pocas palabras qué necesita.",
    "ar": "رسالتك فارغة. أخبرني في كلمات قليلة بما تحتاج إليه.",
}
TOO_LONG = {
    "en": "Your message is too long for me.",
    "es": "Su mensaje es demasiado largo para mí.",
    "ar": "رسالتك طويلة جدًا بالنسبة لي.",
}
NOT_UNDERSTOOD = {
    "en": "Sorry, I did not understand. I can find a service",
    "es": "Lo siento, no le he entendido. Puedo",
    "ar": "عذرًا، لم أفهم.",
}


def _said(language: str, message: str, **variables: Any) -> str:
    """A portal text as the citizen reads it in `language`."""
    load_catalogues(ROOT / "locales")
    use_locale(language)
    try:
        return _(message, **variables)
    finally:
        use_locale(DEFAULT_LANGUAGE)


def _vocabulary_module() -> Any:
    """chatbot/vocabulary.py as Rasa runs it (plain Python, found by its path)."""
    spec = importlib.util.spec_from_file_location("vocabulary", ROOT / "chatbot" / "vocabulary.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["vocabulary"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def taught() -> Any:
    """The vocabulary the bot learns: every example of its skills, not the out-of-scope ones."""
    texts = [
        text
        for path in sorted((ROOT / "chatbot" / "data" / "nlu").glob("*.yml"))
        for intent, text in nlu_examples(path)
        if intent != "out_of_scope"
    ]
    return _vocabulary_module().Vocabulary.learn(texts)


@pytest.mark.parametrize(
    "text",
    ["asdf qwerty zzz", "jjjjjj", "jajaja", "ههههه", "😂😂👍", "", "  ?! ", "zzkq vvbx plmf"],  # noqa: RUF001
)
def test_a_message_sharing_no_word_with_the_skills_is_not_understood(
    taught: Any, text: str
) -> None:
    assert not taught.shares(text)


@pytest.mark.parametrize(
    "text",
    [
        "WHERE is my application",  # case
        "dónde esta mi solicitud",  # an accent left out
        "أين طلبي",  # an Arabic letter variant the examples write otherwise
        "i want to payy",  # a typo
        "adiosito",  # another ending of a known word
        "FD-M5AT-48BY",  # a reference alone
        "2",  # an item of a list the bot gave
    ],
)
def test_a_message_with_a_word_of_the_skills_goes_to_the_classifier(taught: Any, text: str) -> None:
    assert taught.shares(text)


@pytest.mark.parametrize(
    "text", ["blah blah nothing", "asdf qwerty zzz", "bla bla bla nada", "Hello there"]
)
def test_nonsense_does_not_change_the_conversations_language(text: str) -> None:
    assert detect(text) is None


@pytest.mark.parametrize(
    ("text", "language"),
    [("farola rota en la plaza", "es"), ("where is my application", "en"), ("أين طلبي", "ar")],
)
def test_a_few_words_in_a_language_served_are_told(text: str, language: str) -> None:
    assert detect(text) == language


@pytest.mark.parametrize(
    "text",
    ["Bonjour, je voudrais savoir où en est ma demande", "Guten Tag, wo ist mein Antrag?"],
)
def test_a_language_not_served_is_not_mistaken_for_one_served(text: str) -> None:
    assert unserved(text)
    assert detect(text) is None


@pytest.mark.parametrize(
    "text", ["dónde está mi solicitud", "where is my application", "أين طلبي", "asdf qwerty"]
)
def test_the_languages_served_and_nonsense_are_not_another_language(text: str) -> None:
    assert not unserved(text)


def _conversation(database_url: str, channel: str, address: str, language: str) -> str:
    key = secrets.token_hex(16)
    row = {"key": key, "channel": channel, "address": address, "language": language}
    run_async(
        execute(database_url, insert(Conversation).values(**row, language_fixed=True, status="bot"))
    )
    return key


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    """No bot is running: what is answered here, the portal answers itself."""
    return make_settings(database_url=database_url, rasa_url=f"http://127.0.0.1:{free_port()}")


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_an_empty_or_over_long_text_gets_a_short_answer_in_the_citizens_language(
    settings: Settings, sandbox: Sandbox, language: str
) -> None:
    sender = f"+3463{random.randrange(10**7):07d}"
    _conversation(settings.database_url, "sms", sender, language)
    with TestClient(create_app(settings)) as twilio:
        _text(twilio, settings, sender, "")
        _text(twilio, settings, sender, "x" * 5000)
    empty, too_long = _received(sandbox, sender)
    assert empty == EMPTY[language]
    assert too_long.startswith(TOO_LONG[language])
    assert len(too_long) < 160  # one text message


def test_an_empty_first_text_is_answered_in_the_citys_language(
    settings: Settings, sandbox: Sandbox
) -> None:
    sender = f"+3464{random.randrange(10**7):07d}"
    with TestClient(create_app(settings)) as twilio:
        _text(twilio, settings, sender, "   ")
    assert _received(sandbox, sender) == [EMPTY[DEFAULT_LANGUAGE]]


@pytest.mark.parametrize("language", ["es", "ar"])
def test_the_web_chat_refuses_an_over_long_message_in_the_pages_language(
    web: TestClient[Any], language: str
) -> None:
    web.cookies.set(LANGUAGE_COOKIE, language)
    token = csrf_token(web.get("/chat").text)
    answer = web.post("/chat", data={"_csrf_token": token, "message": "x" * 5000})
    assert answer.status_code == 400
    assert _said(language, "Your message must be %(max)s characters or fewer", max=1000) in (
        answer.text
    )


def _fallback(client: TestClient[Any], key: str, text: str, **metadata: Any) -> list[str]:
    """What the portal answers when Rasa did not understand `text` (action_fallback)."""
    latest = {"text": text, "intent": {"name": "nlu_fallback"}, "metadata": metadata}
    events = [{"event": "user", "text": text}]
    request = {
        "next_action": "action_fallback",
        "sender_id": key,
        "tracker": {"latest_message": latest, "events": events},
    }
    answer = client.post("/bot/actions", json=request, headers=BOT)
    assert answer.status_code == 200
    return [response["text"] for response in answer.json()["responses"]]


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_emoji_a_fourth_language_and_a_photo_alone_each_get_an_answer(
    portal_factory: Callable[..., TestClient[Any]], database_url: str, language: str
) -> None:
    key = _conversation(database_url, "whatsapp", f"+3465{random.randrange(10**7):07d}", language)
    bot = portal_factory(database_url=database_url)
    [emoji] = _fallback(bot, key, "😂😂👍")
    assert emoji.startswith(NOT_UNDERSTOOD[language])
    [french] = _fallback(bot, key, "Bonjour, je voudrais savoir où en est ma demande")
    assert "English, Español, العربية" in french
    assert french != emoji and len(french) < 160
    media = ["https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"]
    [photo] = _fallback(bot, key, "/nlu_fallback", media=media)
    assert photo == _said(
        language,
        "Thank you, I received it. Tell me in a few words what you need, and I will help.",
    )
