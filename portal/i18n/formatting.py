"""Dates, numbers and money formatted by Babel for the current language (Jinja filters)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from babel import dates, numbers

from portal.i18n.locale import babel_locale, current_locale


def format_date(value: date | datetime, format: str = "long") -> str:
    """A date as the current language writes it (e.g. 23 November 2026, 23 de noviembre de 2026)."""
    return dates.format_date(value, format=format, locale=babel_locale(current_locale()))


def format_datetime(value: datetime, format: str = "medium") -> str:
    """A date and time as the current language writes it."""
    return dates.format_datetime(value, format=format, locale=babel_locale(current_locale()))


def format_number(value: int | float | Decimal) -> str:
    """A number with the current language's separators."""
    return numbers.format_decimal(value, locale=babel_locale(current_locale()))


def format_money(value: int | float | Decimal, currency: str) -> str:
    """An amount of money in the current language's currency format."""
    return numbers.format_currency(value, currency, locale=babel_locale(current_locale()))


def format_minor(amount_minor: int, currency: str) -> str:
    """An amount given in minor units (cents), as the backends and the gateway give them."""
    places = numbers.get_currency_precision(currency)
    return format_money(Decimal(amount_minor).scaleb(-places), currency)


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
