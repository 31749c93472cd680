"""Staff sign in with their own provider, with a second factor, and reach pages by role only."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from conftest import run_async
from portal.audit.models import AuditEvent
from portal.database import make_engine
from tests.support import csrf_token, sign_in_as


def _last_audit(url: str, action: str) -> AuditEvent | None:
    async def run() -> AuditEvent | None:
        from sqlalchemy.ext.asyncio import AsyncSession

        engine = make_engine(url)
        async with AsyncSession(engine) as db:
            row = await db.scalar(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
            )
        await engine.dispose()
        return row

    result: AuditEvent | None = run_async(run())
    return result


def test_staff_with_a_second_factor_sign_in_and_see_their_roles(portal: TestClient[Any]) -> None:
    response = sign_in_as(portal, "agent", "/staff", staff=True)
    assert response.headers["location"] == "/staff"
    page = portal.get("/staff", headers={"accept-language": "es"}).text
    assert "Sesión iniciada como Alex Agent." in page
    assert "Agente del centro de atención" in page
    assert "/staff/audit" not in page  # not an administrator


def test_staff_without_a_second_factor_are_refused_and_audited(
    portal: TestClient[Any], database_url: str
) -> None:
    response = sign_in_as(portal, "agent-no-mfa", "/staff", staff=True)
    assert response.status_code == 403
    assert "second factor" in response.text
    assert (
        portal.get("/staff", follow_redirects=False).headers["location"]
        == "/staff/sign-in?next=/staff"
    )
    refusal = _last_audit(database_url, "sign_in_failed")
    assert refusal is not None and refusal.details["reason"] == "no second factor"
    assert refusal.actor == "staff:staff-agent-02"


def test_a_citizen_session_never_opens_staff_pages(portal: TestClient[Any]) -> None:
    sign_in_as(portal, "ana")
    response = portal.get("/staff/audit", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/sign-in?next=/staff/audit"


def test_roles_gate_staff_pages_and_denials_are_audited(
    portal_factory: Any, database_url: str
) -> None:
    agent = portal_factory(database_url=database_url)
    sign_in_as(agent, "editor", "/staff", staff=True)
    denied = agent.get("/staff/audit", headers={"accept-language": "es"})
    assert denied.status_code == 403
    assert "No puede ver esta página" in denied.text
    denial = _last_audit(database_url, "role_denied")
    assert denial is not None and denial.actor == "staff:staff-editor-01"
    assert denial.subject == "/staff/audit" and denial.details["needed"] == ["admin"]
    admin = portal_factory(database_url=database_url)
    sign_in_as(admin, "admin", "/staff/audit", staff=True)
    page = admin.get("/staff/audit").text
    assert "is intact." in page and "role_denied" in page and "staff:staff-editor-01" in page


def test_a_citizen_sign_in_ends_a_staff_session_in_the_same_browser(
    portal: TestClient[Any],
) -> None:
    sign_in_as(portal, "admin", "/staff", staff=True)
    assert portal.get("/staff", follow_redirects=False).status_code == 200
    sign_in_as(portal, "lee")
    assert portal.get("/staff", follow_redirects=False).status_code == 303
    assert portal.get("/account", follow_redirects=False).status_code == 200


def test_staff_sign_out_ends_the_session_at_the_provider_too(portal: TestClient[Any]) -> None:
    sign_in_as(portal, "admin", "/staff", staff=True)
    token = csrf_token(portal.get("/staff").text)
    response = portal.post("/staff/sign-out", data={"_csrf_token": token}, follow_redirects=False)
    assert "/oidc/staff/logout?id_token_hint=" in response.headers["location"]
    assert portal.get("/staff", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"acr": "urn:frontdoor:mfa", "amr": ["pwd"]}, True),
        ({"amr": ["pwd", "otp"]}, True),
        ({"amr": ["mfa"]}, True),
        ({"amr": ["otp"]}, False),  # a code alone is one factor
        ({"amr": ["pwd"]}, False),
        ({}, False),
    ],
)
def test_what_counts_as_a_second_factor(claims: dict[str, Any], expected: bool) -> None:
    from portal.staff.service import used_second_factor

    assert used_second_factor(claims, ("urn:frontdoor:mfa",)) is expected
