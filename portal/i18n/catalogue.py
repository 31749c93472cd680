"""gettext over the compiled catalogues in locales/, in the current request's language.

The same catalogue serves Python code and templates (and, later, the bot). Messages use named
placeholders: gettext("Hello %(name)s", name=...).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from babel.support import LazyProxy, Translations

from portal.i18n.locale import LANGUAGES, babel_locale, current_locale

_catalogues: dict[str, Translations] = {}


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
