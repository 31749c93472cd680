"""Sessions at the edges: what a browser keeps after signing out, who sees what after another
person signs in on the same browser, and the CSRF token's tie to its session."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from portal.app import create_app
from portal.settings import Settings
from tests.support import csrf_token, sign_in_as

CSRF = "frontdoor_csrf"


def _session_cookie(response: Any, name: str = "frontdoor_session") -> str:
    return next(
        value for value in response.headers.get_list("set-cookie") if value.startswith(f"{name}=")
    )


def test_signing_out_expires_the_session_cookie_at_once(portal: TestClient[Any]) -> None:
    sign_in_as(portal, "omar")
    assert portal.cookies.get("frontdoor_session")
    token = csrf_token(portal.get("/account").text)
    response = portal.post("/sign-out", data={"_csrf_token": token}, follow_redirects=False)
    cookie = _session_cookie(response).lower()
    assert "max-age=0" in cookie and "path=/" in cookie and "httponly" in cookie
    assert portal.cookies.get("frontdoor_session") is None  # the browser holds nothing


def test_staff_signing_out_expires_the_session_cookie_at_once(portal: TestClient[Any]) -> None:
    sign_in_as(portal, "agent", next_page="/staff", staff=True)
    token = csrf_token(portal.get("/staff").text)
    response = portal.post("/staff/sign-out", data={"_csrf_token": token}, follow_redirects=False)
    assert "max-age=0" in _session_cookie(response).lower()
    assert portal.cookies.get("frontdoor_session") is None


def test_an_unknown_session_id_is_expired_not_kept(portal: TestClient[Any]) -> None:
    portal.cookies.set("frontdoor_session", "planted-by-someone")
    response = portal.get("/")
    assert "max-age=0" in _session_cookie(response).lower()


def _plant(client: TestClient[Any], name: str, value: str) -> None:
    """Overwrite a cookie in the browser's jar, as a cookie-injecting attacker would."""
    domain = next(cookie.domain for cookie in client.cookies.jar if cookie.name == name)
    client.cookies.set(name, value, domain=domain, path="/")


ACCEPTED = 400  # the form was taken, and its empty answer refused: nothing else happens


def _send_form(client: TestClient[Any], token: str, **headers: str) -> int:
    """Send "Get a sign-in code" with nothing typed: 400 when the form is accepted (no code
    sent, no limit counted), 403 when it is refused as forged."""
    data = {"_csrf_token": token, "contact": ""}
    return client.post("/sign-in/code", data=data, headers=headers).status_code


def test_a_token_from_another_session_is_refused(portal_factory: Any, database_url: str) -> None:
    ana, omar = (portal_factory(database_url=database_url) for _ in range(2))
    sign_in_as(ana, "ana")
    sign_in_as(omar, "omar")
    anas_token = csrf_token(ana.get("/account").text)
    omars_token = csrf_token(omar.get("/account").text)
    # Ana's token with Ana's cookie, planted in Omar's browser: not Omar's session's token.
    _plant(omar, CSRF, str(ana.cookies.get(CSRF)))
    assert _send_form(omar, anas_token) == 403
    assert _send_form(omar, omars_token) == ACCEPTED


def test_the_token_changes_at_sign_in_and_the_old_one_stops_working(
    portal: TestClient[Any],
) -> None:
    before = csrf_token(portal.get("/sign-in/code").text)
    sign_in_as(portal, "ana")
    after = csrf_token(portal.get("/account").text)
    assert after != before
    assert _send_form(portal, before) == 403
    assert _send_form(portal, after) == ACCEPTED


def test_a_form_sent_from_another_site_is_refused(portal: TestClient[Any]) -> None:
    token = csrf_token(portal.get("/sign-in/code").text)
    refused = portal.post(
        "/sign-in/code",
        data={"_csrf_token": token, "contact": ""},
        headers={"origin": "https://evil.example"},
    )
    assert refused.status_code == 403
    assert "Your form could not be sent" in refused.text
    assert _send_form(portal, token, origin="null") == 403
    assert _send_form(portal, token, **{"sec-fetch-site": "cross-site"}) == 403
    assert _send_form(portal, token, **{"sec-fetch-site": "same-site"}) == 403
    assert _send_form(portal, token, origin="http://testserver.local") == ACCEPTED
    assert _send_form(portal, token, origin="http://127.0.0.1:8000") == ACCEPTED  # public URL
    assert _send_form(portal, token, **{"sec-fetch-site": "same-origin"}) == ACCEPTED


def test_webhooks_and_the_bots_api_are_not_forms(portal: TestClient[Any]) -> None:
    """They keep their own signatures: no CSRF token asked, nor an Origin checked."""
    headers = {"origin": "https://evil.example", "content-type": "application/json"}
    webhook = portal.post("/webhooks/payments", content=b"{}", headers=headers)
    assert webhook.status_code in {400, 401}  # refused for its missing signature, not for CSRF
    assert "Your form could not be sent" not in webhook.text


@pytest.fixture
def https_portal(
    make_settings: Callable[..., Settings], database_url: str
) -> Iterator[TestClient[Any]]:
    settings = make_settings(public_url="https://services.example.gov", database_url=database_url)
    with TestClient(create_app(settings), base_url="https://services.example.gov") as client:
        yield client


def test_over_https_every_cookie_is_a_host_cookie(https_portal: TestClient[Any]) -> None:
    form = https_portal.get("/sign-in/code")
    language = https_portal.get("/language/es", follow_redirects=False)
    token = csrf_token(form.text)
    started = https_portal.get("/sign-in/national", follow_redirects=False)  # a session begins
    set_cookies = [
        *form.headers.get_list("set-cookie"),
        *language.headers.get_list("set-cookie"),
        *started.headers.get_list("set-cookie"),
    ]
    names = {cookie.split("=", 1)[0] for cookie in set_cookies}
    assert names == {"__Host-frontdoor_csrf", "__Host-frontdoor_lang", "__Host-frontdoor_session"}
    for cookie in set_cookies:
        attributes = [part.strip().lower() for part in cookie.split(";")[1:]]
        assert "secure" in attributes and "path=/" in attributes, cookie
        assert not any(part.startswith("domain") for part in attributes), cookie
    # Each is read back under its name: the token, the session's, and the language.
    assert _send_form(https_portal, token, origin="https://services.example.gov") == ACCEPTED
    assert https_portal.get("/").headers["content-language"] == "es"
    cookies_page = https_portal.get("/cookies").text
    assert "__Host-frontdoor_session" in cookies_page and "__Host-frontdoor_csrf" in cookies_page


def _caching(client: TestClient[Any], path: str) -> str:
    response = client.get(path, follow_redirects=False)
    assert response.status_code in {200, 303}, (path, response.status_code)
    return str(response.headers.get("cache-control"))


def test_pages_with_a_citizens_data_are_never_stored(portal: TestClient[Any]) -> None:
    assert _caching(portal, "/") == "private, no-cache"  # a public page, nobody signed in
    sign_in_as(portal, "ana")
    draft = portal.get("/services/open-business/apply", follow_redirects=False)
    pages = [
        "/",
        "/services",
        "/account",
        "/account/profile",
        "/account/activity",
        "/account/delete",
        "/account/data.json",
        "/applications",
        draft.headers["location"],
        "/chat",
        "/pay-a-bill",
    ]
    for path in pages:
        assert _caching(portal, path) == "no-store", path
    stylesheet = re.search(r'href="(/static/app\.[0-9a-f]+\.css)"', portal.get("/").text)
    assert stylesheet  # shared files stay cacheable, whoever asks
    assert "public" in _caching(portal, stylesheet.group(1))


def test_staff_pages_are_never_stored(portal: TestClient[Any]) -> None:
    assert _caching(portal, "/staff/sign-in") == "no-store"
    sign_in_as(portal, "admin", next_page="/staff", staff=True)
    for path in ["/staff", "/staff/audit", "/staff/access", "/staff/payments"]:
        assert _caching(portal, path) == "no-store", path
    sign_in_as(portal, "agent", next_page="/staff", staff=True)
    for path in ["/staff/inbox", "/staff/citizens"]:
        assert _caching(portal, path) == "no-store", path
