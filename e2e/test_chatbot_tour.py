"""Every skill of the assistant, in every language, on every channel: one conversation per
language and channel (SMS, WhatsApp, the web chat) that asks what the bot can do, finds a
service, pays a bill, goes out of scope, reports a problem, asks where that report is, and
reaches a person and comes back, against the real bot."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from conftest import Sandbox
from e2e.test_chatbot import Phone, bot_says, filed, in_language
from portal.conversations.responses import CAN_DO
from portal.i18n.locale import LANGUAGE_COOKIE
from tests.support import csrf_token, sign_in_as

SAYS = {
    "en": {
        "help": "what can you do",
        "service": "how do I open a business?",
        "bill": "I want to pay my bill BL-7K3M-9QX1",
        "off": "tell me a joke",
        "report": "I want to report a problem in my street",
        "place": "14 Mill Lane, by the school",
        "no": "no",
        "yes": "yes",
        "status": "where is my application {reference}",
        "person": "I want to talk to a person",
    },
    "es": {
        "help": "qué puedes hacer",
        "service": "quiero abrir un negocio, qué necesito",
        "bill": "quiero pagar la factura BL-7K3M-9QX1",
        "off": "cuéntame un chiste",
        "report": "quiero avisar de un problema en mi calle",
        "place": "Calle del Molino 14, junto al colegio",
        "no": "no",
        "yes": "sí",
        "status": "dónde está mi solicitud {reference}",
        "person": "quiero hablar con una persona",
    },
    "ar": {
        "help": "ماذا يمكنك أن تفعل",
        "service": "كيف أفتح مشروع تجاري",
        "bill": "أريد دفع الفاتورة BL-7K3M-9QX1",
        "off": "قل لي نكتة",
        "report": "أريد الإبلاغ عن مشكلة في الشارع",
        "place": "شارع الطاحونة 14 قرب المدرسة",
        "no": "لا",
        "yes": "نعم",
        "status": "أين طلبي {reference}",
        "person": "أريد التحدث مع شخص",
    },
}
CITIZENS = {"en": "lee", "es": "ana", "ar": "omar"}  # for the web chat, which needs a sign-in
_REPLY = re.compile(
    r'fd-chat__message--theirs".*?<span class="fd-chat__text" dir="auto">(.*?)</span>', re.S
)


class WebChat:
    """A citizen signed in on the portal, writing in the chat panel as htmx does."""

    def __init__(self, base_url: str, language: str) -> None:
        self.client = httpx.Client(base_url=base_url, cookies={LANGUAGE_COOKIE: language})
        assert sign_in_as(self.client, CITIZENS[language]).status_code == 303
        self.client.cookies.set(LANGUAGE_COOKIE, language)  # the page's language is the chat's

    def send(self, text: str, expect: int = 1) -> list[str]:
        """Send `text`; the bot's replies, as the citizen reads them."""
        token = csrf_token(self.client.get("/chat").text)
        response = self.client.post(
            "/chat",
            data={"_csrf_token": token, "message": text},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200, response.text
        replies = [html.unescape(re.sub(r"<[^>]+>", "", m)) for m in _REPLY.findall(response.text)]
        assert len(replies) == expect, replies
        return replies


@pytest.mark.parametrize("channel", ["sms", "whatsapp", "web"])
@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_every_skill_in_every_language_on_every_channel(
    base_url: str, bot: str, sandbox: Sandbox, language: str, channel: str
) -> None:
    says = SAYS[language]
    chat = WebChat(base_url, language) if channel == "web" else Phone(base_url, sandbox, channel)

    def text(message: str, **variables: str) -> str:
        return in_language(language, message, **variables)

    assert chat.send(says["help"]) == [bot_says(language, "utter_help")]

    [services] = chat.send(says["service"])
    assert f"{base_url}/services/open-business" in services
    assert text("Open a business") in services

    [bill] = chat.send(says["bill"])
    assert f"{base_url}/pay-a-bill?reference=BL-7K3M-9QX1" in bill

    [off] = chat.send(says["off"])
    assert off.startswith(text("Sorry, I did not understand."))
    assert text(str(CAN_DO)) in off

    [question] = chat.send(says["report"])
    assert text("What is the problem? Reply with its number:") in question
    assert f"2. {text('A street light that is broken or stays on')}" in question
    [where] = chat.send("2")
    if channel == "whatsapp":  # where a location can be shared
        assert where == text(
            "Where is it? Write the street and number or a landmark, or share a location."
        )
    else:
        assert where == text("Where is it? Write the street and number or a landmark.")
    [photo] = chat.send(says["place"])
    if channel == "web":  # photos go through the web form, where they are checked
        assert photo == text(
            "Photos can only be added on the web form. Write NO to send the report without one."
        )
    else:
        assert photo == text("Send a photo of the problem if you can take one safely, or write NO.")
    [send] = chat.send(says["no"])  # sent only after YES
    assert send.startswith(text("Send this report? %(problem)s, at %(place)s. YES / NO")[:12])
    assert text("A street light that is broken or stays on") in send
    if channel == "web":
        [confirmation] = chat.send(says["yes"])
        found = re.search(r"FD-[0-9A-Z]{4}-[0-9A-Z]{4}", confirmation)
        assert found, confirmation
        reference = found.group(0)
    else:  # the report's news comes to the phone it was sent from
        reference = filed(chat.send(says["yes"], expect=2), language).group(0)

    [news] = chat.send(says["status"].format(reference=reference))
    assert news.startswith(
        text(
            "%(service)s, reference %(reference)s:",
            service=text("Report a problem in the street"),
            reference=reference,
        )
    )

    [person] = chat.send(says["person"])
    assert person == text(
        "I am putting you through to a person. Please stay here: they will answer in this "
        "conversation."
    )
    assert chat.send("BOT") == [bot_says(language, "utter_greet")]
