"""Security baseline: headers, CSRF, cookies, body size limit, request ids."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from conftest import run_async
from portal.database import make_engine
from portal.database.store import StoredValue
from tests.support import give_feedback


@pytest.mark.parametrize("path", ["/", "/no/such/page", "/healthz"])
def test_every_response_carries_the_security_headers(web: TestClient[Any], path: str) -> None:
    headers = web.get(path).headers
    policy = headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "strict-transport-security" not in headers


def test_hsts_is_sent_when_configured(portal_factory: Any) -> None:
    headers = portal_factory(hsts_seconds=31536000).get("/").headers
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


def test_pages_have_no_inline_script(web: TestClient[Any]) -> None:
    page = web.get("/").text
    assert page.count("<script") == page.count("<script src=") + page.count(
        '<script type="module" src='
    )


def test_a_form_without_its_csrf_token_is_refused_in_the_citizens_language(
    portal: TestClient[Any],
) -> None:
    portal.get("/")
    response = portal.post(
        "/feedback", data={"path": "/", "useful": "yes"}, headers={"accept-language": "ar"}
    )
    assert response.status_code == 403
    assert "تعذّر إرسال النموذج" in response.text


def test_a_forged_csrf_token_is_refused(portal: TestClient[Any]) -> None:
    portal.get("/")
    response = portal.post(
        "/feedback", data={"_csrf_token": "forged", "path": "/", "useful": "yes"}
    )
    assert response.status_code == 403


def test_the_session_cookie_is_an_opaque_id_kept_server_side(portal: TestClient[Any]) -> None:
    response = give_feedback(portal, "/privacy")
    cookie = next(
        value
        for value in response.headers.get_list("set-cookie")
        if value.startswith("frontdoor_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "privacy" not in cookie and "feedback" not in cookie


def test_cookies_are_secure_behind_https(portal_factory: Any, database_url: str) -> None:
    portal = portal_factory(public_url="https://services.example.gov", database_url=database_url)
    response = portal.get("/language/es", follow_redirects=False)
    assert "Secure" in response.headers["set-cookie"]


def test_a_body_over_the_limit_gets_a_clear_page(portal_factory: Any) -> None:
    portal = portal_factory(max_body_bytes=4096)
    response = give_feedback(portal, "/", path="/" + "a" * 10_000, language="es")
    assert response.status_code == 413
    assert "Lo que ha enviado es demasiado grande" in response.text


def test_a_sane_incoming_request_id_is_kept_and_a_bad_one_replaced(web: TestClient[Any]) -> None:
    assert (
        web.get("/healthz", headers={"x-request-id": "lb-1234abcd"}).headers["x-request-id"]
        == "lb-1234abcd"
    )
    replaced = web.get("/healthz", headers={"x-request-id": "<script>"}).headers["x-request-id"]
    assert replaced != "<script>" and len(replaced) == 32


def test_anonymous_visits_start_no_session(portal: TestClient[Any], database_url: str) -> None:
    """Sessions start only when something is kept in them: no store write, no cookie per view."""
    before = _stored_sessions(database_url)
    for path in ("/", "/cookies", "/no/such/page"):
        cookies = portal.get(path).headers.get_list("set-cookie")
        assert not any(cookie.startswith("frontdoor_session=") for cookie in cookies), path
    assert _stored_sessions(database_url) == before
    give_feedback(portal, "/")  # now something is kept: one session, in the database
    assert _stored_sessions(database_url) == before + 1


def _stored_sessions(url: str) -> int:
    async def count() -> int:
        engine = make_engine(url)
        async with engine.connect() as connection:
            total = await connection.scalar(select(func.count()).select_from(StoredValue))
        await engine.dispose()
        return int(total or 0)

    result: int = run_async(count())
    return result


def test_probes_set_no_cookies(web: TestClient[Any]) -> None:
    assert "set-cookie" not in web.get("/healthz").headers


def test_an_htmx_form_that_expired_gets_the_message_in_place(portal: TestClient[Any]) -> None:
    portal.get("/")
    response = portal.post(
        "/feedback",
        data={"path": "/", "useful": "yes"},
        headers={"hx-request": "true", "accept-language": "es"},
    )
    assert response.status_code == 403
    assert response.headers["hx-reswap"] == "innerHTML"
    assert "<html" not in response.text
    assert 'role="alert"' in response.text
    assert "No se ha podido enviar su formulario" in response.text


def test_pages_are_never_stored_by_shared_caches(web: TestClient[Any]) -> None:
    headers = web.get("/", headers={"accept-language": "es"}).headers
    assert headers["cache-control"] == "private, no-cache"
    assert "Accept-Language, Cookie" in headers.get_list("vary")


def test_the_api_description_is_served_without_third_party_viewers(web: TestClient[Any]) -> None:
    assert web.get("/schema/openapi.json").json()["info"]["title"] == "Front Door portal API"
    for viewer in ("/schema/swagger", "/schema/redoc", "/schema/elements"):
        assert web.get(viewer).status_code == 404


def test_a_session_id_the_browser_made_up_is_never_adopted(portal: TestClient[Any]) -> None:
    portal.cookies.set("frontdoor_session", "chosen-by-an-attacker")
    response = give_feedback(portal, "/privacy")
    issued = [
        cookie.split(";")[0].split("=", 1)[1]
        for cookie in response.headers.get_list("set-cookie")
        if cookie.startswith("frontdoor_session=")
    ]
    assert issued and issued[-1] != "chosen-by-an-attacker"
    assert "Thank you for your feedback." in portal.get("/privacy").text


def test_static_files_and_probes_never_carry_a_cookie(portal: TestClient[Any]) -> None:
    give_feedback(portal, "/")  # this browser now has a session
    css = next(url for url in re.findall(r'href="(/static/[^"]+\.css)"', portal.get("/").text))
    for path in (css, "/healthz", "/readyz"):
        assert "set-cookie" not in portal.get(path).headers, path


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("10.0.0.5", "203.0.113.7", "203.0.113.7"),  # from our load balancer
        ("10.0.0.5", "198.51.100.1, 203.0.113.7, 10.0.0.9", "203.0.113.7"),  # forged left part
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # not through a proxy: header ignored
        ("10.0.0.5", "", "10.0.0.5"),
    ],
)
def test_the_citizens_address_is_taken_from_trusted_proxies_only(
    peer: str, forwarded: str, expected: str
) -> None:
    from ipaddress import ip_network

    from portal.web.context import client_address

    assert client_address(peer, forwarded, (ip_network("10.0.0.0/8"),)) == expected
