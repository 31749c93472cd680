"""Which language to answer in when the citizen has not said: the profile's when the number is
known, else the language the message is written in. py3langid ships its model, so nothing is
downloaded; one-word openers it cannot tell apart are looked up in a short list instead."""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import TYPE_CHECKING

from portal.i18n.locale import languages, native_name

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

# Single words too short for a statistical guess, and common as a first message.
OPENERS = {
    "hi": "en",
    "hello": "en",
    "hey": "en",
    "help": "en",
    "thanks": "en",
    "yes": "en",
    "hola": "es",
    "buenas": "es",
    "ayuda": "es",
    "gracias": "es",
    "si": "es",
    "sí": "es",
}
SURE = 0.95  # below this the guess is ignored and the conversation keeps its language
CERTAIN = 0.999  # among the languages served, sure enough when no other language is likely
ELSEWHERE = 0.9  # a message this surely in a language not served is not guessed as one served
NO_LANGUAGE = "zxx"  # py3langid's answer for text with no language in it (keyboard mashing)
DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


@cache
def _identifier(among: tuple[str, ...] = ()) -> LanguageIdentifier:
    """Telling apart the languages `among`, or all those py3langid knows."""
    # Imported here: it brings numpy (most of a second), which the outbox worker, restarted
    # after a crash, must not wait for before it delivers anything.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    if among:
        identifier.set_languages([code.split("_")[0] for code in among])
    return identifier


def warm_up() -> None:
    """Load the models (half a second each) before the first message needs them."""
    _identifier(languages())
    _identifier()


def detect(text: str) -> str | None:
    """The language `text` is surely written in, or None when it cannot be told."""
    words = text.strip().casefold().split()
    if not words:
        return None
    if any(unicodedata.bidirectional(char) == "AL" for char in text):  # Arabic letters
        return "ar" if "ar" in languages() else None
    if len(words) == 1 and words[0].strip("!.?¡¿") in OPENERS:
        return OPENERS[words[0].strip("!.?¡¿")]
    language, probability = _identifier(languages()).classify(text)
    if probability < SURE:
        return None
    # Among every language it knows, the model must see the same one: French is not taken for
    # English, nor "blah blah" for anything, because those are all the languages served. A few
    # words it cannot place anywhere ("farola rota en la plaza": Esperanto, at 0.35) count when
    # they are all but certainly one language served.
    anywhere, elsewhere = _identifier().classify(text)
    if anywhere == language or (probability >= CERTAIN and elsewhere < ELSEWHERE):
        return str(language)
    return None


def unserved(text: str) -> bool:
    """Whether `text` is surely written in a language this portal does not serve ("Bonjour, je
    voudrais savoir où en est ma demande" to a portal in English, Spanish and Arabic)."""
    if len(text.split()) < 2 or any(unicodedata.bidirectional(c) == "AL" for c in text):
        return False
    language, probability = _identifier().classify(text)
    served = {code.split("_")[0] for code in languages()}
    return language not in (*served, NO_LANGUAGE) and probability >= ELSEWHERE


def spoken() -> str:
    """The languages served, each named in itself: "English, Español, العربية"."""
    return ", ".join(native_name(code) for code in languages())


def menu() -> str:
    """The choice of languages, each named in itself: "1 English · 2 Español · 3 العربية"."""
    return " · ".join(f"{number} {native_name(code)}" for number, code in _numbered())


def _numbered() -> list[tuple[int, str]]:
    return list(enumerate(languages(), start=1))


def choice(text: str) -> str | None:
    """The language a reply to the menu picks: its number (Arabic digits too), code or name."""
    answer = text.strip().casefold().translate(DIGITS).strip(".)")
    for number, code in _numbered():
        if answer in {str(number), code, native_name(code).casefold()}:
            return code
    return None
