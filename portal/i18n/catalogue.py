"""gettext over the compiled catalogues in locales/, in the current request's language.

The same catalogue serves Python code and templates (and, later, the bot). Messages use named
placeholders: gettext("Hello %(name)s", name=...).
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.plurals import get_plural
from babel.support import LazyProxy, Translations

from portal.i18n.locale import LANGUAGES, babel_locale, current_locale

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


def load_catalogues(locales_dir: Path) -> None:
    """Load every language's compiled catalogue once, at start."""
    for language in LANGUAGES:
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
        if not changes:
            _catalogues[language] = base
            continue
        merged = copy.copy(base)
        catalog = dict(base._catalog)
        for key, forms in changes.items():
            if len(forms) == 1:
                catalog[key] = forms[0]
            else:
                for index, text in enumerate(forms):
                    catalog[(key, index)] = text
        merged._catalog = catalog
        _catalogues[language] = merged
    _generation[0] += 1


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


def _translations() -> Translations:
    return _catalogues.get(current_locale()) or Translations()


def _format(text: str, variables: dict[str, Any]) -> str:
    return text % variables if variables else text


def gettext(message: str, **variables: Any) -> str:
    """Translate `message` into the current language and fill its named placeholders."""
    return _format(_translations().gettext(message), variables)


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Plural-aware gettext; `num` is also available as %(num)s."""
    variables.setdefault("num", num)
    return _format(_translations().ngettext(singular, plural, num), variables)


def pgettext(context: str, message: str, **variables: Any) -> str:
    """gettext for a word whose meaning depends on `context`."""
    return _format(str(_translations().pgettext(context, message)), variables)


def npgettext(context: str, singular: str, plural: str, num: int, **variables: Any) -> str:
    """Plural-aware pgettext."""
    variables.setdefault("num", num)
    return _format(_translations().npgettext(context, singular, plural, num), variables)


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
    translations = _translations()
    return {
        category: translations.ngettext(singular, plural, number) % {"count": "%{count}"}
        for category, number in _plural_examples(current_locale()).items()
    }
