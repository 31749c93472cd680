"""Agents find a citizen and see their summary, for a stated purpose that goes in the audit
log; administrators see who looked at whom; nobody else reaches either (SQLite and
PostgreSQL)."""

from __future__ import annotations

import base64
import html
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from unittest.mock import ANY

import httpx
import pytest
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import Sandbox, run_async
from portal.applications.models import Application, Notification
from portal.assisted.found import SEARCH_FIRST
from portal.assisted.links import make_token, read_token
from portal.assisted.models import Consent
from portal.assisted.service import MOST_MATCHES
from portal.audit.models import AuditEvent
from portal.database import make_engine
from portal.i18n.folding import fold
from portal.identity.models import Citizen
from portal.settings import Settings
from scripts.text_the_bot import received
from tests.journey_support import (
    draft_path,
    execute,
    fill_business,
    reference_of,
    run_worker,
    submit,
)
from tests.support import csrf_token, sign_in_as, visible_text

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


def _refused(answer: httpx.Response) -> bool:
    """Sent back to the search: no purpose under which the citizen was found."""
    return answer.status_code == 303 and answer.headers["location"] == SEARCH_FIRST


def _link_form(page: str) -> dict[str, str]:
    """The hidden fields of the page's first send-a-link form, as a browser sends them (its
    CSRF token too: a form whose macro cannot see the token is refused)."""
    form = re.search(
        r'<form method="post" action="/staff/citizens/[^"]+/link".*?</form>', page, re.S
    )
    assert form, "the page has no form to send a link"
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0))
    return {name: html.unescape(value) for name, value in fields}


def _names(page: str) -> list[str]:
    return re.findall(r'href="/staff/citizens/c_[0-9a-f]+">([^<]+)</a>', page)


def _timeline(page: str) -> str:
    """What a reader sees of a page's timeline ("What has happened")."""
    found = re.search(r'<ol class="fd-timeline".*?</ol>', page, re.S)
    assert found, "the page has no timeline"
    return visible_text(found.group(0))


def test_only_agents_find_citizens_and_only_administrators_see_access(
    portal: TestClient[Any], database_url: str
) -> None:
    sign_in_as(portal, "ana")
    ana = _public_id(database_url, "citizen-ana-0001")
    token = csrf_token(portal.get("/account").text)
    agent_pages = ["/staff/citizens", f"/staff/citizens/{ana}", f"/staff/citizens/{ana}/act"]
    agent_forms = [
        "/staff/citizens",
        f"/staff/citizens/{ana}/act",
        f"/staff/citizens/{ana}/link",
        "/staff/citizens/act/end",
    ]
    form = {"purpose": PURPOSE, "query": "ana", "how": "phone", "reason": "help"}
    form |= {"target": "application:FD-0000-0000", "channel": "sms"}
    for path in [*agent_pages, "/staff/access"]:  # a citizen: sent to staff sign-in
        answer = portal.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/staff/sign-in")
    for path in agent_forms:
        answer = portal.post(path, data={"_csrf_token": token, **form}, follow_redirects=False)
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
            for path in agent_forms:
                answer = portal.post(path, data={"_csrf_token": token, **form})
                assert answer.status_code == 403, (who, path)
    assert _audited(database_url, "citizen_search", "staff:staff-editor-01") == []
    assert _audited(database_url, "citizen_viewed", "staff:staff-admin-01") == []
    assert _audited(database_url, "assisted_started", "staff:staff-editor-01") == []


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
    refused = portal.get(f"/staff/citizens/{lee}", follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"] == SEARCH_FIRST
    assert "State the purpose and find the citizen" in portal.get(SEARCH_FIRST).text
    assert _audited(database_url, "citizen_viewed", "staff:staff-agent-01") == []
    # A purpose covers the citizens its search found, not anyone else.
    sign_in_as(portal, "ana")
    ana = _public_id(database_url, "citizen-ana-0001")
    portal.cookies.clear()
    sign_in_as(portal, "agent", "/staff", staff=True)
    assert "Lee Smith" in _names(_find(portal, "lee smith").text)
    assert portal.get(f"/staff/citizens/{lee}").status_code == 200
    assert _refused(portal.get(f"/staff/citizens/{ana}", follow_redirects=False))


def test_an_agent_finds_a_citizen_by_phone_email_name_or_reference_and_sees_everything(
    portal: TestClient[Any], database_url: str, make_settings: Callable[..., Settings]
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
    text = visible_text(page.text)
    assert f"Purpose: {PURPOSE}" in text
    for shown in ("Ana García", "+34600111222", "ana@example.org", reference, "Open a business"):
        assert shown in text, shown
    assert "In progress" in text and "Application sent" not in text  # its state, one row
    assert "Website" in text and "Web chat" not in text  # sent from the website's form
    assert "newest are shown" not in text  # all of her applications are there
    [viewed] = _audited(database_url, "citizen_viewed", "staff:staff-agent-01")[-1:]
    assert viewed.subject == ana and viewed.details["purpose"] == PURPOSE
    # Its row leads to its whole timeline, a look recorded like the summary's.
    opened = f"/staff/citizens/{ana}/applications/{reference}"
    assert f'href="{opened}"' in page.text
    application = visible_text(portal.get(opened).text)
    assert "Open a business" in application and "Application sent" in application
    assert f"Purpose: {PURPOSE}" in application
    [viewed] = _audited(database_url, "citizen_viewed", "staff:staff-agent-01")[-1:]
    assert viewed.details["page"] == "assisted_application"
    assert viewed.details["reference"] == reference
    assert _refused(portal.get("/staff/citizens/c_0000000000", follow_redirects=False))

    portal.cookies.clear()
    sign_in_as(portal, "admin", "/staff", staff=True)
    access = portal.get("/staff/access", params={"citizen": ana}).text
    assert "Looked at a citizen" in access and "staff:staff-agent-01" in access
    assert PURPOSE in access and "Ana García" in access
    everyone = portal.get("/staff/access", params={"member": "staff:staff-agent-01"}).text
    assert "Searched for citizens" in everyone
    portal.cookies.clear()
    sign_in_as(portal, "ana")  # Ana sees who looked, and why
    activity = portal.get("/account/activity").text
    assert "Alex Agent looked at your details" in activity
    assert f"Reason: {PURPOSE}" in activity
    assert run_worker(make_settings(database_url=database_url)) >= 4  # leave the outbox empty


def _insert_citizens(database_url: str, names: list[str]) -> None:
    """Citizens straight into the table (a row inserted without the model folds its name)."""
    rows = [
        {
            "public_id": f"c_{secrets.token_hex(10)}",
            "issuer": "https://test.example",
            "subject": f"{secrets.token_hex(6)}-{n}",
            "name": name,
            "name_folded": fold(name),
            "language": "en",
        }
        for n, name in enumerate(names)
    ]
    run_async(execute(database_url, insert(Citizen).values(rows)))


@pytest.mark.parametrize("count", [12])
def test_results_come_ten_to_a_page(portal: TestClient[Any], database_url: str, count: int) -> None:
    # Letters only: six digits in what is typed would make it a phone number.
    family = "Pagetest" + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8))
    _insert_citizens(database_url, [f"Person {n:02d} {family}" for n in range(count)])
    sign_in_as(portal, "agent", "/staff", staff=True)
    first = _find(portal, family.lower())
    assert _names(first.text) == [f"Person {n:02d} {family}" for n in range(10)]
    assert "Next page" in first.text and "Previous page" not in first.text
    second = _find(portal, family, page=2)
    assert _names(second.text) == [f"Person {n:02d} {family}" for n in range(10, count)]
    assert "Previous page" in second.text and "Next page" not in second.text


def test_a_name_is_found_by_any_part_of_it_whatever_the_case_and_accents(
    portal: TestClient[Any], database_url: str
) -> None:
    tag = "".join(secrets.choice("bcdfghjkmnpqrstvwxz") for _ in range(6))  # this test's people
    names = [f"José Núñez Ibáñez {tag}", f"JOSE NUNEZ {tag.upper()}", f"فاطمة الحسن {tag}"]
    _insert_citizens(database_url, names)
    sign_in_as(portal, "agent", "/staff", staff=True)
    both = sorted(names[:2], key=str.casefold)
    assert sorted(_names(_find(portal, f"nuñez jose {tag}").text), key=str.casefold) == both
    assert sorted(_names(_find(portal, f"NUNEZ {tag}").text), key=str.casefold) == both
    assert _names(_find(portal, f"ibáñ {tag}").text) == [names[0]]  # part of a word
    assert _names(_find(portal, f"ibanez {tag}").text) == [names[0]]
    # Arabic letters people type interchangeably: teh marbuta as heh
    assert _names(_find(portal, f"فاطمه {tag}").text) == [names[2]]
    assert _names(_find(portal, f"garcia {tag}").text) == []


def test_too_many_matches_ask_for_more_of_the_name(
    portal: TestClient[Any], database_url: str
) -> None:
    family = "Manytest" + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8))
    _insert_citizens(database_url, [f"Person {n:03d} {family}" for n in range(MOST_MATCHES + 1)])
    sign_in_as(portal, "agent", "/staff", staff=True)
    many = _find(portal, family)
    assert _names(many.text) == []
    assert f"More than {MOST_MATCHES} citizens match. Type more of the name" in many.text
    assert _names(_find(portal, f"person 007 {family}").text) == [f"Person 007 {family}"]


def _set_phone(database_url: str, public_id: str, phone: str) -> None:
    change = update(Citizen).where(Citizen.public_id == public_id).values(phone=phone)
    run_async(execute(database_url, change))


def _act_for(portal: TestClient[Any], public_id: str, how: str, reason: str) -> Any:
    token = csrf_token(portal.get(f"/staff/citizens/{public_id}/act").text)
    return portal.post(
        f"/staff/citizens/{public_id}/act",
        data={"_csrf_token": token, "how": how, "reason": reason},
        follow_redirects=False,
    )


def _rows(database_url: str, statement: Any) -> list[Any]:
    async def run() -> list[Any]:
        engine = make_engine(database_url)
        async with AsyncSession(engine) as db:
            found = list((await db.execute(statement)).all())
        await engine.dispose()
        return found

    result: list[Any] = run_async(run())
    return result


def test_an_agent_fills_in_an_application_for_a_citizen_with_consent(
    portal: TestClient[Any], database_url: str, make_settings: Callable[..., Settings]
) -> None:
    sign_in_as(portal, "lee")
    lee_draft = draft_path(portal, "open-business")  # Lee's own, which Ana's agent never sees
    portal.cookies.clear()
    sign_in_as(portal, "ana")
    ana = _public_id(database_url, "citizen-ana-0001")
    portal.cookies.clear()
    sign_in_as(portal, "agent", "/staff", staff=True)
    assert (
        portal.get("/services/open-business/apply", follow_redirects=False)
        .headers["location"]
        .startswith("/sign-in")
    )  # not acting for anyone: the journeys are not the agent's
    _find(portal, "Ana García")
    form = portal.get(f"/staff/citizens/{ana}/act")
    assert "Record the citizen" in form.text and "Never ask for their sign-in codes" in form.text
    refused = _act_for(portal, ana, "telepathy", " ")
    assert refused.status_code == 400
    assert "Select how the citizen gave their consent" in refused.text
    assert "Enter what the citizen asked you to do for them" in refused.text
    reason = "Open a business for her bakery; no computer at home"
    started = _act_for(portal, ana, "phone", reason)
    assert started.status_code == 303
    acting = portal.get(started.headers["location"]).text
    assert "Acting for Ana García" in acting and 'href="/services/open-business/apply"' in acting

    base = fill_business(portal)
    sent = submit(portal, base)
    assert sent.headers["location"].startswith(f"/staff/citizens/{ana}/act?sent=FD-")
    reference = sent.headers["location"].split("sent=")[1]
    again = submit(portal, base, csrf_token(acting))  # a second click: the same application
    assert again.headers["location"] == sent.headers["location"]
    confirmation = portal.get(f"/staff/citizens/{ana}/act", params={"sent": reference}).text
    assert f"Its reference is {reference}." in confirmation
    # Acting opens the citizen's journeys, nothing else: not their applications or account,
    # and not another citizen's draft.
    for path in ("/applications", f"/applications/{reference}", "/account", "/account/activity"):
        answer = portal.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")
    assert portal.get(f"{lee_draft}/business-name").status_code == 404
    token = csrf_token(acting)
    ended = portal.post("/staff/citizens/act/end", data={"_csrf_token": token})
    assert ended.status_code == 200
    assert portal.get("/services/open-business/apply", follow_redirects=False).status_code == 303

    [(assisted_by, assisted_name, channel)] = _rows(
        database_url,
        select(Application.assisted_by, Application.assisted_name, Notification.channel)
        .join(Notification, Notification.application_id == Application.id)
        .where(Application.reference == reference),
    )
    assert (assisted_by, assisted_name) == ("staff:staff-agent-01", "Alex Agent")
    assert channel == "email"  # told even though Ana chose no updates
    assert run_worker(make_settings(database_url=database_url)) >= 5  # four departments, and her
    [(status,)] = _rows(
        database_url,
        select(Notification.status)
        .join(Application, Application.id == Notification.application_id)
        .where(Application.reference == reference),
    )
    assert status == "sent"
    steps = [
        event.action for event in _audited(database_url, "assisted_change", "staff:staff-agent-01")
    ]
    assert len(steps) >= 15  # the start and every page sent
    [submitted] = _audited(database_url, "application_submitted", "staff:staff-agent-01")[-1:]
    assert submitted.subject == f"application:{reference}"
    # The agent's page of it speaks of the citizen; hers (below) speaks to her.
    agent_page = portal.get(f"/staff/citizens/{ana}/applications/{reference}").text
    told_agent = _timeline(agent_page)
    assert (
        "Alex Agent, a call-centre agent, filled it in for the citizen with their consent."
        in told_agent
    )
    assert "for you" not in told_agent and "your consent" not in told_agent
    # Sent through the call centre, by whom: not "Website", though the agent used its forms.
    assert re.search(r"Sent on .+ · Call centre: Alex Agent", visible_text(agent_page))
    summary = visible_text(portal.get(f"/staff/citizens/{ana}").text)
    assert "Call centre: Alex Agent" in summary

    portal.cookies.clear()
    sign_in_as(portal, "ana")
    page = portal.get(f"/applications/{reference}").text
    assert "Assisted" in page
    assert "Alex Agent, a call-centre agent, filled it in for you with your consent." in page
    assert "Alex Agent, a call-centre agent, filled it in for you with your consent." in _timeline(
        page
    )
    activity = portal.get("/account/activity").text
    for line in (
        "Alex Agent started acting for you, with your consent",
        f"You asked: {reason}",
        f"Alex Agent sent application {reference} for you",
        "Alex Agent stopped acting for you",
    ):
        assert line in activity, line


def test_stopping_after_the_purpose_ran_out_still_ends_the_consent_and_says_so(
    portal: TestClient[Any], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in_as(portal, "ana")
    ana = _public_id(database_url, "citizen-ana-0001")
    portal.cookies.clear()
    sign_in_as(portal, "agent", "/staff", staff=True)
    _find(portal, "Ana García")
    started = _act_for(portal, ana, "phone", "Help with a form over the phone")
    acting_page = portal.get(started.headers["location"]).text
    monkeypatch.setattr("portal.shared.acting.PURPOSE_SECONDS", -1)  # the call ran long
    ended = portal.post("/staff/citizens/act/end", data={"_csrf_token": csrf_token(acting_page)})
    assert ended.status_code == 200
    [(ended_at,)] = _rows(
        database_url,
        select(Consent.ended_at)
        .join(Citizen, Citizen.id == Consent.citizen_id)
        .where(Citizen.public_id == ana, Consent.reason == "Help with a form over the phone"),
    )
    assert ended_at is not None
    assert _audited(database_url, "assisted_ended", "staff:staff-agent-01")


def test_a_link_is_signed_and_expires() -> None:
    token = make_token("secret", "c_1", "draft:d_1", time.time() + 60)
    assert read_token("secret", token) == {"c": "c_1", "t": "draft:d_1", "e": ANY}
    assert read_token("other secret", token) is None
    _body, signature = token.split(".")
    forged = base64.urlsafe_b64encode(b'{"c":"c_2","t":"draft:d_1","e":9999999999}').decode()
    assert read_token("secret", f"{forged.rstrip('=')}.{signature}") is None
    assert read_token("secret", token, now=time.time() + 120) is None  # expired
    assert read_token("secret", "nonsense") is None


def test_an_agent_texts_a_link_and_only_the_citizen_signed_in_can_use_it(
    portal: TestClient[Any], database_url: str, sandbox: Sandbox
) -> None:
    sign_in_as(portal, "ana")
    base = draft_path(portal, "open-business")  # Ana started on the web, then called
    ana = _public_id(database_url, "citizen-ana-0001")
    portal.cookies.clear()
    sign_in_as(portal, "agent", "/staff", staff=True)
    _find(portal, "Ana García")
    _act_for(portal, ana, "phone", "She will finish it herself on the web")
    page = portal.get(f"/staff/citizens/{ana}/act").text
    assert "Text them a link to finish it" in page and "Email them a link to finish it" in page
    draft = base.rsplit("/", 1)[1]
    data = _link_form(page)
    assert data["_csrf_token"] and data == {
        "_csrf_token": data["_csrf_token"],
        "target": f"draft:{draft}",
        "back": "act",
    }
    sent = portal.post(f"/staff/citizens/{ana}/link", data={**data, "channel": "email"})
    assert "The link is sent." in sent.text
    [mail] = sandbox.mail(to="ana@example.org")
    assert mail["subject"] == "Continuar Abrir un negocio"  # in Ana's language
    assert "Alex Agent" in mail["text"]
    link = re.search(r"https?://\S+/continue/(\S+)", mail["text"])
    assert link, mail["text"]
    # By text message too, to the number on her profile (a number of this test's own).
    number = f"+3460{int(time.time()) % 10000000:07d}"
    run_async(
        execute(database_url, update(Citizen).where(Citizen.public_id == ana).values(phone=number))
    )
    try:
        texted = portal.post(f"/staff/citizens/{ana}/link", data={**data, "channel": "sms"})
    finally:
        run_async(
            execute(
                database_url,
                update(Citizen).where(Citizen.public_id == ana).values(phone="+34600111222"),
            )
        )
    assert "The link is sent." in texted.text
    with httpx.Client() as client:
        [text] = received(client, sandbox.url, number)
    assert "/continue/" in text and "Abrir un negocio" in text
    path = f"/continue/{link.group(1)}"

    portal.cookies.clear()  # the link alone opens nothing
    answer = portal.get(path, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")
    sign_in_as(portal, "lee")  # someone else, signed in
    assert portal.get(path).status_code == 410
    assert portal.get(path[:-3] + "abc").status_code == 410  # changed
    portal.cookies.clear()
    sign_in_as(portal, "ana")
    opened = portal.get(path, follow_redirects=False)
    assert opened.headers["location"] == "/services/open-business/apply"
    assert (
        portal.get(opened.headers["location"], follow_redirects=False)
        .headers["location"]
        .startswith(base)
    )  # her draft, where she stopped
    assert "sent you a link to continue on your own" in portal.get("/account/activity").text

    portal.cookies.clear()
    sign_in_as(portal, "agent", "/staff", staff=True)
    _find(portal, "Ana García")
    _act_for(portal, ana, "phone", "Send the link again")
    data["_csrf_token"] = csrf_token(portal.get(f"/staff/citizens/{ana}/act").text)
    notices = [
        portal.post(f"/staff/citizens/{ana}/link", data={**data, "channel": "email"}).text
        for _ in range(4)
    ]
    assert sum("The link is sent." in n for n in notices) == 3  # five an hour, all agents
    assert "sent 5 links in the last hour" in notices[-1]
    other = portal.post(
        f"/staff/citizens/{ana}/link",
        data={**data, "target": "draft:d_notherdraft", "channel": "sms"},
    )
    assert "No link was sent" in other.text


def test_an_agent_sends_a_link_to_pay_a_fee_from_the_application_page(
    portal: TestClient[Any], database_url: str, sandbox: Sandbox
) -> None:
    from portal.applications.models import DepartmentRequest, TimelineEvent

    sign_in_as(portal, "lee")
    reference = reference_of(submit(portal, fill_business(portal)))
    lee = _public_id(database_url, "citizen-lee-0003")
    chosen = select(Application.id).where(Application.reference == reference)
    [(application_id,)] = _rows(database_url, chosen)
    fee = {"fee": {"amount_minor": 15000, "currency": "EUR"}}
    run_async(
        execute(
            database_url,
            update(DepartmentRequest)
            .where(
                DepartmentRequest.application_id == application_id,
                DepartmentRequest.department == "trade-licence",
            )
            .values(status="fee_due"),
        )
    )
    run_async(
        execute(
            database_url,
            insert(TimelineEvent).values(
                application_id=application_id,
                department="trade-licence",
                status="fee_due",
                note="",
                data=fee,
                external_id=f"fee-{reference}",
            ),
        )
    )
    portal.cookies.clear()
    sign_in_as(portal, "agent", "/staff", staff=True)
    _find(portal, "Lee Smith")
    summary = visible_text(portal.get(f"/staff/citizens/{lee}").text)
    assert "Action needed" in summary and "Fee to pay" in summary
    opened = f"/staff/citizens/{lee}/applications/{reference}"
    page = portal.get(opened).text
    assert "asks for a fee of €150.00" in visible_text(page)
    data = _link_form(page)
    assert data["_csrf_token"] and data["target"] == f"application:{reference}"
    sent = portal.post(
        f"/staff/citizens/{lee}/link", data={**data, "channel": "email"}, follow_redirects=False
    )
    assert sent.headers["location"] == f"{opened}?link=sent"  # back on the application
    assert "The link is sent." in visible_text(portal.get(sent.headers["location"]).text)
    [mail] = sandbox.mail(to="lee@example.org")[-1:]
    link = re.search(r"https?://\S+(/continue/\S+)", mail["text"])
    assert link and reference in mail["text"], mail["text"]
    portal.cookies.clear()
    sign_in_as(portal, "lee")
    paying = portal.get(link.group(1), follow_redirects=False)
    assert paying.headers["location"] == f"/applications/{reference}"
    assert "€150.00" in visible_text(portal.get(paying.headers["location"]).text)


def test_the_agent_sees_what_the_citizen_is_told_about_an_application_in_words_for_staff(
    portal: TestClient[Any],
    database_url: str,
    sandbox: Sandbox,
    make_settings: Callable[..., Settings],
) -> None:
    from portal.applications.models import DepartmentRequest, TimelineEvent
    from portal.outbox.models import OutboxMessage

    settings = make_settings(database_url=database_url)
    sign_in_as(portal, "ana")
    reference = reference_of(submit(portal, fill_business(portal)))
    ana = _public_id(database_url, "citizen-ana-0001")
    # The tax and employment offices cannot be reached: both are retried; then the employment
    # office's delivery is parked for a person, as the worker does when a department refuses.
    sandbox.set_fault("tax", down=True)
    sandbox.set_fault("employer", down=True)
    run_worker(settings)
    requests = {
        department: request_id
        for request_id, department in _rows(
            database_url,
            select(DepartmentRequest.id, DepartmentRequest.department)
            .join(Application, Application.id == DepartmentRequest.application_id)
            .where(Application.reference == reference),
        )
    }
    mine = OutboxMessage.payload["request_id"].as_integer().in_(list(requests.values()))
    ours = update(OutboxMessage).where(mine, OutboxMessage.kind == "deliver")
    run_async(
        execute(
            database_url,
            ours.where(OutboxMessage.target == "employer").values(status="failed"),
            update(DepartmentRequest)
            .where(DepartmentRequest.id == requests["tax"])
            .values(status="information_sent"),
            insert(TimelineEvent).values(  # she answered a question of the tax office's
                application_id=select(Application.id)
                .where(Application.reference == reference)
                .scalar_subquery(),
                department="tax",
                status="information_sent",
                note="The café opens on Sundays too.",
                data={},
            ),
        )
    )
    retrying = "We are having trouble sending the citizen's application to Tax office."
    parked = "We are having trouble sending the citizen's application to Employment office."

    citizen = visible_text(portal.get(f"/applications/{reference}").text)
    assert (
        "We are having trouble sending this to Tax office. "
        "We will keep trying. You do not need to do anything." in citizen
    )
    assert (
        "We are having trouble sending this to Employment office. "
        "Our team is looking into it. You do not need to do anything." in citizen
    )
    assert "You sent more information" in citizen
    assert "the citizen's application" not in citizen and "The citizen sent" not in citizen

    portal.cookies.clear()
    sign_in_as(portal, "agent", "/staff", staff=True)
    _find(portal, "Ana García")
    opened = f"/staff/citizens/{ana}/applications/{reference}"
    page = portal.get(opened).text
    agent = visible_text(page)
    assert (
        f"{retrying} It will be tried again automatically. "
        "The citizen does not need to do anything." in agent
    )
    assert (
        f"{parked} It is waiting for a member of staff to look at it. "
        "The citizen does not need to do anything." in agent
    )
    # Where the citizen's page has it: under "Departments", before each department's state.
    assert agent.index("Departments") < agent.index(retrying) < agent.index("Trade licensing")
    assert "You do not need" not in agent and "We will keep trying" not in agent
    told = _timeline(page)
    assert "The citizen sent more information" in told and "You sent" not in told
    # The department list says it too (its state), in words for staff.
    assert "You sent" not in agent and agent.count("The citizen sent more information") == 2
    assert "The café opens on Sundays too." in told

    sandbox.set_fault("tax", down=False)
    sandbox.set_fault("employer", down=False)
    again = ours.where(OutboxMessage.status.in_(("pending", "failed")))
    run_async(
        execute(database_url, again.values(status="pending", next_attempt_at=datetime.now(UTC)))
    )
    run_worker(settings)
    agent = visible_text(portal.get(opened).text)
    assert "We are having trouble" not in agent  # delivered: nothing to warn of


def test_every_agent_route_naming_a_citizen_needs_a_purpose_they_were_found_under(
    portal: TestClient[Any], database_url: str
) -> None:
    sign_in_as(portal, "ana")
    reference = reference_of(submit(portal, fill_business(portal)))
    ana = _public_id(database_url, "citizen-ana-0001")
    portal.cookies.clear()
    sign_in_as(portal, "agent-2", "/staff", staff=True)
    token = csrf_token(portal.get("/staff/citizens").text)
    naming = sorted(
        (method, route.path)
        for route in portal.app.routes
        if isinstance(route, HTTPRoute) and route.path.startswith("/staff/")
        for method in route.methods - {"HEAD", "OPTIONS"}
        if "{public_id:str}" in route.path
    )
    assert len(naming) >= 5  # the summary, an application, acting (page, consent), a link
    form = {"_csrf_token": token, "how": "phone", "reason": "Help with her licence"}
    form |= {"target": "draft:d_none", "channel": "email"}

    def walk() -> dict[tuple[str, str], httpx.Response]:
        return {
            (method, path): portal.request(
                method,
                path.replace("{public_id:str}", ana).replace("{reference:str}", reference),
                data=form if method == "POST" else None,
                follow_redirects=False,
            )
            for method, path in naming
        }

    def viewed() -> list[AuditEvent]:
        events = _audited(database_url, "citizen_viewed", "staff:staff-agent-03")
        return [event for event in events if event.subject == ana]

    # No purpose at all, then a purpose under which someone else was found: every route
    # sends the agent back to the search, and nothing of Ana's is opened or recorded.
    for purpose_for in (None, "Lee Smith"):
        if purpose_for:
            _find(portal, purpose_for)
        refused = {route: answer for route, answer in walk().items() if not _refused(answer)}
        assert refused == {}, purpose_for
    assert viewed() == []
    assert _audited(database_url, "assisted_started", "staff:staff-agent-03") == []
    assert "State the purpose and find the citizen" in portal.get(SEARCH_FIRST).text
    # Found under the purpose: every route opens, and each time is recorded with it.
    _find(portal, "Ana García")
    answers = walk()
    assert all(answer.status_code in (200, 303) for answer in answers.values()), answers
    assert not any(_refused(answer) for answer in answers.values())
    events = viewed()
    assert len(events) == len(naming)
    assert {event.details["purpose"] for event in events} == {PURPOSE}
    assert {event.details["agent_name"] for event in events} == {"Sam Second"}


def test_the_summary_shows_each_application_with_its_state_and_each_conversations_newest_messages(
    database_url: str,
) -> None:
    """A citizen with a long history: the SHOWN newest applications, each with its state from
    its departments (one waiting for a fee); the whole timeline of one; each conversation's
    SHOWN newest messages, oldest first; nothing of anyone else's."""
    from datetime import UTC, datetime, timedelta

    from litestar.exceptions import NotFoundException

    from portal.applications.models import DepartmentRequest, TimelineEvent
    from portal.applications.references import new_reference
    from portal.applications.states import events_of
    from portal.assisted.service import SHOWN, application_of, summary
    from portal.conversations.models import ChatMessage, Conversation
    from portal.forms.models import Draft

    async def run() -> None:
        engine = make_engine(database_url)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        async with AsyncSession(engine) as db:
            citizen = Citizen(issuer="test", subject=secrets.token_hex(8), name="Long History")
            other = Citizen(issuer="test", subject=secrets.token_hex(8), name="Someone Else")
            db.add_all([citizen, other])
            await db.flush()
            made: list[tuple[Citizen, Application]] = []
            # The citizen's SHOWN + 2 applications, oldest first; the other's one, newest of all.
            for n, owner in enumerate([*[citizen] * (SHOWN + 2), other]):
                draft = Draft(citizen_id=owner.id, service_id="open-business", answers={})
                db.add(draft)
                await db.flush()
                application = Application(
                    reference=new_reference(),
                    citizen_id=owner.id,
                    draft_id=draft.id,
                    service_id="open-business",
                    answers={},
                    language="en",
                    submitted_at=start + timedelta(days=n),
                )
                db.add(application)
                await db.flush()
                made.append((owner, application))
                for department, status in (("trade-licence", "approved"), ("tax", "in_review")):
                    db.add(
                        DepartmentRequest(
                            application_id=application.id, department=department, status=status
                        )
                    )
            references = [application.reference for _, application in made]
            newest, newest_id = references[SHOWN + 1], made[SHOWN + 1][1].id
            await db.execute(
                update(DepartmentRequest)
                .where(DepartmentRequest.application_id == newest_id)
                .values(status="fee_due")
            )
            for n in range(15):
                db.add(
                    TimelineEvent(
                        application_id=newest_id,
                        status="in_review",
                        note=f"event {n}",
                        occurred_at=start + timedelta(hours=n),
                    )
                )
            for owner, count in ((citizen, SHOWN + 5), (citizen, 2), (other, 4)):
                conversation = Conversation(
                    key=secrets.token_hex(16),
                    channel="web",
                    address=secrets.token_hex(8),
                    citizen_id=owner.id,
                    language="en",
                    status="bot",
                )
                db.add(conversation)
                await db.flush()
                for n in range(count):
                    db.add(
                        ChatMessage(
                            conversation_id=conversation.id,
                            direction="in",
                            author="citizen",
                            body=f"message {n}",
                        )
                    )
            await db.commit()
            await db.refresh(citizen)
            held = await summary(db, citizen)
            opened = await application_of(db, citizen, newest)
            timeline = await events_of(db, opened.id)
            with pytest.raises(NotFoundException):
                await application_of(db, citizen, references[-1])  # someone else's
        await engine.dispose()
        mine = references[: SHOWN + 2]
        assert [s.application.reference for s in held.applications] == mine[::-1][:SHOWN]
        assert [s.state for s in held.applications] == ["action_needed"] + ["in_progress"] * (
            SHOWN - 1
        )
        assert held.fee_due == {newest_id} and held.more_applications
        assert [e.note for e in timeline] == [f"event {n}" for n in range(14, -1, -1)]
        transcripts = sorted(
            ([m.body for m in messages] for _, messages in held.conversations), key=len
        )
        assert transcripts == [
            ["message 0", "message 1"],
            [f"message {n}" for n in range(5, SHOWN + 5)],
        ]

    run_async(run())
