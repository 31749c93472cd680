"""Pages in every language: lang and dir, translated text, localized error pages, no traces."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from tests.support import give_feedback

HOME_HEADINGS = {"en": "City services", "es": "Servicios municipales", "ar": "خدمات المدينة"}
NOT_FOUND = {"en": "Page not found", "es": "Página no encontrada", "ar": "الصفحة غير موجودة"}
DIRECTIONS = {"en": "ltr", "es": "ltr", "ar": "rtl"}


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_home_page_speaks_the_browser_language(web: TestClient[Any], language: str) -> None:
    page = web.get("/", headers={"accept-language": language})
    assert page.status_code == 200
    assert f'<html lang="{language}" dir="{DIRECTIONS[language]}"' in page.text
    assert f'<h1 class="govuk-heading-xl">{HOME_HEADINGS[language]}</h1>' in page.text
    stylesheet = "app-rtl." if language == "ar" else "app."
    assert f'href="/static/{stylesheet}' in page.text


def test_the_switcher_names_each_language_in_itself(web: TestClient[Any]) -> None:
    page = web.get("/", headers={"accept-language": "es"}).text
    assert 'aria-current="true" lang="es" dir="ltr">Español</span>' in page
    assert (
        'href="/language/en?next=/" rel="alternate" lang="en" hreflang="en" dir="ltr">English</a>'
        in page
    )
    assert 'lang="ar" hreflang="ar" dir="rtl">العربية</a>' in page


@pytest.mark.parametrize("path", ["/accessibility", "/privacy", "/cookies"])
def test_every_service_page_is_there_and_linked_from_the_footer(
    web: TestClient[Any], path: str
) -> None:
    page = web.get(path, headers={"accept-language": "es"})
    assert page.status_code == 200
    assert f'class="govuk-footer__link" href="{path}"' in web.get("/").text


def test_the_accessibility_statement_date_is_written_for_the_language(web: TestClient[Any]) -> None:
    assert (
        "23 de noviembre de 2026"
        in web.get("/accessibility", headers={"accept-language": "es"}).text
    )


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_not_found_is_a_localized_page(web: TestClient[Any], language: str) -> None:
    page = web.get("/no/such/page", headers={"accept-language": language})
    assert page.status_code == 404
    assert NOT_FOUND[language] in page.text
    assert f'<html lang="{language}" dir="{DIRECTIONS[language]}"' in page.text


def test_api_callers_get_json_errors(web: TestClient[Any]) -> None:
    response = web.get("/no/such/page", headers={"accept": "application/json"})
    assert response.status_code == 404
    assert response.json()["status_code"] == 404


def test_a_server_error_shows_a_reference_and_never_a_trace(
    portal_factory: Any, fresh_database: Any
) -> None:
    # A database without tables: saving feedback fails inside the handler.
    portal = portal_factory(database_url=fresh_database("postgresql"))
    response = give_feedback(portal, "/", language="es")
    assert response.status_code == 500
    assert "Lo sentimos, hay un problema con el servicio" in response.text
    assert response.headers["x-request-id"] in response.text
    for leak in ("Traceback", "page_feedback", "UndefinedTable", "sqlalchemy", "psycopg"):
        assert leak not in response.text


def test_server_errors_are_reported_with_console_logs_too(
    portal_factory: Any, fresh_database: Any
) -> None:
    portal = portal_factory(database_url=fresh_database("sqlite"), log_json=False)
    response = give_feedback(portal, "/")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.text


def test_the_error_page_still_answers_when_templates_fail(
    portal_factory: Any, tmp_path: Any
) -> None:
    portal = portal_factory(templates_dir=tmp_path)  # no templates at all
    page = portal.get("/no/such/page", headers={"accept-language": "ar"})
    assert page.status_code == 404
    assert '<html lang="ar" dir="rtl">' in page.text
    assert "الصفحة غير موجودة" in page.text
    broken = portal.get("/")
    assert broken.status_code == 500
    assert "Traceback" not in broken.text and "TemplateNotFound" not in broken.text
