"""The header says who is signed in: a citizen finds their applications and account, staff
their areas by role, their name and sign out; an agent's "Acting for a citizen" banner shows
on that citizen's journey only and ends with "Stop acting for <name>"; the search accepts its
own hint; a date reads the same on a staff page and a citizen page, in the city's time."""

from __future__ import annotations

import re
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import run_async
from e2e.conftest import axe_violations
from e2e.test_assisted import _staff_signs_in
from portal.audit.models import AuditEvent
from portal.database import make_engine

PURPOSE = "Call 8080: asks about her bakery"


def _citizen_signs_in(page: Page, user: str) -> None:
    page.goto("/account")
    page.locator(
        "form[action='/sign-in/national'] button, a[href^='/sign-in/national']"
    ).first.click()
    page.get_by_role("button", name=re.compile(rf"\({user}\)$")).click()


def _header(page: Page) -> str:
    return page.locator(".govuk-service-navigation").inner_text()


@pytest.mark.parametrize("locale", ["en-GB", "ar"])
def test_a_signed_in_citizen_finds_their_applications_in_the_header(
    new_context: Callable[..., BrowserContext], locale: str
) -> None:
    page = new_context(locale=locale).new_page()
    page.goto("/")
    expect(page.locator(".govuk-service-navigation a[href='/sign-in']")).to_be_visible()
    _citizen_signs_in(page, "ana")
    navigation = page.locator(".govuk-service-navigation")
    expect(navigation.locator("a[href='/sign-in']")).to_have_count(0)
    if locale == "en-GB":
        assert "Your applications" in _header(page) and "Your account" in _header(page)
    navigation.locator("a[href='/applications']").click()
    expect(page).to_have_url(re.compile(r"/applications$"))
    assert axe_violations(page) == []


@pytest.mark.parametrize(
    ("who", "button", "areas", "not_theirs"),
    [
        ("Alex Agent", "Alex Agent (agent)", ["Find a citizen", "Inbox"], "Translations"),
        ("Eli Editor", "Eli Editor (editor)", ["Translations"], "Find a citizen"),
        (
            "Ada Admin",
            "Ada Admin (admin)",
            ["Audit trail", "Access log", "Payments", "Backends"],
            "Find a citizen",
        ),
    ],
)
def test_staff_pages_have_a_staff_header_by_role(
    new_context: Callable[..., BrowserContext],
    who: str,
    button: str,
    areas: list[str],
    not_theirs: str,
) -> None:
    page = new_context(locale="en-GB").new_page()
    _staff_signs_in(page, "/staff", button)
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff")
    header = _header(page)
    assert "Sign in" not in header and not_theirs not in header
    assert f"Signed in as {who}" in header
    for area in areas:
        assert area in header
    page.locator(".govuk-service-navigation").get_by_role("link", name=areas[0]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(areas[0])
    assert axe_violations(page) == []
    page.locator(".govuk-service-navigation").get_by_role("button", name="Sign out").click()
    expect(page.locator(".govuk-service-navigation a[href='/sign-in']")).to_be_visible()
    page.goto("/staff")
    expect(page).to_have_url(re.compile(r"/staff/sign-in"))


def test_acting_shows_on_the_citizens_journey_only_and_ends_by_name(
    new_context: Callable[..., BrowserContext],
) -> None:
    citizen = new_context(locale="en-GB").new_page()
    _citizen_signs_in(citizen, "ana")  # Ana has an account
    page = new_context(locale="en-GB").new_page()
    _staff_signs_in(page, "/staff/citizens", "Alex Agent (agent)")
    page.get_by_label("Purpose").fill(PURPOSE)
    page.get_by_label("Phone number, email, name or application reference").fill("Ana García")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Ana García").click()
    summary = page.url
    page.get_by_role("button", name="Act for this citizen").click()
    page.get_by_label("On this phone call").check()
    page.get_by_label("What did they ask you to do?").fill("Open a business for her bakery")
    page.get_by_role("button", name="Record consent and act for them").click()
    page.locator('a[href="/services/open-business/apply"]').first.click()
    banner = page.get_by_role("region", name="Acting for a citizen")
    expect(banner).to_be_visible()
    expect(banner.get_by_role("button", name="Stop acting for Ana García")).to_be_visible()
    journey = page.url
    assert axe_violations(page) == []
    for elsewhere in ("/staff/inbox", "/staff", summary):  # not on the inbox or other pages
        page.goto(elsewhere)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.get_by_role("region", name="Acting for a citizen")).to_have_count(0)
    page.goto(journey)
    page.get_by_role("button", name="Stop acting for Ana García").click()
    expect(page).to_have_url(summary)
    page.goto("/services/open-business/apply")  # her journeys are hers alone again
    expect(page).to_have_url(re.compile(r"/sign-in"))


def test_find_a_citizen_accepts_the_number_its_hint_gives(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(locale="en-GB").new_page()
    _staff_signs_in(page, "/staff/citizens", "Alex Agent (agent)")
    hint = page.locator("#query-hint").inner_text()
    example = re.search(r"For example: ([0-9 ()+-]+),", hint)
    assert example, hint
    assert example.group(1) == "612 34 56 78"  # a Spanish mobile: the phone region is ES
    page.get_by_label("Purpose").fill(PURPOSE)
    page.get_by_label("Phone number, email, name or application reference").fill(example.group(1))
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="Results")).to_be_visible()
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    page.get_by_label("Phone number, email, name or application reference").fill("+44 7400 123456")
    page.get_by_role("button", name="Search").click()  # international form: any country
    expect(page.get_by_role("heading", name="Results")).to_be_visible()
    expect(page.locator(".govuk-error-summary")).to_have_count(0)


def test_a_moment_reads_the_same_on_staff_and_citizen_pages_in_the_citys_time(
    new_context: Callable[..., BrowserContext], live_database: str
) -> None:
    citizen = new_context(locale="en-GB").new_page()
    _citizen_signs_in(citizen, "lee")
    agent = new_context(locale="en-GB").new_page()
    _staff_signs_in(agent, "/staff/citizens", "Alex Agent (agent)")
    agent.get_by_label("Purpose").fill(PURPOSE)
    agent.get_by_label("Phone number, email, name or application reference").fill("Lee Smith")
    agent.get_by_role("button", name="Search").click()
    agent.get_by_role("link", name="Lee Smith").click()
    looked = _last_look(live_database)
    at = looked.at.astimezone(ZoneInfo("Europe/Madrid"))
    expected = f"{at.day} {at:%B} {at.year}, {at:%H:%M}"  # 4 December 2026, 14:34
    admin = new_context(locale="en-GB").new_page()
    _staff_signs_in(admin, f"/staff/access?citizen={looked.subject}", "Ada Admin (admin)")
    staff_row = admin.get_by_role("table").locator("tbody tr").first.inner_text()
    citizen.goto("/account/activity")
    citizen_entry = citizen.locator(".fd-timeline__item").first.inner_text()
    assert expected in staff_row, staff_row
    assert expected in citizen_entry, citizen_entry


def _last_look(database: str) -> AuditEvent:
    async def run() -> AuditEvent:
        engine = make_engine(database)
        async with AsyncSession(engine) as db:
            event = await db.scalar(
                select(AuditEvent)
                .where(AuditEvent.action == "citizen_viewed")
                .order_by(AuditEvent.id.desc())
            )
        await engine.dispose()
        assert event is not None
        return event

    result: AuditEvent = run_async(run())
    return result
