"""The assistant end to end: signed Twilio webhooks into the live portal, a real Rasa server
with the trained model, the portal's NLG and action endpoints, and the replies read back from
the sandbox's Twilio message list, as a tester would read a phone."""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

import httpx
import psycopg
import pytest
from babel.support import LazyProxy

from conftest import ROOT, Sandbox
from portal.conversations.responses import CAN_DO, render
from portal.i18n import gettext as _
from portal.i18n.catalogue import load_catalogues
from portal.i18n.locale import use_locale
from scripts.text_the_bot import messages_url, post_message, received
from tests.journey_support import fill_business, reference_of, submit
from tests.support import sign_in_as

_numbers = itertools.count(1)


def new_number() -> str:
    """A phone number no other test writes from, so each test has its own conversation."""
    return f"+3460{int(time.time()) % 100000:05d}{next(_numbers):03d}"


def in_language(language: str, message: str | LazyProxy, **variables: Any) -> str:
    """A portal text (a message id, or a lazy text) as the portal words it in `language`."""
    load_catalogues(ROOT / "locales")
    use_locale(language)
    return str(message) if isinstance(message, LazyProxy) else _(message, **variables)


def bot_says(language: str, response: str) -> str:
    """A fixed reply of the bot, in `language`."""
    load_catalogues(ROOT / "locales")
    use_locale(language)
    return str(render(response))


class Phone:
    """A citizen's phone: sends through Twilio's signed webhook, reads what it received."""

    def __init__(self, base_url: str, sandbox: Sandbox, channel: str = "sms") -> None:
        self.base_url, self.sandbox, self.channel = base_url, sandbox, channel
        self.number = new_number()
        self.received = 0

    @property
    def address(self) -> str:
        return f"whatsapp:{self.number}" if self.channel == "whatsapp" else self.number

    def post(self, fields: dict[str, str], signature: str | None = None) -> httpx.Response:
        with httpx.Client() as client:
            body = fields.pop("Body", "")
            return post_message(client, self.base_url, self.address, body, signature, **fields)

    def inbox(self) -> list[str]:
        """Every message sent to this phone, oldest first."""
        with httpx.Client() as client:
            return received(client, self.sandbox.url, self.address)

    def send(self, text: str, expect: int = 1, **fields: str) -> list[str]:
        """Send `text`; the `expect` replies it gets (waits for them)."""
        response = self.post({"Body": text, **fields})
        assert response.status_code == 200, response.text
        assert "<Response>" in response.text
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            inbox = self.inbox()
            if len(inbox) >= self.received + expect:
                new = inbox[self.received :]
                self.received = len(inbox)
                return new
            time.sleep(0.05)
        raise AssertionError(f"no reply to {text!r}; inbox: {self.inbox()}")

    def nothing_more(self, seconds: float = 2) -> None:
        time.sleep(seconds)
        assert self.inbox()[self.received :] == []


def rows(database: str, query: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://")) as db:
        return list(db.execute(query, args).fetchall())


GREETINGS = {"en": "Hello there", "es": "hola, buenos días", "ar": "السلام عليكم"}


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_the_bot_greets_in_the_language_it_is_written_to(
    base_url: str, bot: str, sandbox: Sandbox, language: str, channel: str
) -> None:
    phone = Phone(base_url, sandbox, channel)
    [reply] = phone.send(GREETINGS[language])
    assert reply == bot_says(language, "utter_greet")


def test_the_citizen_switches_language_with_a_number(
    base_url: str, bot: str, sandbox: Sandbox
) -> None:
    phone = Phone(base_url, sandbox)
    [menu] = phone.send("I would like to change the language")
    assert "1 English · 2 Español · 3 العربية" in menu
    [greeting] = phone.send("2")
    assert greeting == bot_says("es", "utter_greet")
    # The choice holds even for a message that looks English.
    [thanks] = phone.send("thank you")
    assert thanks == bot_says("es", "utter_thank")


@pytest.mark.parametrize(
    ("language", "question"),
    [
        ("en", "how do I open a business?"),
        ("es", "quiero abrir un negocio, qué necesito"),
        ("ar", "كيف أفتح مشروع تجاري"),
    ],
)
def test_the_bot_finds_a_service(
    base_url: str, bot: str, sandbox: Sandbox, language: str, question: str
) -> None:
    [reply] = Phone(base_url, sandbox, "whatsapp").send(question)
    assert f"{base_url}/services/open-business" in reply
    assert in_language(language, "Open a business") in reply


def test_where_is_my_application_only_for_its_own_phone(
    base_url: str, bot: str, sandbox: Sandbox, live_database: str
) -> None:
    with httpx.Client(base_url=base_url) as omar:
        assert sign_in_as(omar, "omar", next_page="/applications").status_code == 303
        reference = reference_of(submit(omar, fill_business(omar)))
    # Omar's profile (from the identity provider) holds +212600111222, in Arabic.
    own = Phone(base_url, sandbox, "whatsapp")
    own.number = "+212600111222"
    own.received = len(own.inbox())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the worker sends it to the departments
        waiting = rows(
            live_database,
            "SELECT count(*) FROM department_requests r JOIN applications a"
            " ON a.id = r.application_id WHERE a.reference = %s AND r.case_id IS NULL",
            reference,
        )
        if waiting == [(0,)]:
            break
        time.sleep(0.2)
    [reply] = own.send(f"وين وصل طلبي {reference}")
    received = in_language("ar", "Received by the department")
    assert f"{in_language('ar', 'Tax office')}: {received}" in reply
    assert reference in reply
    assert in_language("ar", "Tax office") in reply
    assert f"{base_url}/applications/{reference}" in reply
    # From another phone: a code goes to the number on the application, and only its holder
    # hears the news. The answer is the same for a reference nobody has.
    omars_sms = Phone(base_url, sandbox, "sms")
    omars_sms.number = "+212600111222"
    codes_before = len(omars_sms.inbox())
    stranger = Phone(base_url, sandbox, "sms")
    [ask] = stranger.send(f"where is my application {reference}")
    assert ask == in_language(
        "en",
        "If %(reference)s is right, I have sent a code by text message to the phone number on "
        "the application. Send me the code here to get its news, or sign in to see it: %(link)s",
        reference=reference,
        link=f"{base_url}/applications",
    )
    [unknown] = stranger.send("where is my application FD-0000-0000")
    assert unknown == ask.replace(reference, "FD-0000-0000")
    [wrong] = stranger.send("123456")  # the code asked for last is the unknown one's
    assert wrong == in_language(
        "en", "That code is not right, or it has expired. Ask me again for a new one."
    )
    stranger.send(f"where is my application {reference}")
    [sms] = omars_sms.inbox()[codes_before + 1 :]  # the second code (the first no longer works)
    code = re.search(r"\b(\d{6})\b", sms)
    assert code, sms
    [news] = stranger.send(code.group(1))
    assert news.startswith(
        in_language(
            "en",
            "%(service)s, reference %(reference)s:",
            service=in_language("en", "Open a business"),
            reference=reference,
        )
    )


def test_a_payment_link_for_a_bill(base_url: str, bot: str, sandbox: Sandbox) -> None:
    [reply] = Phone(base_url, sandbox).send("I want to pay my bill BL-7K3M-9QX1")
    assert "60.00" in reply
    assert f"{base_url}/pay-a-bill?reference=BL-7K3M-9QX1" in reply
    page = httpx.get(f"{base_url}/pay-a-bill", params={"reference": "BL-7K3M-9QX1"})
    assert 'value="BL-7K3M-9QX1"' in page.text


def test_asking_for_a_person_queues_the_conversation(
    base_url: str, bot: str, sandbox: Sandbox, live_database: str
) -> None:
    phone = Phone(base_url, sandbox, "whatsapp")
    [reply] = phone.send("necesito hablar con una persona, por favor")
    assert reply == in_language(
        "es",
        (
            "I am putting you through to a person. Please stay here: they will answer in "
            "this conversation."
        ),
    )
    [waiting] = phone.send("sigo esperando")  # the bot is paused: a person answers
    assert waiting == in_language(
        "es",
        "A person will answer you here as soon as they can. To go back to the assistant, "
        "write BOT.",
    )
    phone.post({"Body": "¿hola?"})
    phone.nothing_more()  # told once, not at every message
    [[key]] = rows(live_database, "SELECT key FROM conversations WHERE address = %s", phone.number)
    with httpx.Client(base_url=base_url) as agent:  # the agents' inbox has it
        assert sign_in_as(agent, "agent", staff=True).status_code == 303
        assert f'href="/staff/inbox/{key}"' in agent.get("/staff/inbox").text
        page = agent.get(f"/staff/inbox/{key}").text
    for shown in ("necesito hablar", "¿hola?", "WhatsApp", "Español", "Asked for a person"):
        assert shown in page
    with httpx.Client(base_url=base_url) as citizen:
        assert sign_in_as(citizen, "lee").status_code == 303
        assert citizen.get("/staff/inbox", follow_redirects=False).status_code == 303
    with httpx.Client(base_url=base_url) as editor:
        assert sign_in_as(editor, "editor", staff=True).status_code == 303
        assert editor.get("/staff/inbox").status_code == 403
    # Nobody came: BOT takes the citizen back to the assistant.
    [greeting] = phone.send("BOT")
    assert greeting == bot_says("es", "utter_greet")
    [thanks] = phone.send("gracias")
    assert thanks == bot_says("es", "utter_thank")


def test_two_misunderstandings_in_a_row_reach_a_person(
    base_url: str, bot: str, sandbox: Sandbox, live_database: str
) -> None:
    phone = Phone(base_url, sandbox)
    [first] = phone.send("zzkq vvbx plmf")
    assert in_language("en", CAN_DO) in first  # says what it can do
    assert in_language("en", "To talk to a person, write PERSON.") in first
    [second] = phone.send("what is the capital of mongolia")
    assert second == in_language(
        "en",
        "Sorry, I still do not understand. I am putting you through to a person: they "
        "will answer in this conversation.",
    )
    [(status, reason)] = rows(
        live_database,
        "SELECT status, handoff_reason FROM conversations WHERE address = %s",
        phone.number,
    )
    assert (status, reason) == ("waiting", "not_understood")


def test_photos_and_places_are_accepted(
    base_url: str, bot: str, sandbox: Sandbox, live_database: str
) -> None:
    phone = Phone(base_url, sandbox, "whatsapp")
    [reply] = phone.send(
        "",
        NumMedia="1",
        MediaUrl0=f"{sandbox.url}/documents/photo.jpg",
        MediaContentType0="image/jpeg",
    )
    assert reply.startswith(
        in_language(
            "en", "Thank you, I received it. Tell me in a few words what you need, and I will help."
        )
    )
    phone.send("", Latitude="40.4168", Longitude="-3.7038")
    stored = rows(
        live_database,
        "SELECT m.media, m.location FROM chat_messages m JOIN conversations c"
        " ON c.id = m.conversation_id WHERE c.address = %s AND m.direction = 'in' ORDER BY m.id",
        phone.number,
    )
    assert stored[0][0] == [f"{sandbox.url}/documents/photo.jpg"]
    assert stored[1][1] == {"latitude": 40.4168, "longitude": -3.7038}


def test_a_bad_signature_is_refused_and_nothing_is_kept(
    base_url: str, bot: str, sandbox: Sandbox, live_database: str
) -> None:
    phone = Phone(base_url, sandbox)
    assert phone.post({"Body": "hello"}, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    assert phone.post({"Body": "hello"}, signature="").status_code == 403
    phone.nothing_more(1)
    assert (
        rows(live_database, "SELECT id FROM conversations WHERE address = %s", phone.number) == []
    )


def test_the_bots_endpoints_need_the_shared_secret(base_url: str) -> None:
    for path in ("/bot/nlg", "/bot/actions"):
        assert httpx.post(f"{base_url}{path}", json={}).status_code == 401
        wrong = {"Authorization": "Bearer not-the-secret"}
        assert httpx.post(f"{base_url}{path}", json={}, headers=wrong).status_code == 401


def filed(messages: list[str], language: str) -> re.Match[str]:
    """The bot's confirmation of a report and, from the worker, the "application sent" update
    on the same channel (the number's account gets its news there), in either order."""
    thanks = in_language(
        language,
        "Thank you: your report is on its way to public works. Its reference is %(reference)s. "
        "Send me the reference to hear how it goes.",
        reference="\x00",
    )
    [confirmation] = [m for m in messages if m.startswith(thanks.split("\x00")[0])]
    reference = re.search(r"FD-[0-9A-Z]{4}-[0-9A-Z]{4}", confirmation)
    assert reference, confirmation
    [update] = [m for m in messages if m != confirmation]
    assert reference.group(0) in update
    assert in_language(language, "Application sent") in update
    return reference


def test_a_problem_reported_on_whatsapp_with_a_location_and_a_photo(
    base_url: str, bot: str, sandbox: Sandbox, live_database: str
) -> None:
    phone = Phone(base_url, sandbox, "whatsapp")
    # The message says what the problem is (a "bache"), not where: only where is asked.
    [where] = phone.send("hay un bache enorme delante de mi casa")
    assert where == in_language(
        "es", "Where is it? Write the street and number or a landmark, or share a location."
    )
    [photo] = phone.send("", Latitude="40.41234", Longitude="-3.70111")
    assert photo == in_language(
        "es", "Send a photo of the problem if you can take one safely, or write NO."
    )
    media = f"{messages_url(sandbox.url).removesuffix('.json')}/MM{time.time_ns()}/Media/ME1"
    [send] = phone.send("", NumMedia="1", MediaUrl0=media, MediaContentType0="image/png")
    assert send == in_language(
        "es",
        "Send this report? %(problem)s, at %(place)s. YES / NO",
        problem=in_language("es", "A pothole or damaged road"),
        place="40.41234, -3.70111",
    )
    reference = filed(phone.send("sí", expect=2), "es")
    [(channel, answers)] = rows(
        live_database,
        "SELECT channel, answers FROM applications WHERE reference = %s",
        reference.group(0),
    )
    assert channel == "whatsapp"
    assert answers["category"] == "pothole"
    assert (answers["place"]["lat"], answers["place"]["lon"]) == (40.41234, -3.70111)
    assert answers["photo"]["content_type"] == "image/png"
    # The worker sends it to public works over Open311, with the place and the photo.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        reports = httpx.get(f"{sandbox.url}/open311/requests.json").json()
        found = [r for r in reports if r.get("lat") == 40.41234 and r.get("long") == -3.70111]
        if found:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the report did not reach public works")
    assert found[0]["service_code"] == "pothole"
    assert found[0]["media_url"].startswith(f"{sandbox.url}/documents/")


def test_a_problem_reported_by_sms_in_arabic_without_a_photo(
    base_url: str, bot: str, sandbox: Sandbox, live_database: str
) -> None:
    phone = Phone(base_url, sandbox)
    phone.send("أريد الإبلاغ عن مشكلة في الشارع")
    sorry, again = phone.send("شي غريب", expect=2)  # not a category: asked again
    assert sorry == in_language("ar", "Sorry, I did not get which problem it is.")
    assert in_language("ar", "What is the problem? Reply with its number:") in again
    [where] = phone.send("عمود الإنارة لا يعمل")  # "does not work": a category, not a "no"
    assert where == in_language("ar", "Where is it? Write the street and number or a landmark.")
    [photo] = phone.send("شارع النيل 12")
    assert photo == in_language(
        "ar", "Send a photo of the problem if you can take one safely, or write NO."
    )
    [send] = phone.send("لا")  # no photo
    assert in_language("ar", "A street light that is broken or stays on") in send
    reference = filed(phone.send("نعم", expect=2), "ar")
    [(answers,)] = rows(
        live_database, "SELECT answers FROM applications WHERE reference = %s", reference.group(0)
    )
    assert answers["category"] == "street-light"
    assert answers["place"]["label"] == "شارع النيل 12"
    assert "photo" not in answers
    # The number's own account holds it: signing in with a code to that number shows it.
    [(issuer, subject)] = rows(
        live_database,
        "SELECT c.issuer, c.subject FROM citizens c JOIN applications a ON a.citizen_id = c.id"
        " WHERE a.reference = %s",
        reference.group(0),
    )
    assert (issuer, subject) == ("urn:frontdoor:one-time-code", f"sms:{phone.number}")


def test_asking_for_a_person_in_the_middle_of_a_report(
    base_url: str, bot: str, sandbox: Sandbox, live_database: str
) -> None:
    phone = Phone(base_url, sandbox)
    phone.send("I want to report graffiti")
    phone.send("Calle Mayor 23")  # "Is it Calle Mayor 23, ...? YES / NO"
    [reply] = phone.send("I want to talk to a real person")
    assert reply == in_language(
        "en",
        "I am putting you through to a person. Please stay here: they will answer in this "
        "conversation.",
    )
    [(status,)] = rows(
        live_database, "SELECT status FROM conversations WHERE address = %s", phone.number
    )
    assert status == "waiting"


def test_no_stops_a_report_and_nothing_is_filed(
    base_url: str, bot: str, sandbox: Sandbox, live_database: str
) -> None:
    phone = Phone(base_url, sandbox)
    [question] = phone.send("there is a broken street light on my road")  # what, not where
    assert question == in_language("en", "Where is it? Write the street and number or a landmark.")
    [stopped] = phone.send("no")
    assert stopped == in_language("en", "All right, I have not reported anything.")
    phone.nothing_more(1)
    assert (
        rows(
            live_database,
            "SELECT a.id FROM applications a JOIN citizens c ON c.id = a.citizen_id"
            " WHERE c.phone = %s",
            phone.number,
        )
        == []
    )
    [hello] = phone.send("hello")  # and the bot goes on as before
    assert hello == bot_says("en", "utter_greet")
