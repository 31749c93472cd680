"""Every date a person reads is in one style, in the city's convention for the language and in
the city's time zone (not UTC): the one helper every page, receipt and message uses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from portal.i18n.formatting import (
    DEFAULT_DATE_LOCALES,
    DEFAULT_TIME_ZONE,
    configure_dates,
    format_date,
    format_datetime,
)
from portal.i18n.locale import use_locale
from portal.settings import SettingsError, load_settings

LATE = datetime(2026, 12, 4, 23, 34, 1, tzinfo=UTC)  # already the 5th in Madrid (UTC+1)


@pytest.fixture(autouse=True)
def city_defaults() -> Iterator[None]:
    configure_dates(DEFAULT_DATE_LOCALES, DEFAULT_TIME_ZONE)
    yield
    configure_dates(DEFAULT_DATE_LOCALES, DEFAULT_TIME_ZONE)
    use_locale("en")


@pytest.mark.parametrize(
    ("language", "moment", "day"),
    [
        ("en", "5 December 2026, 00:34", "5 December 2026"),
        ("es", "5 de diciembre de 2026, 0:34", "5 de diciembre de 2026"),
        ("ar", "5 ديسمبر 2026، 12:34 ص", "5 ديسمبر 2026"),
    ],
)
def test_a_moment_is_written_in_the_citys_time_zone_and_convention(
    language: str, moment: str, day: str
) -> None:
    use_locale(language)
    assert format_datetime(LATE) == moment
    assert format_date(LATE) == day  # the day in the city, not in UTC
    assert format_datetime(LATE.replace(tzinfo=None)) == moment  # the database's naive UTC


def test_summer_time_and_plain_dates() -> None:
    use_locale("en")
    assert format_datetime(datetime(2026, 7, 1, 22, 30, tzinfo=UTC)) == "2 July 2026, 00:30"
    assert format_date(date(2026, 12, 4)) == "4 December 2026"  # a date has no time zone


def test_the_convention_and_the_time_zone_are_settings() -> None:
    configure_dates({"en": "en_US"}, "America/New_York")
    use_locale("en")
    assert format_datetime(LATE) == "December 4, 2026, 6:34\u202fPM"
    use_locale("es")  # not listed: Spanish writes dates its own way
    assert format_date(LATE) == "4 de diciembre de 2026"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("FRONTDOOR_TIME_ZONE", "Europe/Atlantis"), ("FRONTDOOR_DATE_LOCALES", '{"en": "xx_QQ"}')],
)
def test_unknown_time_zones_and_locales_are_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()
