"""Dates, numbers and money formatted by Babel for the current language (Jinja filters).

Every date and time a person reads (pages, staff pages, receipts, messages) goes through
`format_date` or `format_datetime`: one style everywhere, in the city's time zone, in the
convention the city chose for each language (English as in Britain by default:
4 December 2026, 13:34). Both are set at start from FRONTDOOR_DATE_LOCALES and
FRONTDOOR_TIME_ZONE.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers

from portal.i18n.locale import babel_locale, current_locale

DEFAULT_DATE_LOCALES = {"en": "en_GB"}
DEFAULT_TIME_ZONE = "Europe/Madrid"
# Set by configure_dates (create_app, the worker): per language, the locale of its dates; the
# city's time zone.
_date_locales: dict[str, str] = dict(DEFAULT_DATE_LOCALES)
_zone: list[ZoneInfo] = [ZoneInfo(DEFAULT_TIME_ZONE)]


def configure_dates(locales: Mapping[str, str], time_zone: str) -> None:
    """Write each language's dates as `locales` says (a language not in it: its own way), in
    `time_zone`."""
    for code in locales.values():
        Locale.parse(code)  # an unknown locale fails here, at start
    _date_locales.clear()
    _date_locales.update(locales)
    _zone[0] = ZoneInfo(time_zone)


def _date_locale() -> Locale:
    language = current_locale()
    return babel_locale(_date_locales.get(language, language))


def city_zone() -> ZoneInfo:
    """The city's time zone: its days are the days staff pages count by."""
    return _zone[0]


def city_time(value: datetime) -> datetime:
    """`value` in the city's time zone (a naive value is UTC, as the database keeps it)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(_zone[0])


def format_date(value: date | datetime) -> str:
    """A date as the city writes it in the current language (4 December 2026,
    4 de diciembre de 2026); a moment is first put in the city's time zone."""
    day = city_time(value).date() if isinstance(value, datetime) else value
    return dates.format_date(day, format="long", locale=_date_locale())


def format_datetime(value: datetime) -> str:
    """A moment as the city writes it in the current language: its date as `format_date`
    writes it and the time to the minute, joined as the language joins them
    (4 December 2026, 13:34)."""
    language = current_locale()
    local = city_time(value)
    minute = local.replace(second=0, microsecond=0, tzinfo=None)
    return _datetime_text(_date_locales.get(language, language), str(local.tzinfo), minute)


@lru_cache(maxsize=4096)
def _datetime_text(locale_code: str, zone: str, local: datetime) -> str:
    """The words of a minute (`local`, in `zone`), kept: Babel takes about 10 µs to write them,
    and a page of the inbox writes 25 of the same minutes on every load. The zone is named in
    the key because two aware moments in different zones are equal when they are one instant."""
    locale = babel_locale(locale_code)
    day = dates.format_date(local.date(), format="long", locale=locale)
    time = dates.format_time(local, format="short", locale=locale)
    pattern = str(dates.get_datetime_format("medium", locale=locale))
    return pattern.replace("'", "").replace("{0}", time).replace("{1}", day)


def format_number(value: int | float | Decimal) -> str:
    """A number with the current language's separators."""
    return numbers.format_decimal(value, locale=babel_locale(current_locale()))


def format_money(value: int | float | Decimal, currency: str) -> str:
    """An amount of money in the current language's currency format."""
    return numbers.format_currency(value, currency, locale=babel_locale(current_locale()))


def format_minor(amount_minor: int, currency: str) -> str:
    """An amount given in minor units (cents), as the backends and the gateway give them."""
    return _minor_text(current_locale(), amount_minor, currency)


@lru_cache(maxsize=4096)
def _minor_text(language: str, amount_minor: int, currency: str) -> str:
    """The words of an amount, kept: Babel takes about 16 µs to write them, and a summary or a
    timeline writes the same few fees many times."""
    places = numbers.get_currency_precision(currency)
    return numbers.format_currency(
        Decimal(amount_minor).scaleb(-places), currency, locale=babel_locale(language)
    )


def format_duration(seconds: float) -> str:
    """A length of time in the largest unit that fits, as the current language says it
    (e.g. 45 sec, 3 min, 2 hr)."""
    return dates.format_timedelta(
        timedelta(seconds=seconds),
        threshold=1.5,
        format="short",
        locale=babel_locale(current_locale()),
    )


FILTERS = {
    "format_duration": format_duration,
    "format_date": format_date,
    "format_datetime": format_datetime,
    "format_number": format_number,
    "format_minor": format_minor,
    "format_money": format_money,
}
