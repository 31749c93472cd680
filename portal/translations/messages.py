"""Every message of the catalogue as editors see it: the English source, its context, where it
is used, and each language's compiled translation (read from the .pot and .po files at start)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from babel.messages.pofile import read_po, unescape

from portal.i18n.locale import languages
from portal.stamps import Stamps, stamps_of

SOURCE_LANGUAGE = "en"
# Files whose messages are sent as text messages (SMS or WhatsApp): their length is checked.
SMS_SOURCES = (
    "portal/applications/notify.py",
    "portal/identity/codes.py",
    "portal/conversations/",
)


def message_key(msgid: str, context: str | None) -> str:
    """A short stable id for URLs."""
    return hashlib.sha256(f"{context or ''}\x04{msgid}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Message:
    key: str
    msgid: str
    plural: str | None
    context: str | None
    locations: tuple[str, ...]

    @property
    def is_sms(self) -> bool:
        return any(place.startswith(SMS_SOURCES) for place in self.locations)


class Compiled(NamedTuple):
    """A message's translation in a language's .po file."""

    forms: list[str]
    fuzzy: bool
    # The English text the translation was made for, when the source has changed since (babel
    # update --previous keeps it as `#| msgid`); the translation is then fuzzy, not served.
    previous: str | None = None


@dataclass
class Messages:
    items: list[Message]
    by_key: dict[str, Message]
    base: dict[str, dict[str, Compiled]] = field(default_factory=dict)  # language -> key ->

    @property
    def languages(self) -> list[str]:
        return [language for language in languages() if language != SOURCE_LANGUAGE]


def load_messages(locales_dir: Path) -> Messages:
    """Every message of the catalogue and its translations as compiled, read once per version
    of the files: parsing the .po files takes Babel about 0.15 s, paid by every app that starts
    (each test starts one). Nothing changes a Messages once read (editors' texts are layered
    over it by `with_versions`)."""
    files = [locales_dir / "messages.pot"] + [
        locales_dir / language / "LC_MESSAGES" / "messages.po"
        for language in languages()
        if language != SOURCE_LANGUAGE
    ]
    return _read_messages(locales_dir, stamps_of(files))


@lru_cache(maxsize=8)
def _read_messages(locales_dir: Path, stamps: Stamps) -> Messages:
    """`stamps` (each file's path, time and size) only keys the cache."""
    with (locales_dir / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    items = []
    for entry in template:
        if not entry.id:
            continue
        ids = [str(part) for part in entry.id] if entry.pluralizable else [str(entry.id)]
        msgid, plural = ids[0], (ids[1] if len(ids) > 1 else None)
        places = tuple(f"{path}:{line}" if line else path for path, line in entry.locations)
        items.append(
            Message(message_key(msgid, entry.context), msgid, plural, entry.context, places)
        )
    found = Messages(items, {message.key: message for message in items})
    for language in found.languages:
        po = locales_dir / language / "LC_MESSAGES" / "messages.po"
        with po.open("rb") as handle:
            catalogue = read_po(handle)
        changed = previous_sources(po.read_text(encoding="utf-8"))
        translations: dict[str, Compiled] = {}
        for entry in catalogue:
            if not entry.id:
                continue
            msgid = str(entry.id[0]) if entry.pluralizable else str(entry.id)
            string = entry.string
            strings = list(string) if isinstance(string, (tuple, list)) else [string]
            forms = [str(text or "") for text in strings]
            key = message_key(msgid, entry.context)
            translations[key] = Compiled(forms, entry.fuzzy, changed.get(key))
        found.base[language] = translations
    return found


def previous_sources(po: str) -> dict[str, str]:
    """Message key -> the English text its translation was made for, from the `#| msgid` lines
    babel update --previous writes above a message whose source changed (Babel's reader skips
    them)."""
    found: dict[str, str] = {}
    previous: list[str] = []
    context: list[str] | None = None
    msgid: list[str] | None = None
    current: list[str] | None = None  # the field the next continuation line adds to
    for raw in po.splitlines():
        line = raw.strip()
        if line.startswith("#| msgid "):
            previous, current = [unescape(line[len("#| msgid ") :])], None
        elif line.startswith('#| "') and previous:
            previous.append(unescape(line[3:]))
        elif line.startswith("msgctxt "):
            context = [unescape(line[len("msgctxt ") :])]
            current = context
        elif line.startswith("msgid "):
            msgid = [unescape(line[len("msgid ") :])]
            current = msgid
        elif line.startswith('"') and current is not None:
            current.append(unescape(line))
        elif line.startswith(("msgstr", "msgid_plural")) and msgid is not None:
            if previous:
                key = message_key("".join(msgid), "".join(context) if context else None)
                found[key] = "".join(previous)
            previous, context, msgid, current = [], None, None, None
    return found


def with_versions(base: Messages, sources: dict[tuple[str, int], str]) -> Messages:
    """The messages of the compiled catalogue plus every text of the services' versions in the
    database, each placed as "service <id>, version <n>" (editors find them by that), so they
    are translated and published like any other message."""
    import yaml

    from portal.catalogue.extract import texts_in

    places: dict[str, list[str]] = {}
    texts: dict[str, str] = {}
    for (service_id, number), source in sorted(sources.items()):
        try:
            found = texts_in(source)
        except yaml.YAMLError:  # a draft that does not read yet: no texts to offer
            continue
        for line, text in found:
            key = message_key(text, None)
            texts[key] = text
            places.setdefault(key, []).append(f"service {service_id}, version {number}:{line}")
    items = []
    for message in base.items:
        extra = places.pop(message.key, None)
        if extra:
            locations = (*message.locations, *extra)
            message = Message(
                message.key, message.msgid, message.plural, message.context, locations
            )
        items.append(message)
    for key, extra in places.items():
        items.append(Message(key, texts[key], None, None, tuple(extra)))
    return Messages(items, {message.key: message for message in items}, base.base)
