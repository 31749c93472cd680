"""Citizens sign in with the national identity service (the sandbox's OIDC provider, over HTTP)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from conftest import Sandbox, run_async
from portal.audit.models import AuditEvent
from portal.database import make_engine
from tests.support import choose_user, csrf_token, give_feedback, sign_in_as


def _audit(url: str, action: str) -> list[AuditEvent]:
    async def run() -> list[AuditEvent]:
        from sqlalchemy.ext.asyncio import AsyncSession

        engine = make_engine(url)
        async with AsyncSession(engine) as db:
            rows = list(await db.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        await engine.dispose()
        return rows

    return run_async(run())


def _session_cookie(client: TestClient[Any]) -> str | None:
    return client.cookies.get("frontdoor_session")


def test_a_citizen_signs_in_and_sees_their_account(
    portal: TestClient[Any], database_url: str
) -> None:
    gate = portal.get("/account", follow_redirects=False)
    assert gate.status_code == 303 and gate.headers["location"] == "/sign-in?next=/account"
    before = len(_audit(database_url, "sign_in"))
    done = sign_in_as(portal, "ana")
    assert done.status_code == 303 and done.headers["location"] == "/account"
    page = portal.get("/account", headers={"accept-language": "es"}).text
    assert "Ana García" in page and "ana@example.org" in page and "+34600111222" in page
    assert 'href="/account"' in page and "Su cuenta" in page
    assert len(_audit(database_url, "sign_in")) == before + 1


def test_signing_in_gives_a_new_session_id(portal_factory: Any, database_url: str) -> None:
    portal = portal_factory(database_url=database_url)
    give_feedback(portal, "/")  # a session exists before signing in
    before = _session_cookie(portal)
    assert before
    sign_in_as(portal, "lee")
    after = _session_cookie(portal)
    assert after and after != before
    planted = portal_factory(database_url=database_url)
    planted.cookies.set("frontdoor_session", before)  # whoever held the old id gets nothing
    assert planted.get("/account", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("mode", ["bad_signature", "wrong_audience", "expired", "wrong_nonce"])
def test_a_tampered_id_token_signs_nobody_in(
    portal: TestClient[Any], sandbox: Sandbox, database_url: str, mode: str
) -> None:
    sandbox.tamper("citizen", mode)
    before = len(_audit(database_url, "sign_in_failed"))
    response = sign_in_as(portal, "ana")
    assert response.status_code == 400
    assert "We could not sign you in. Start again." in response.text
    assert portal.get("/account", follow_redirects=False).status_code == 303
    failures = _audit(database_url, "sign_in_failed")
    assert len(failures) == before + 1 and "oidc" in failures[-1].details["reason"]


def test_a_callback_that_was_not_started_here_is_refused(portal: TestClient[Any]) -> None:
    start = portal.get("/sign-in/national", follow_redirects=False)
    answer = choose_user(start.headers["location"], "ana")
    response = portal.get(
        "/sign-in/callback", params={**answer, "state": "forged"}, follow_redirects=False
    )
    assert response.status_code == 400
    assert "Your sign-in expired" in response.text
    assert portal.get("/account", follow_redirects=False).status_code == 303


def test_cancelling_at_the_provider_comes_back_with_a_message(portal: TestClient[Any]) -> None:
    start = portal.get("/sign-in/national", follow_redirects=False)
    answer = choose_user(start.headers["location"], "")
    response = portal.get("/sign-in/callback", params=answer, headers={"accept-language": "ar"})
    assert "لم تُكمل تسجيل الدخول" in response.text


def test_sign_in_is_unavailable_when_the_provider_is_down(
    portal: TestClient[Any], sandbox: Sandbox
) -> None:
    sandbox.set_fault("oidc", down=True)
    response = portal.get(
        "/sign-in/national", headers={"accept-language": "es"}, follow_redirects=False
    )
    assert response.status_code == 503
    assert "no es posible iniciar sesión" in response.text


def test_sessions_end_after_their_absolute_lifetime(
    portal: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in_as(portal, "ana")
    assert portal.get("/account", follow_redirects=False).status_code == 200
    later = time.time() + 12 * 3600 + 1
    monkeypatch.setattr("portal.identity.service.time.time", lambda: later)
    assert portal.get("/account", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session_here_and_at_the_provider(
    portal: TestClient[Any], sandbox: Sandbox, database_url: str
) -> None:
    sign_in_as(portal, "omar")
    token = csrf_token(portal.get("/account").text)
    response = portal.post("/sign-out", data={"_csrf_token": token}, follow_redirects=False)
    logout = response.headers["location"]
    assert logout.startswith(f"{sandbox.url}/oidc/citizen/logout?id_token_hint=")
    assert "post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Fsigned-out" in logout
    assert portal.get("/account", follow_redirects=False).status_code == 303
    assert _audit(database_url, "sign_out")


def test_sign_out_everywhere_ends_the_other_devices_sessions(
    portal_factory: Any, database_url: str
) -> None:
    phone, laptop = (
        portal_factory(database_url=database_url),
        portal_factory(database_url=database_url),
    )
    sign_in_as(phone, "lee")
    sign_in_as(laptop, "lee")
    token = csrf_token(phone.get("/account").text)
    phone.post("/sign-out/everywhere", data={"_csrf_token": token}, follow_redirects=False)
    assert laptop.get("/account", follow_redirects=False).status_code == 303
    assert phone.get("/account", follow_redirects=False).status_code == 303
    sign_in_as(laptop, "lee")  # signing in again works
    assert laptop.get("/account", follow_redirects=False).status_code == 200


def test_a_session_unused_for_the_idle_time_ends(
    portal: TestClient[Any], database_url: str
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from portal.database.store import StoredValue

    sign_in_as(portal, "lee")
    key = f"sessions:{portal.cookies.get('frontdoor_session')}"

    async def expiry(moment: datetime | None = None) -> datetime:
        engine = make_engine(database_url)
        async with engine.begin() as connection:
            if moment is not None:
                await connection.execute(
                    update(StoredValue).where(StoredValue.key == key).values(expires_at=moment)
                )
            found = await connection.scalar(
                select(StoredValue.expires_at).where(StoredValue.key == key)
            )
        await engine.dispose()
        return found if found.tzinfo else found.replace(tzinfo=UTC)

    portal.get("/account")  # each visit renews the idle time (30 minutes by default)
    remaining = run_async(expiry()) - datetime.now(UTC)
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)
    run_async(expiry(datetime.now(UTC) - timedelta(seconds=1)))  # as if 30 minutes had passed
    assert portal.get("/account", follow_redirects=False).status_code == 303
