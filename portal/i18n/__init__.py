"""Languages: which locale a request gets, the gettext catalogue, and Babel formatting."""

from portal.i18n.catalogue import gettext, lazy_gettext, ngettext, pgettext
from portal.i18n.locale import LANGUAGES, current_locale, text_direction

__all__ = [
    "LANGUAGES",
    "current_locale",
    "gettext",
    "lazy_gettext",
    "ngettext",
    "pgettext",
    "text_direction",
]
