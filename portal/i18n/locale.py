"""Which language a request is served in.

Order: the language the citizen chose with the switcher (a cookie), else the best match of the
browser's Accept-Language negotiated by Babel, else English.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import cache

from babel import Locale

DEFAULT_LANGUAGE = "en"  # the source language of every message
LANGUAGE_COOKIE = "frontdoor_lang"

_current: ContextVar[str] = ContextVar("locale", default=DEFAULT_LANGUAGE)
# The languages served, in the switcher's order: configuration (FRONTDOOR_LANGUAGES), set when
# the catalogues are loaded. A language needs nothing else than its catalogue in locales/.
_languages: list[tuple[str, ...]] = [("en", "es", "ar")]


def languages() -> tuple[str, ...]:
    """The languages this portal serves, the source language first."""
    return _languages[0]


def configure_languages(codes: tuple[str, ...]) -> None:
    """Serve `codes` (Babel locale identifiers such as "fr" or "pt_BR")."""
    for code in codes:
        Locale.parse(code)  # an unknown language fails here, at start
    _languages[0] = (DEFAULT_LANGUAGE, *(code for code in codes if code != DEFAULT_LANGUAGE))


def current_locale() -> str:
    """The language of the request being served."""
    return _current.get()


def use_locale(language: str) -> None:
    """Serve the rest of this request (or task) in `language`."""
    _current.set(language if language in languages() else DEFAULT_LANGUAGE)


@cache
def babel_locale(language: str) -> Locale:
    """Babel's data for a language, parsed once (formatting asks for it many times a page)."""
    return Locale.parse(language)


@cache
def text_direction(language: str) -> str:
    """ "rtl" for right-to-left scripts such as Arabic, from Babel's locale data."""
    order = Locale.parse(language).character_order
    return "rtl" if order == "right-to-left" else "ltr"


@cache
def native_name(language: str) -> str:
    """The language's name in itself, capitalised as a menu item: English, Español, العربية."""
    name = Locale.parse(language).get_display_name(language) or language
    return name[:1].upper() + name[1:]


def parse_accept_language(header: str) -> list[str]:
    """Language tags from an Accept-Language header, best first (q=0 excluded)."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            weighted.append((-quality, index, tag.replace("_", "-")))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(accept_language: str) -> str:
    """The supported language that best fits the browser's preferences."""
    preferred = parse_accept_language(accept_language)
    match = Locale.negotiate(preferred, list(languages()), sep="-") if preferred else None
    return str(match) if match else DEFAULT_LANGUAGE


def cookie_value(cookie_header: str, name: str) -> str | None:
    """One cookie's value, read pair by pair so that another site's malformed cookie on the same
    domain cannot hide ours (the standard library's parser stops at the first bad one)."""
    for pair in cookie_header.split(";"):
        key, _, value = pair.strip().partition("=")
        if key == name:
            return value.strip().strip('"')
    return None


def locale_for_request(
    cookie_header: str, accept_language: str, cookie_name: str = LANGUAGE_COOKIE
) -> str:
    """The language for a request, given its raw Cookie and Accept-Language headers (the
    language cookie is named `cookie_name`: prefixed over https)."""
    chosen = cookie_value(cookie_header, cookie_name)
    if chosen in languages():
        return str(chosen)
    return negotiate(accept_language)
