"""A version's texts and whether each served language has them.

A text is translated in a language when the compiled catalogue (locales/*.po) has it or an
editor's translation of it was published (portal.translations); the overlay serves either, so
a service's text needs nothing more than its English msgid.
"""

from __future__ import annotations

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from portal.catalogue.extract import texts_in
from portal.i18n import catalogue as compiled
from portal.i18n.locale import languages
from portal.translations.messages import message_key
from portal.translations.overlay import published_edits


def texts_of(source: str) -> list[str]:
    """Each translatable text of a definition once, in order (none when it is not YAML)."""
    try:
        found = texts_in(source)
    except yaml.YAMLError:  # a draft that does not read yet has no texts to translate
        return []
    return list(dict.fromkeys(text for _line, text in found))


def _compiled_has(language: str, msgid: str) -> bool:
    base = compiled._base.get(language)  # the .mo as loaded, without editors' changes
    return bool(base is not None and base._catalog.get(msgid))


async def untranslated(db: AsyncSession, source: str) -> dict[str, list[str]]:
    """Served language (not English) -> the version's texts it has no translation of."""
    texts = texts_of(source)
    missing: dict[str, list[str]] = {}
    for language in languages():
        if language == "en":
            continue
        edits = await published_edits(db, language)
        missing[language] = [
            text
            for text in texts
            if not _compiled_has(language, text)
            and not (message_key(text, None) in edits and any(edits[message_key(text, None)].forms))
        ]
    return missing
