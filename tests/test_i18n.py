"""Languages: negotiation, the switcher, complete catalogues, Babel formatting."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from litestar.testing import TestClient

from portal.i18n.formatting import format_date, format_money
from portal.i18n.locale import languages, negotiate, use_locale

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es-MX,es;q=0.9,en;q=0.5", "es"),
        ("fr-FR,fr;q=0.9,ar;q=0.8,en;q=0.1", "ar"),
        ("ar-EG", "ar"),
        ("fr", "en"),
        ("", "en"),
        ("es;q=0,en", "en"),
        ("en;q=0.2,es;q=0.8", "es"),
        ("garbage;;q=abc,,", "en"),
    ],
)
def test_accept_language_is_negotiated(header: str, expected: str) -> None:
    assert negotiate(header) == expected


def test_the_switcher_remembers_the_choice_over_the_browser_language(web: TestClient[Any]) -> None:
    response = web.get("/language/ar", params={"next": "/cookies"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/cookies"
    cookie = response.headers["set-cookie"]
    assert "frontdoor_lang=ar" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    page = web.get("/cookies", headers={"accept-language": "es"})
    assert '<html lang="ar" dir="rtl"' in page.text
    assert page.headers["content-language"] == "ar"


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "evil"]
)
def test_the_switcher_never_sends_people_to_another_site(web: TestClient[Any], target: str) -> None:
    response = web.get("/language/es", params={"next": target}, follow_redirects=False)
    assert response.headers["location"] == "/"


@pytest.mark.parametrize(
    "cookie", ['x={"a": 1}; frontdoor_lang=ar', "a=b c; frontdoor_lang=ar", "frontdoor_lang=ar"]
)
def test_the_language_cookie_survives_other_sites_malformed_cookies(
    web: TestClient[Any], cookie: str
) -> None:
    page = web.get("/", headers={"cookie": cookie, "accept-language": "en"})
    assert '<html lang="ar" dir="rtl"' in page.text


def test_an_unknown_language_is_not_found(web: TestClient[Any]) -> None:
    assert web.get("/language/xx", follow_redirects=False).status_code == 404


def _catalogue(language: str) -> Any:
    with (ROOT / "locales" / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


@pytest.mark.parametrize("language", [code for code in languages() if code != "en"])
def test_every_message_is_translated_with_the_same_placeholders(language: str) -> None:
    with (ROOT / "locales" / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    catalogue = _catalogue(language)
    for message in template:
        if not message.id:
            continue
        translated = catalogue.get(message.id, message.context)
        assert translated is not None, f"{language}: missing {message.id!r}"
        assert "fuzzy" not in translated.flags, f"{language}: fuzzy {message.id!r}"
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = translated.string if isinstance(translated.string, tuple) else (translated.string,)
        # Every plural form the language has (Arabic: six), each with the message's placeholders.
        assert len(forms) == (catalogue.num_plurals if message.pluralizable else 1)
        for form in forms:
            assert form, f"{language}: untranslated {message.id!r}"
            assert set(PLACEHOLDER.findall(form)) == set(PLACEHOLDER.findall(sources[-1])), form


def test_the_message_template_matches_the_code(tmp_path: Path) -> None:
    """A string added to code or templates without `make update-translations` fails here."""
    out = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [
            str(pybabel),
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-k",
            "plural_texts:1,2",
            "-o",
            str(out),
            ".",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # the catalogue's YAML extractor
        check=True,
        capture_output=True,
    )
    with out.open("rb") as fresh, (ROOT / "locales" / "messages.pot").open("rb") as committed:
        assert {m.id for m in read_po(fresh)} == {m.id for m in read_po(committed)}


def test_dates_and_money_follow_the_language() -> None:
    day = date(2026, 11, 23)
    use_locale("en")
    assert format_date(day) == "23 November 2026"  # as in Britain (FRONTDOOR_DATE_LOCALES)
    assert format_money(1234.5, "EUR") == "€1,234.50"
    use_locale("es")
    assert format_date(day) == "23 de noviembre de 2026"
    assert format_money(1234.5, "EUR") == "1.234,50\xa0€"
    use_locale("ar")
    assert "نوفمبر" in format_date(day)
    use_locale("en")
