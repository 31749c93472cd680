"""An agent finds a citizen from the phone number a caller gives, in a real browser, states the
purpose, and sees the citizen's summary; an administrator then sees who looked at whom."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import BrowserContext, Page, expect

from conftest import Sandbox
from e2e.conftest import axe_violations
from e2e.test_chatbot import in_language
from e2e.test_digit import wait_for
from e2e.test_journeys import REFERENCE, Journey, answer_open_a_business
from tests.support import sign_in_as

SHOTS = Path(os.environ.get("FRONTDOOR_SHOTS", "/work/notes/shots/assisted"))


def _staff_signs_in(page: Page, path: str, button: str) -> None:
    page.goto(path)
    page.locator('a[href^="/staff/sign-in/start"]').click()
    page.get_by_role("button", name=button).click()


def test_an_agent_finds_a_caller_by_phone_and_an_administrator_sees_it(
    base_url: str, new_context: Callable[..., BrowserContext]
) -> None:
    with httpx.Client(base_url=base_url) as lee:  # Lee has used the portal before
        assert sign_in_as(lee, "lee").status_code == 303
    page = new_context(locale="en-GB").new_page()
    _staff_signs_in(page, "/staff/citizens", "Alex Agent (agent)")
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a citizen")
    page.get_by_label("Phone number, email, name or application reference").fill("07700 900123")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the call reference or the reason")
    assert axe_violations(page) == []
    page.get_by_label("Purpose").fill("Call 5521: asks where his application is")
    page.get_by_label("Phone number, email, name or application reference").fill("+44 7400 123456")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Lee Smith").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lee Smith")
    expect(page.get_by_text("Purpose: Call 5521: asks where his application is")).to_be_visible()
    expect(page.get_by_role("heading", name="Applications")).to_be_visible()
    assert axe_violations(page) == []

    admin = new_context(locale="en-GB").new_page()
    _staff_signs_in(admin, "/staff/access", "Ada Admin (admin)")
    expect(admin.get_by_role("heading", level=1)).to_have_text("Access to citizens' details")
    latest = admin.get_by_role("table").locator("tbody tr").first
    expect(latest).to_contain_text("Looked at a citizen")
    expect(latest).to_contain_text("Lee Smith")
    expect(latest).to_contain_text("Call 5521")
    assert axe_violations(admin) == []


def test_the_agents_pages_in_arabic_are_right_to_left_and_accessible(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(locale="ar").new_page()
    _staff_signs_in(page, "/staff/citizens", "Alex Agent (agent)")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text(in_language("ar", "Find a citizen"))
    page.locator("#purpose").fill("مكالمة 77")
    page.locator("#query").fill("Smith")
    page.locator("form[action='/staff/citizens'] button").click()
    expect(page.locator("#results")).to_be_visible()
    assert axe_violations(page) == []


def test_an_agent_opens_a_business_for_a_caller_who_then_sees_it_marked_assisted(
    base_url: str, new_context: Callable[..., BrowserContext], sandbox: Sandbox
) -> None:
    with httpx.Client(base_url=base_url) as ana:  # Ana has an account; she calls for help
        assert sign_in_as(ana, "ana").status_code == 303
    page = new_context(locale="en-GB").new_page()
    journey = Journey(page, javascript=True)
    _staff_signs_in(page, "/staff/citizens", "Alex Agent (agent)")
    page.get_by_label("Purpose").fill("Call 6120: wants to open a bakery")
    page.get_by_label("Phone number, email, name or application reference").fill("600 111 222")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Ana García").click()
    page.get_by_role("button", name="Act for this citizen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record the citizen's consent")
    journey.check()
    page.get_by_label("On this phone call").check()
    page.get_by_label("What did they ask you to do?").fill("Open a business for her bakery")
    page.get_by_role("button", name="Record consent and act for them").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acting for Ana García")
    journey.check()
    page.locator('a[href="/services/open-business/apply"]').first.click()
    expect(page.get_by_role("region", name="Acting for a citizen")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/drafts/d_[0-9a-f]+/business-name$"))
    answer_open_a_business(journey)
    sandbox.set_fault("employer", down=True)  # the employment office cannot be reached for now
    page.locator('form[action$="/submit"] button').click()
    banner = page.get_by_role("alert")
    expect(banner).to_contain_text("Application sent for the citizen")
    journey.check()
    reference = REFERENCE.search(banner.inner_text())
    assert reference, banner.inner_text()
    page.get_by_role("button", name="Stop acting for Ana García").click()
    # Back on her summary: the application is one row with its state; its row opens its timeline.
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana García")
    row = page.get_by_role("row").filter(has_text=reference.group(0))
    expect(row).to_contain_text("In progress")
    assert axe_violations(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "summary-en.png"), full_page=True)
    row.get_by_role("link", name="Open a business").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Open a business")
    expect(page.locator(".fd-timeline")).to_contain_text("Application sent")
    expect(page.locator(".fd-timeline")).to_contain_text(
        "Alex Agent, a call-centre agent, filled it in for the citizen with their consent."
    )
    trouble = page.locator("[data-fd-trouble=employer]")
    wait_for(page, trouble)  # once the worker has tried it
    expect(trouble).to_contain_text(
        "We are having trouble sending the citizen's application to Employment office."
    )
    assert axe_violations(page) == []
    summary_url = page.url.split("/applications/")[0]
    agent_ar = new_context(locale="ar").new_page()
    _staff_signs_in(agent_ar, "/staff/citizens", "Alex Agent (agent)")
    agent_ar.locator("#purpose").fill("مكالمة 78")
    agent_ar.locator("#query").fill("600 111 222")
    agent_ar.locator("form[action='/staff/citizens'] button").click()
    agent_ar.goto(summary_url)
    expect(agent_ar.locator("html")).to_have_attribute("dir", "rtl")
    expect(agent_ar.get_by_role("row").filter(has_text=reference.group(0))).to_contain_text(
        in_language("ar", "In progress")
    )
    assert axe_violations(agent_ar) == []
    agent_ar.screenshot(path=str(SHOTS / "summary-ar.png"), full_page=True)
    agent_ar.locator(f'a[href$="/applications/{reference.group(0)}"]').click()
    expect(agent_ar.locator(".fd-timeline")).to_contain_text(in_language("ar", "Application sent"))
    expect(agent_ar.locator("[data-fd-trouble=employer]")).to_contain_text(
        in_language("ar", "Employment office")
    )
    assert axe_violations(agent_ar) == []
    for view, name in ((page, "en"), (agent_ar, "ar")):
        view.screenshot(path=str(SHOTS / f"application-{name}.png"), full_page=True)

    citizen = new_context(locale="es-ES").new_page()
    citizen.goto(f"/applications/{reference.group(0)}")
    citizen.get_by_role("button", name="Continuar al acceso nacional").click()
    citizen.get_by_role("button", name="Ana García (ana)").click()
    expect(citizen.get_by_text("Asistida")).to_be_visible()
    expect(citizen.locator(".govuk-inset-text")).to_contain_text(
        "Alex Agent, agente del centro de atención, la rellenó por usted con su consentimiento."
    )
    assert axe_violations(citizen) == []
    citizen.get_by_role("link", name="Ver quién ha usado sus datos").first.click()
    expect(citizen.get_by_role("heading", level=1)).to_have_text("Quién ha usado sus datos")
    expect(citizen.locator(".fd-timeline")).to_contain_text(
        f"Alex Agent envió la solicitud {reference.group(0)} por usted"
    )
    expect(citizen.locator(".fd-timeline")).to_contain_text("Usted pidió: Open a business")
    assert axe_violations(citizen) == []
