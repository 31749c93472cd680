"""Sessions at the edges: what a browser keeps after signing out, who sees what after another
person signs in on the same browser, and the CSRF token's tie to its session."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.support import csrf_token, give_feedback, sign_in_as


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
