"""Whether a service's page must say it is shown in English in the reader's language.

A designer may publish a version before a language has all its texts, naming that language as
an English fallback; its readers are then told, on the service's pages, for as long as any of
the version's texts is still untranslated there.
"""

from __future__ import annotations

from typing import Any

from portal.catalogue.loader import Catalogue
from portal.catalogue.models import Service
from portal.design.translations import texts_of
from portal.i18n import catalogue as served
from portal.i18n.locale import current_locale, native_name

_texts: dict[tuple[str, int, int], list[str]] = {}  # (service, number, catalogue generation)


def english_fallback(request: Any, service: Service | None, number: int | None = None) -> str:
    """The reader's language's name when this version is shown to them partly in English
    (a fallback the designer accepted), else ""."""
    if service is None:
        return ""
    catalogue: Catalogue = request.app.state.catalogue
    number = number or catalogue.number_of(service.id)
    language = current_locale()
    if number is None or language not in catalogue.fallbacks.get((service.id, number), ()):
        return ""
    live = getattr(request.app.state, "live", None)
    generation = live.generation if live is not None else 0
    key = (service.id, number, generation)
    if key not in _texts:
        source = live.sources.get((service.id, number), "") if live is not None else ""
        _texts[key] = texts_of(source)
    translations = served._catalogues.get(language)
    known = translations._catalog if translations is not None else {}
    if all(known.get(text) for text in _texts[key]):
        return ""
    return native_name(language)
