"""DIGIT's localization messages as drafts for editors, like a PO file's: for every DIGIT code
whose English (en_IN) message is an English text of our catalogue, DIGIT's message of the same
code in each language we serve becomes a draft that another editor reviews and publishes.

Everything is read from DIGIT before anything is written; DIGIT down or answering with messages
of another locale changes nothing. A DIGIT locale belongs to one of our languages by its
language subtag (es_ES and es are Spanish, ar_IN is Arabic).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from backend_clients.digit import DigitClient
from backend_clients.http import BackendError, BackendRejected, BackendUnavailable
from portal.i18n import gettext as _
from portal.translations.checks import problems
from portal.translations.messages import Message as CatalogueMessage
from portal.translations.messages import Messages

ENGLISH = "en_IN"  # DIGIT's English
MODULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
LOCALE = re.compile(r"[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*")
# Why a matched text gives no draft in a language, in the order the result page lists them.
SKIPS = ("missing", "same", "waiting", "checks")


class DigitImportError(Exception):
    """Nothing was imported; the message is for the editor (translated)."""


def language_of(locale: str) -> str:
    """A locale's language subtag: es_ES, es-ES and es are "es"."""
    return re.split(r"[_-]", locale, maxsplit=1)[0].lower()


@dataclass(frozen=True)
class Proposal:
    """One draft to write: DIGIT's text of `code` for a message of ours in `language`."""

    message: CatalogueMessage
    language: str
    code: str
    before: list[str]
    after: list[str]


@dataclass
class Outcome:
    module: str
    locales: dict[str, str]  # our language -> DIGIT locale
    english: int = 0  # DIGIT's English texts read
    matched: int = 0  # of them, English texts of our catalogue
    unmatched: int = 0  # DIGIT texts that match no English text of ours
    duplicates: int = 0  # DIGIT codes whose English another code already gave
    proposals: list[Proposal] = field(default_factory=list)
    skipped: Counter[tuple[str, str]] = field(default_factory=Counter)  # (language, why) ->

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values()) + self.unmatched + self.duplicates


def checked_input(module: str, locales: dict[str, str]) -> list[str]:
    """Why the form cannot be used as filled in (empty: it can)."""
    errors = []
    if not MODULE.fullmatch(module):
        errors.append(_("Enter DIGIT's module, for example rainmaker-pgr"))
    for language, locale in locales.items():
        if not LOCALE.fullmatch(locale) or language_of(locale) != language_of(language):
            errors.append(
                _(
                    "%(locale)s is not a DIGIT locale of this language: enter one that starts "
                    "with %(language)s, such as %(language)s or %(language)s_IN",
                    locale=locale or "?",
                    language=language_of(language),
                )
            )
    if not locales:
        errors.append(_("Enter DIGIT's locale of at least one language"))
    return errors


async def _messages(client: DigitClient, locale: str, module: str) -> dict[str, str]:
    """DIGIT's texts of one locale by code; messages of another language are a bad answer."""
    found: dict[str, str] = {}
    for message in await client.messages(locale, module):
        if language_of(message.locale) != language_of(locale):
            raise BackendError(f"digit: asked for {locale}, answered {message.locale}")
        found.setdefault(message.code, message.message)
    return found


async def read_digit(
    client: DigitClient, module: str, locales: dict[str, str]
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """DIGIT's English texts and each language's, by code; or DigitImportError."""
    try:
        english = await _messages(client, ENGLISH, module)
        others = {
            language: await _messages(client, locale, module)
            for language, locale in locales.items()
        }
    except BackendUnavailable:
        raise DigitImportError(
            _(
                "DIGIT could not be reached or did not answer in time. Nothing was imported: "
                "try again in a few minutes."
            )
        ) from None
    except BackendRejected:
        raise DigitImportError(
            _(
                "DIGIT refused to give its messages. Nothing was imported: check the module "
                "and the locales, or ask DIGIT's administrators."
            )
        ) from None
    except BackendError:
        raise DigitImportError(
            _(
                "DIGIT's answer was not what the portal expects. Nothing was imported: tell "
                "DIGIT's administrators."
            )
        ) from None
    if not english:
        raise DigitImportError(
            _(
                "DIGIT has no English (%(locale)s) messages in %(module)s. Nothing was imported: "
                "check the module's name.",
                locale=ENGLISH,
                module=module,
            )
        )
    return english, others


def _same(text: str) -> str:
    return " ".join(text.split())


def propose(
    messages: Messages,
    module: str,
    locales: dict[str, str],
    english: dict[str, str],
    others: dict[str, dict[str, str]],
    served: dict[str, dict[str, list[str]]],
    waiting: dict[str, set[tuple[str, tuple[str, ...]]]],
) -> Outcome:
    """The drafts DIGIT's texts give, and what was skipped and why.

    `served`: language -> message key -> what it says now; `waiting`: language -> (key, forms)
    of drafts already waiting for review."""
    ours: dict[str, list[CatalogueMessage]] = {}
    for message in messages.items:
        if message.plural is None and message.context is None:
            ours.setdefault(_same(message.msgid), []).append(message)
    outcome = Outcome(module, locales, english=len(english))
    seen: set[str] = set()
    for code, text in english.items():
        found = ours.get(_same(text), [])
        if not found:
            outcome.unmatched += 1
            continue
        if _same(text) in seen:
            outcome.duplicates += 1
            continue
        seen.add(_same(text))
        outcome.matched += 1
        for message in found:
            for language in locales:
                _one(outcome, message, language, code, others, served, waiting)
    return outcome


def _one(
    outcome: Outcome,
    message: CatalogueMessage,
    language: str,
    code: str,
    others: dict[str, dict[str, str]],
    served: dict[str, dict[str, list[str]]],
    waiting: dict[str, set[tuple[str, tuple[str, ...]]]],
) -> None:
    translated = others.get(language, {}).get(code, "").strip()
    forms = [translated]
    before = served.get(language, {}).get(message.key, [""])
    if not translated:
        outcome.skipped[(language, "missing")] += 1
    elif forms == before:
        outcome.skipped[(language, "same")] += 1
    elif (message.key, tuple(forms)) in waiting.get(language, set()):
        outcome.skipped[(language, "waiting")] += 1
    elif problems(message, forms, 1):
        outcome.skipped[(language, "checks")] += 1
    else:
        outcome.proposals.append(Proposal(message, language, code, before, forms))


__all__ = [
    "ENGLISH",
    "SKIPS",
    "DigitImportError",
    "Outcome",
    "Proposal",
    "checked_input",
    "language_of",
    "propose",
    "read_digit",
]
