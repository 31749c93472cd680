"""Languages: which locale a request gets, the gettext catalogue, and Babel formatting."""

from portal.i18n.catalogue import gettext, lazy_gettext, ngettext, pgettext
from portal.i18n.locale import current_locale, languages, text_direction

__all__ = [
    "current_locale",
    "gettext",
    "languages",
    "lazy_gettext",
    "ngettext",
    "pgettext",
    "text_direction",
]
