"""gettext over the compiled catalogues in locales/, in the current request's language.

The same catalogue serves Python code and templates (and, later, the bot). Messages use named
placeholders: gettext("Hello %(name)s", name=...).
"""

from __future__ import annotations

import copy
from collections import Counter
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.plurals import get_plural
from babel.support import LazyProxy, Translations

from portal.i18n.locale import (
    DEFAULT_LANGUAGE,
    babel_locale,
    configure_languages,
    current_locale,
    languages,
    use_locale,
)

_catalogues: dict[str, Translations] = {}
# The compiled catalogues as loaded; editors' published changes are laid over a copy of them.
_base: dict[str, Translations] = {}
# Bumped whenever the served catalogues are replaced, so that every overlay in the process
# (tests run several apps in one) knows its texts may no longer be the ones it laid.
_generation = [0]


def generation() -> int:
    return _generation[0]


class CatalogueMissing(RuntimeError):
    """The .mo files were not compiled (make translations)."""


def load_catalogues(locales_dir: Path, served: tuple[str, ...] | None = None) -> None:
    """Load the compiled catalogue of every language served (`served`, from the settings, or
    the ones served already), once, at start."""
    if served is not None:
        configure_languages(served)
    _catalogues.clear()
    for language in languages():
        if language == "en":
            _catalogues[language] = Translations()
            continue
        mo = locales_dir / language / "LC_MESSAGES" / "messages.mo"
        if not mo.exists():
            raise CatalogueMissing(f"{mo} is missing: run `make translations` to compile it")
        with mo.open("rb") as handle:
            _catalogues[language] = Translations(handle)
    _base.clear()
    _base.update(_catalogues)
    _generation[0] += 1


def catalogue_key(msgid: str, context: str | None = None) -> str:
    """How gettext files a message: its context and id joined by EOT."""
    return f"{context}\x04{msgid}" if context else msgid


def lay_over(overrides: dict[str, dict[str, list[str]]]) -> None:
    """Serve the compiled catalogues with `overrides` on top: language -> catalogue key ->
    the translation (one text, or one per plural form). Lookups cost what they did: the
    overrides are merged into a copy of each catalogue once, not consulted on every call."""
    for language, base in _base.items():
        changes = overrides.get(language)
        _catalogues[language] = _merged(base, changes) if changes else base
    _generation[0] += 1


def _merged(base: Translations, changes: dict[str, list[str]]) -> Translations:
    """A copy of `base` with `changes` (catalogue key -> its forms) in place of its texts."""
    merged = copy.copy(base)
    catalog = dict(base._catalog)
    for key, forms in changes.items():
        if len(forms) == 1:
            catalog[key] = forms[0]
        else:
            for index, text in enumerate(forms):
                catalog[(key, index)] = text
    merged._catalog = catalog
    return merged


# An editor's preview: for the rest of one request, one message of one language reads as the
# editor typed it (portal.translations.preview).
_preview: ContextVar[tuple[str, Translations] | None] = ContextVar("preview", default=None)


def preview(language: str | None, key: str = "", forms: list[str] | None = None) -> None:
    """Serve the rest of this request in `language` with `forms` for the message `key` (a
    catalogue key); None: no preview."""
    if language is None or language not in _catalogues:
        _preview.set(None)
        return
    _preview.set((language, _merged(_catalogues[language], {key: forms or [""]})))
    use_locale(language)


def previewing() -> bool:
    return _preview.get() is not None


def plural_count(language: str) -> int:
    """How many plural forms the language's catalogue has (Arabic six, Spanish two)."""
    return int(get_plural(language).num_plurals)


@cache
def plural_examples(language: str) -> list[list[int]]:
    """For each plural form of the catalogue, a few numbers that use it (for editors)."""
    choose = _base[language].plural if language in _base else (lambda n: int(n != 1))
    examples: list[list[int]] = [[] for _ in range(plural_count(language))]
    for number in range(0, 200):
        index = int(choose(number))
        if index < len(examples) and len(examples[index]) < 3:
            examples[index].append(number)
    return examples


# Messages served in the source language because the reader's language has no translation:
# (language, catalogue key) -> how often, since portal.translations.missing last took them.
_missing: Counter[tuple[str, str]] = Counter()


def take_missing() -> Counter[tuple[str, str]]:
    """The fallbacks counted since the last call (and forget them)."""
    taken = _missing.copy()
    _missing.clear()
    return taken


def _translations(key: str | tuple[str, int]) -> Translations:
    """The current language's catalogue; counts `key` when it has no translation of it."""
    language = current_locale()
    shown = _preview.get()
    if shown is not None and shown[0] == language:
        return shown[1]
    translations = _catalogues.get(language)
    if translations is None:
        return Translations()
    if language != DEFAULT_LANGUAGE and key and key not in translations._catalog:
        _missing[(language, key if isinstance(key, str) else key[0])] += 1
    return translations


def _format(text: str, variables: dict[str, Any]) -> str:
    return text % variables if variables else text


def gettext(message: str, **variables: Any) -> str:
    """Translate `message` into the current language and fill its named placeholders."""
    return _format(_translations(message).gettext(message), variables)


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Plural-aware gettext; `num` is also available as %(num)s."""
    variables.setdefault("num", num)
    translations = _translations((singular, 0))
    return _format(translations.ngettext(singular, plural, num), variables)


def pgettext(context: str, message: str, **variables: Any) -> str:
    """gettext for a word whose meaning depends on `context`."""
    translations = _translations(catalogue_key(message, context))
    return _format(str(translations.pgettext(context, message)), variables)


def npgettext(context: str, singular: str, plural: str, num: int, **variables: Any) -> str:
    """Plural-aware pgettext."""
    variables.setdefault("num", num)
    translations = _translations((catalogue_key(singular, context), 0))
    return _format(translations.npgettext(context, singular, plural, num), variables)


def lazy_gettext(message: str, **variables: Any) -> LazyProxy:
    """A message translated when it is shown, for texts defined at import time."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


@cache
def _plural_examples(language: str) -> dict[str, int]:
    """One number for each CLDR plural category of a language, found once."""
    locale = babel_locale(language)
    examples: dict[str, int] = {}
    for number in (*range(0, 120), 1000, 100000):
        examples.setdefault(locale.plural_form(number), number)
    return examples


def plural_texts(singular: str, plural: str) -> dict[str, str]:
    """A message in each CLDR plural category of the current language (Arabic has six), with
    %{count} left for GOV.UK Frontend's JavaScript to fill, as its i18n options expect."""
    translations = _translations((singular, 0))
    return {
        category: translations.ngettext(singular, plural, number) % {"count": "%{count}"}
        for category, number in _plural_examples(current_locale()).items()
    }
