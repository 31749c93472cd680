"""The assistant knows who is writing: a citizen signed in on the web chat, or writing from the
number on their profile once they send back the code sent there, asks "where is my
application?" without a reference and gets their applications with their states, in their
language; anyone else is asked for the reference."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from conftest import Sandbox
from e2e.test_chatbot import Phone, in_language
from tests.journey_support import fill_business, reference_of, submit
from tests.support import sign_in_as

LOCALES = {"en": "en-GB", "es": "es-ES", "ar": "ar"}
WHERE = {"en": "where is my application?", "es": "¿dónde está mi solicitud?", "ar": "أين طلبي؟"}
# On their profiles at the sandbox's identity provider; each writes in their own language.
NUMBERS = {"ana": "+34600111222", "omar": "+212600111222"}


def new_application(base_url: str, user: str) -> str:
    with httpx.Client(base_url=base_url) as citizen:
        assert sign_in_as(citizen, user, next_page="/applications").status_code == 303
        return reference_of(submit(citizen, fill_business(citizen)))


def listed(language: str, reference: str) -> str:
    """How a listed application reads while its departments work on it."""
    return in_language(
        language,
        "%(reference)s: %(service)s, %(state)s",
        reference=reference,
        service=in_language(language, "Open a business"),
        state=in_language(language, "In progress"),
    )


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_a_signed_in_citizen_on_the_web_chat_gets_their_applications(
    base_url: str, bot: str, new_context: Callable[..., BrowserContext], language: str
) -> None:
    reference = new_application(base_url, "omar")
    page = new_context(locale=LOCALES[language]).new_page()
    page.goto("/sign-in")
    page.get_by_role("button", name=in_language(language, "Continue to national sign-in")).click()
    page.get_by_role("button", name="Omar Haddad (omar)").click()
    page.goto("/chat")
    page.get_by_label(in_language(language, "Your message")).fill(WHERE[language])
    page.get_by_role("button", name=in_language(language, "Send")).click()
    reply = page.locator(".fd-chat__message--theirs").last
    expect(reply).to_contain_text(in_language(language, "Your applications:"))
    expect(reply).to_contain_text(listed(language, reference))  # the newest comes first
    expect(reply).not_to_contain_text("FD-7K3M-9QX2")  # not asked for a reference
    expect(reply).to_contain_text(in_language(language, "Send me a reference to get its news."))


@pytest.mark.parametrize(
    ("channel", "user", "language"), [("sms", "ana", "es"), ("whatsapp", "omar", "ar")]
)
def test_the_owner_of_a_number_gets_their_applications_after_the_code(
    base_url: str, bot: str, sandbox: Sandbox, channel: str, user: str, language: str
) -> None:
    reference = new_application(base_url, user)
    phone = Phone(base_url, sandbox, channel)
    phone.number = NUMBERS[user]
    phone.received = len(phone.inbox())
    texts = Phone(base_url, sandbox, "sms")  # the number's text messages, where codes go
    texts.number = NUMBERS[user]
    [ask] = phone.send(WHERE[language], expect=1 if channel == "whatsapp" else 2)[-1:]
    assert ask == in_language(
        language,
        "To see your applications here, send me the code I have just sent to this number "
        "by text message. Or send me an application's reference.",
    )
    code = re.search(r"\b(\d{6})\b", texts.inbox()[-1 if channel == "whatsapp" else -2])
    assert code, texts.inbox()[-2:]
    [wrong] = phone.send("000000" if code.group(1) != "000000" else "111111")
    assert wrong == in_language(
        language, "That code is not right, or it has expired. Ask me again for a new one."
    )
    phone.send(WHERE[language], expect=1 if channel == "whatsapp" else 2)
    code = re.search(r"\b(\d{6})\b", texts.inbox()[-1 if channel == "whatsapp" else -2])
    assert code
    [answer] = phone.send(code.group(1))
    assert answer.startswith(in_language(language, "Your applications:")), answer
    assert listed(language, reference) in answer
    # Proved once, the conversation is not asked again.
    [again] = phone.send(WHERE[language])
    assert again.startswith(in_language(language, "Your applications:")), again


def test_a_number_nobody_has_is_asked_for_the_reference(
    base_url: str, bot: str, sandbox: Sandbox
) -> None:
    stranger = Phone(base_url, sandbox, "sms")
    [reply] = stranger.send(WHERE["en"])
    assert reply == in_language(
        "en",
        "Please send me your application's reference. It looks like FD-7K3M-9QX2 and is in "
        "the message we sent when you applied.",
    )
