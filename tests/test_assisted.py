"""Agents find a citizen and see their summary, for a stated purpose that goes in the audit
log; administrators see who looked at whom; nobody else reaches either (SQLite and
PostgreSQL)."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import run_async
from portal.audit.models import AuditEvent
from portal.database import make_engine
from portal.identity.models import Citizen
from tests.journey_support import execute, fill_business, reference_of, submit
from tests.support import csrf_token, sign_in_as

PURPOSE = "Call 4411: asks about her licence"


def _public_id(database_url: str, subject: str) -> str:
    async def run() -> str:
        engine = make_engine(database_url)
        async with AsyncSession(engine) as db:
            found = await db.scalar(select(Citizen.public_id).where(Citizen.subject == subject))
        await engine.dispose()
        assert found is not None
        return found

    result: str = run_async(run())
    return result


def _audited(database_url: str, action: str, actor: str) -> list[AuditEvent]:
    async def run() -> list[AuditEvent]:
        engine = make_engine(database_url)
        async with AsyncSession(engine) as db:
            events = list(
                await db.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.action == action, AuditEvent.actor == actor)
                    .order_by(AuditEvent.id)
                )
            )
        await engine.dispose()
        return events

    result: list[AuditEvent] = run_async(run())
    return result


def _find(portal: TestClient[Any], query: str, purpose: str = PURPOSE, page: int = 1) -> Any:
    token = csrf_token(portal.get("/staff/citizens").text)
    data = {"_csrf_token": token, "purpose": purpose, "query": query, "page": str(page)}
    return portal.post("/staff/citizens", data=data)


def _names(page: str) -> list[str]:
    return re.findall(r'href="/staff/citizens/c_[0-9a-f]+">([^<]+)</a>', page)


def test_only_agents_find_citizens_and_only_administrators_see_access(
    portal: TestClient[Any], database_url: str
) -> None:
    sign_in_as(portal, "ana")
    ana = _public_id(database_url, "citizen-ana-0001")
    token = csrf_token(portal.get("/account").text)
    agent_pages = ["/staff/citizens", f"/staff/citizens/{ana}"]
    for path in [*agent_pages, "/staff/access"]:  # a citizen: sent to staff sign-in
        answer = portal.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/staff/sign-in")
    answer = portal.post(
        "/staff/citizens",
        data={"_csrf_token": token, "purpose": PURPOSE, "query": "ana"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"].startswith("/staff/sign-in")
    for who, refused in (
        ("editor", [*agent_pages, "/staff/access"]),
        ("admin", agent_pages),
        ("agent", ["/staff/access"]),
    ):
        portal.cookies.clear()
        sign_in_as(portal, who, "/staff", staff=True)
        token = csrf_token(portal.get("/staff").text)
        for path in refused:
            assert portal.get(path).status_code == 403, (who, path)
        if "/staff/citizens" in refused:
            data = {"_csrf_token": token, "purpose": PURPOSE, "query": "ana"}
            assert portal.post("/staff/citizens", data=data).status_code == 403
    assert _audited(database_url, "citizen_search", "staff:staff-editor-01") == []
    assert _audited(database_url, "citizen_viewed", "staff:staff-admin-01") == []


def test_a_search_needs_a_purpose_and_something_to_search_for(
    portal: TestClient[Any], database_url: str
) -> None:
    sign_in_as(portal, "agent", "/staff", staff=True)
    missing = _find(portal, "+34 600 111 222", purpose=" ")
    assert missing.status_code == 400
    assert "Enter the call reference or the reason" in missing.text
    assert 'value="+34 600 111 222"' in missing.text  # what was typed is kept
    for query in ("", "x", "0770 09", "ana@", "FD-0000-0000 123456"):
        vague = _find(portal, query)
        assert vague.status_code == 400, query
        assert "Enter a phone number, an email address, a name or an application" in vague.text
        assert f'value="{PURPOSE}"' in vague.text
    assert _audited(database_url, "citizen_search", "staff:staff-agent-01") == []
    # A citizen's page without a purpose stated in this session is refused, and not audited.
    sign_in_as(portal, "lee")  # the citizen exists once they have signed in
    lee = _public_id(database_url, "citizen-lee-0003")
    portal.cookies.clear()
    sign_in_as(portal, "agent", "/staff", staff=True)
    refused = portal.get(f"/staff/citizens/{lee}")
    assert refused.status_code == 400 and "State the purpose before you look" in refused.text
    assert _audited(database_url, "citizen_viewed", "staff:staff-agent-01") == []


def test_an_agent_finds_a_citizen_by_phone_email_name_or_reference_and_sees_everything(
    portal: TestClient[Any], database_url: str
) -> None:
    sign_in_as(portal, "ana")
    reference = reference_of(submit(portal, fill_business(portal)))
    ana = _public_id(database_url, "citizen-ana-0001")
    portal.cookies.clear()
    sign_in_as(portal, "agent", "/staff", staff=True)
    for query in ("+34 600 11 12 22", "600111222", "ANA@example.org", "garcía", reference.lower()):
        found = _find(portal, query)
        assert found.status_code == 200, query
        assert "Ana García" in _names(found.text), query
    assert _names(_find(portal, "nobody by this name").text) == []
    searches = _audited(database_url, "citizen_search", "staff:staff-agent-01")
    assert [event.details["by"] for event in searches[-6:]] == [
        "phone",
        "phone",
        "email",
        "name",
        "reference",
        "name",
    ]
    assert searches[-2].details["found"] == [ana] and searches[-2].details["purpose"] == PURPOSE
    assert all("ana@" not in str(event.details).lower() for event in searches)  # not what was typed

    page = portal.get(f"/staff/citizens/{ana}")
    assert page.status_code == 200
    text = page.text
    assert f"Purpose: {PURPOSE}" in text
    for shown in ("Ana García", "+34600111222", "ana@example.org", reference, "Open a business"):
        assert shown in text, shown
    assert "Application sent" in text  # its timeline
    [viewed] = _audited(database_url, "citizen_viewed", "staff:staff-agent-01")[-1:]
    assert viewed.subject == ana and viewed.details["purpose"] == PURPOSE
    assert portal.get("/staff/citizens/c_0000000000").status_code == 404

    portal.cookies.clear()
    sign_in_as(portal, "admin", "/staff", staff=True)
    access = portal.get("/staff/access", params={"citizen": ana}).text
    assert "Looked at a citizen" in access and "staff:staff-agent-01" in access
    assert PURPOSE in access and "Ana García" in access
    everyone = portal.get("/staff/access", params={"member": "staff:staff-agent-01"}).text
    assert "Searched for citizens" in everyone


@pytest.mark.parametrize("count", [12])
def test_results_come_ten_to_a_page(portal: TestClient[Any], database_url: str, count: int) -> None:
    family = f"Pagetest{secrets.token_hex(3)}"
    rows = [
        {
            "public_id": f"c_{secrets.token_hex(10)}",
            "issuer": "https://test.example",
            "subject": f"{family}-{n}",
            "name": f"Person {n:02d} {family}",
            "language": "en",
        }
        for n in range(count)
    ]
    run_async(execute(database_url, insert(Citizen).values(rows)))
    sign_in_as(portal, "agent", "/staff", staff=True)
    first = _find(portal, family.lower())
    assert _names(first.text) == [f"Person {n:02d} {family}" for n in range(10)]
    assert "Next page" in first.text and "Previous page" not in first.text
    second = _find(portal, family, page=2)
    assert _names(second.text) == [f"Person {n:02d} {family}" for n in range(10, count)]
    assert "Previous page" in second.text and "Next page" not in second.text
