"""What the first message already says, against the real bot, in every language on every
channel: a greeting with a request gets the request answered; a report that names the problem
and the place is not asked for them again; the place the geocoder finds is confirmed (NO asks
for it again); and a report is filed only after YES to "Send this report?"."""

from __future__ import annotations

import re
from typing import Any

import pytest

from conftest import Sandbox
from e2e.test_chatbot import Phone, bot_says, filed, in_language, rows
from e2e.test_chatbot_tour import WebChat

SAYS = {
    "en": {
        "hello_status": "hi, where is my application?",
        "thanks_status": "thanks, and where is my application FD-0000-0000",
        "hello_bill": "hello, I want to pay my bill BL-7K3M-9QX1",
        "report": "there is a pothole on Calle Mayor",
        "report_here": "pothole on Calle Mayor 18",
        "other_place": "Calle Mayor 23",
        "yes": "yes",
        "no": "no",
    },
    "es": {
        "hello_status": "hola, ¿dónde está mi solicitud?",
        "thanks_status": "gracias, ¿y dónde está mi solicitud FD-0000-0000?",
        "hello_bill": "buenas tardes, quiero pagar la factura BL-7K3M-9QX1",
        "report": "hay un bache enorme en la calle Mayor",
        "report_here": "hay un bache en la calle Mayor 18",
        "other_place": "en la calle Mayor 23",
        "yes": "sí",
        "no": "no",
    },
    "ar": {
        "hello_status": "مرحبا، أين طلبي؟",
        "thanks_status": "شكرا، وأين طلبي FD-0000-0000؟",
        "hello_bill": "مرحبا، أريد دفع الفاتورة BL-7K3M-9QX1",
        "report": "حفرة كبيرة في Calle Mayor",
        "report_here": "حفرة في Calle Mayor 18",
        "other_place": "Calle Mayor 23",
        "yes": "نعم",
        "no": "لا",
    },
}
# The questions as each channel words them.
WHERE = {
    "sms": "Where is it? Write the street and number or a landmark.",
    "whatsapp": "Where is it? Write the street and number or a landmark, or share a location.",
}
PHOTO = {
    "sms": "Send a photo of the problem if you can take one safely, or write NO.",
    "web": "Photos can only be added on the web form. Write NO to send the report without one.",
}
STREET = "Calle Mayor, Riverside RV2 7LM"
NUMBER_23 = "Calle Mayor 23, Riverside RV2 7LM"
NUMBER_18 = "Calle Mayor 18, Riverside RV2 7LM"


def _chat(base_url: str, sandbox: Sandbox, language: str, channel: str) -> Phone | WebChat:
    return WebChat(base_url, language) if channel == "web" else Phone(base_url, sandbox, channel)


def _reports(database: str) -> int:
    [(count,)] = rows(
        database, "SELECT count(*) FROM applications WHERE service_id = 'report-a-problem'"
    )
    return int(count)


@pytest.mark.parametrize("channel", ["sms", "whatsapp", "web"])
@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_what_the_first_message_says_is_used_and_confirmed(
    base_url: str, bot: str, sandbox: Sandbox, live_database: str, language: str, channel: str
) -> None:
    says = SAYS[language]
    chat = _chat(base_url, sandbox, language, channel)

    def text(message: str, **variables: Any) -> str:
        return in_language(language, message, **variables)

    # A greeting with a request: the request is answered, not only the greeting.
    [status] = chat.send(says["hello_status"])
    if channel == "web":  # the signed-in citizen's own applications (item 4 of the issue)
        none_yet = text(
            "You have no applications yet. Every service you can apply for: %(link)s",
            link=f"{base_url}/services",
        )
        assert status.startswith(text("Your applications:")) or status == none_yet, status
    else:  # a number nobody has: asked for the reference
        assert status == text(
            "Please send me your application's reference. It looks like FD-7K3M-9QX2 "
            "and is in the message we sent when you applied."
        )
    # Thanks with a request and its reference: the reference is used, not asked for.
    [news] = chat.send(says["thanks_status"])
    link = f"{base_url}/applications"
    if channel == "web":
        assert news == text(
            "I cannot give news of %(reference)s here. Check the reference; if the application "
            "is yours, sign in to see it: %(link)s",
            reference="FD-0000-0000",
            link=link,
        )
    else:  # the same answer as for a real reference that is not this phone's
        assert news == text(
            "If %(reference)s is right, I have sent a code by text message to the phone number "
            "on the application. Send me the code here to get its news, or sign in to see it: "
            "%(link)s",
            reference="FD-0000-0000",
            link=link,
        )

    [bill] = chat.send(says["hello_bill"])  # the bill's reference is used, not asked for
    assert f"{base_url}/pay-a-bill?reference=BL-7K3M-9QX1" in bill

    # The problem and the place in the first message: neither is asked; the place is confirmed.
    [place] = chat.send(says["report"])
    assert place == text("Is it %(place)s? YES / NO", place=STREET)
    [where] = chat.send(says["no"])  # not that place: asked again
    assert where == text(WHERE.get(channel, WHERE["sms"]))
    [again] = chat.send(says["other_place"])
    assert again == text("Is it %(place)s? YES / NO", place=NUMBER_23)
    [photo] = chat.send(says["yes"])
    assert photo == text(PHOTO.get(channel, PHOTO["sms"]))
    [send] = chat.send(says["no"])
    problem = text("A pothole or damaged road")
    assert send == text(
        "Send this report? %(problem)s, at %(place)s. YES / NO", problem=problem, place=NUMBER_23
    )
    before = _reports(live_database)
    [not_sent] = chat.send(says["no"])  # NO: nothing is filed, and the citizen is told
    assert not_sent == text("All right, I have not sent the report.")
    assert _reports(live_database) == before

    # Once more with the number in the first message, and YES: filed.
    [place] = chat.send(says["report_here"])
    assert place == text("Is it %(place)s? YES / NO", place=NUMBER_18)
    chat.send(says["yes"])
    [send] = chat.send(says["no"])  # no photo
    assert send == text(
        "Send this report? %(problem)s, at %(place)s. YES / NO", problem=problem, place=NUMBER_18
    )
    if channel == "web":
        [confirmation] = chat.send(says["yes"])
        found = re.search(r"FD-[0-9A-Z]{4}-[0-9A-Z]{4}", confirmation)
        assert found, confirmation
        reference = found.group(0)
    else:
        assert isinstance(chat, Phone)
        reference = filed(chat.send(says["yes"], expect=2), language).group(0)
    [(answers,)] = rows(
        live_database, "SELECT answers FROM applications WHERE reference = %s", reference
    )
    assert answers["category"] == "pothole"
    assert answers["place"]["label"] == NUMBER_18  # the geocoder's address, with its position
    assert answers["place"]["lat"] and answers["place"]["lon"]


@pytest.mark.parametrize(
    ("language", "channel", "message", "problem", "place"),
    [
        ("en", "sms", "pothole on Calle Mayor", "A pothole or damaged road", STREET),
        (
            "es",
            "whatsapp",
            "farola rota en la plaza",
            "A street light that is broken or stays on",
            "Plaza de España, Riverside RV2 6NP",
        ),
        ("ar", "web", "حفرة في شارع النيل", "A pothole or damaged road", "شارع النيل"),
    ],
)
def test_the_issues_examples_are_not_asked_what_or_where(
    base_url: str,
    bot: str,
    sandbox: Sandbox,
    language: str,
    channel: str,
    message: str,
    problem: str,
    place: str,
) -> None:
    chat = _chat(base_url, sandbox, language, channel)
    [confirm] = chat.send(message)
    assert confirm == in_language(language, "Is it %(place)s? YES / NO", place=place)
    chat.send(SAYS[language]["yes"])  # the photo question
    [send] = chat.send(SAYS[language]["no"])
    assert send == in_language(
        language,
        "Send this report? %(problem)s, at %(place)s. YES / NO",
        problem=in_language(language, problem),
        place=place,
    )


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_a_language_named_in_the_first_message_is_not_asked_for(
    base_url: str, bot: str, sandbox: Sandbox, channel: str
) -> None:
    phone = Phone(base_url, sandbox, channel)
    assert phone.send("can you speak Spanish") == [bot_says("es", "utter_greet")]
    assert phone.send("thank you") == [bot_says("es", "utter_thank")]  # it holds
