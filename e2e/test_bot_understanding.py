"""What people really type, against the real bot, on SMS, WhatsApp and the web chat in English,
Spanish and Arabic: keyboard mashing, "blah blah", a sentence about nothing the city does, and
"jjjjjj" after a yes/no question are each answered "I did not understand" with what the
assistant can do (never a skill it guessed); two such messages in a row reach a person. And bad
input (emoji alone, an empty or over-long text, French) gets a short answer, never silence."""

from __future__ import annotations

import pytest

from conftest import Sandbox
from e2e.test_chatbot import Phone, bot_says, in_language
from e2e.test_chatbot_tour import WebChat
from portal.conversations.responses import CAN_DO

SAYS = {
    "en": {
        "hello": "hello",
        "mashing": "asdf qwerty zzz",
        "help": "what can you do",
        "blah": "blah blah nothing",
        "thanks": "thank you",
        "unrelated": "the cat sat on the mat",
    },
    "es": {
        "hello": "hola",
        "mashing": "asdf qwerty zzz",
        "help": "qué puedes hacer",
        "blah": "bla bla bla nada",
        "thanks": "gracias",
        "unrelated": "el gato se sentó en la alfombra",
    },
    "ar": {
        "hello": "مرحبا",
        "mashing": "asdf qwerty zzz",
        "help": "ماذا يمكنك أن تفعل",
        "blah": "بلا بلا",
        "thanks": "شكرا",
        "unrelated": "كلبي اسمه ماكس",  # my dog is called Max
    },
}


def not_understood(language: str) -> str:
    """The answer to a message the bot did not understand, the first time in a row."""
    sorry = in_language(language, "Sorry, I did not understand.")
    person = in_language(language, "To talk to a person, write PERSON.")
    return f"{sorry} {in_language(language, CAN_DO)} {person}"


@pytest.mark.parametrize("channel", ["sms", "whatsapp", "web"])
@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_nonsense_is_not_understood_and_twice_in_a_row_reaches_a_person(
    base_url: str, bot: str, sandbox: Sandbox, language: str, channel: str
) -> None:
    says = SAYS[language]
    chat = WebChat(base_url, language) if channel == "web" else Phone(base_url, sandbox, channel)
    assert chat.send(says["hello"]) == [bot_says(language, "utter_greet")]
    # Not an application reference asked for: not understood, and what the bot can do.
    assert chat.send(says["mashing"]) == [not_understood(language)]
    assert chat.send(says["help"]) == [bot_says(language, "utter_help")]
    # Not "Goodbye".
    assert chat.send(says["blah"]) == [not_understood(language)]
    # A yes/no question ("Can I help with anything else?"): "jjjjjj" is not a yes.
    assert chat.send(says["thanks"]) == [bot_says(language, "utter_thank")]
    assert chat.send("jjjjjj") == [not_understood(language)]
    # Not a problem report: and the second misunderstanding in a row goes to a person.
    assert chat.send(says["unrelated"]) == [
        in_language(
            language,
            "Sorry, I still do not understand. I am putting you through to a person: they "
            "will answer in this conversation.",
        )
    ]


def test_bad_input_gets_a_short_answer_in_the_citizens_language(
    base_url: str, bot: str, sandbox: Sandbox
) -> None:
    phone = Phone(base_url, sandbox, "whatsapp")
    assert phone.send("hola") == [bot_says("es", "utter_greet")]
    [french] = phone.send("Bonjour, je voudrais savoir où en est ma demande")
    languages = "English, Español, العربية"
    sorry = in_language("es", "Sorry, I can only answer in %(languages)s.", languages=languages)
    assert french == f"{sorry} {in_language('es', 'To talk to a person, write PERSON.')}"
    assert phone.send("") == [
        in_language("es", "Your message was empty. Tell me in a few words what you need.")
    ]
    [too_long] = phone.send("No entiendo nada. " * 300)  # 5,100 characters
    assert too_long == in_language(
        "es",
        "Your message is too long for me. Tell me in a few words (at most %(max)s characters) "
        "what you need.",
        max="1000",
    )
    assert phone.send("gracias") == [bot_says("es", "utter_thank")]
    assert phone.send("😂😂👍") == [not_understood("es")]
