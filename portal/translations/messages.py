"""Every message of the catalogue as editors see it: the English source, its context, where it
is used, and each language's compiled translation (read from the .pot and .po files at start)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.pofile import read_po

from portal.i18n.locale import LANGUAGES

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


@dataclass
class Messages:
    items: list[Message]
    by_key: dict[str, Message]
    # language -> key -> (forms, fuzzy) as compiled from locales/
    base: dict[str, dict[str, tuple[list[str], bool]]] = field(default_factory=dict)

    @property
    def languages(self) -> list[str]:
        return [language for language in LANGUAGES if language != SOURCE_LANGUAGE]


def load_messages(locales_dir: Path) -> Messages:
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
        with (locales_dir / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalogue = read_po(handle)
        translations: dict[str, tuple[list[str], bool]] = {}
        for entry in catalogue:
            if not entry.id:
                continue
            msgid = str(entry.id[0]) if entry.pluralizable else str(entry.id)
            string = entry.string
            strings = list(string) if isinstance(string, (tuple, list)) else [string]
            forms = [str(text or "") for text in strings]
            translations[message_key(msgid, entry.context)] = (forms, entry.fuzzy)
        found.base[language] = translations
    return found
