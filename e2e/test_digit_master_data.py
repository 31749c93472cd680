"""A designer refreshes a question's options from DIGIT's master data in a real browser, on the
portal `make run` starts and the sandbox's DIGIT: the service page's button writes version 2
as a draft and says what changed, in English with JavaScript and in Arabic (right to left)
without it. Each page axe-clean, photographed."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import ROOT, Sandbox, migrate
from e2e.conftest import axe_violations, contexts_on, running_portal
from portal.design import store
from portal.i18n.catalogue import load_catalogues
from tests.design_support import with_db
from tests.test_digit_master_data import DEFINITION, SERVICE

SHOTS = Path(os.environ.get("FRONTDOOR_SHOTS", "/work/notes/shots/mdms"))
A, B = "staff:staff-designer-01", "staff:staff-designer-02"


@pytest.fixture(scope="module")
def portal(
    sandbox_process: Sandbox,
    postgres_database: Callable[[], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str]]:
    """A portal of its own (its address and database), given time to start on a busy machine."""
    load_catalogues(ROOT / "locales", ("en", "es", "ar"))  # the store checks served languages
    database = postgres_database()
    migrate(database)
    with running_portal(
        sandbox_process, database, tmp_path_factory, "mdms-portal", ready_seconds=120
    ) as url:
        yield url, database


@pytest.fixture
def new_context(
    portal: tuple[str, str], browser: Browser
) -> Iterator[Callable[..., BrowserContext]]:
    with contexts_on(browser, portal[0]) as make:
        yield make


def clean(page: Page, shot: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
    assert axe_violations(page) == [], page.url


def live_service(database: str) -> str:
    """A service of its own whose version 1 (hand-written options) is live; its id."""
    service_id = f"digit-complaint-{uuid.uuid4().hex[:6]}"
    source = DEFINITION.replace(f"id: {SERVICE}", f"id: {service_id}", 1)

    async def work(db: AsyncSession) -> None:
        version = await store.create(db, source, A)
        await store.set_fallback(db, version, ["es", "ar"], A)
        assert not (await store.submit_for_review(db, version, A, None)).problems
        assert await store.publish(db, version, B, None) == []

    with_db(database, work)
    return service_id


@pytest.mark.timeout(600)  # a portal of its own starts first, slowly on a busy machine
def test_a_designer_refreshes_options_from_digit(
    new_context: Callable[..., BrowserContext], portal: tuple[str, str]
) -> None:
    for language, javascript in (("en-GB", True), ("ar", True)):
        service_id = live_service(portal[1])
        dana = designer(new_context, language, javascript)
        dana.goto(f"/staff/services/{service_id}")
        refresh = dana.locator(f'form[action="/staff/services/{service_id}/master-data"] button')
        expect(refresh).to_be_visible()
        suffix = "en" if language == "en-GB" else "ar"
        clean(dana, f"service-{suffix}")
        refresh.click()
        expect(dana.locator("[data-fd-refreshed]")).to_be_visible()
        link = dana.locator(f'a[href="/staff/services/{service_id}/versions/2"]')
        expect(link).to_be_visible()  # version 2, a draft
        category = dana.locator('[data-fd-field="category"]')
        expect(category.locator("[data-fd-added]")).to_contain_text("Street light not working")
        expect(category.locator("[data-fd-removed]")).to_contain_text("A pothole in the road")
        expect(category.locator("[data-fd-renamed]")).to_contain_text("Garbage needs to be cleared")
        locality = dana.locator('[data-fd-field="locality"]')
        expect(locality.locator("[data-fd-added]")).to_contain_text("Riverside North")
        if suffix == "en":
            expect(dana.locator("[data-fd-refreshed]")).to_contain_text(
                "Version 2 is a draft with DIGIT's options"
            )
            expect(category).to_contain_text("3 options added")
        else:
            expect(dana.locator("html")).to_have_attribute("dir", "rtl")
        clean(dana, f"refreshed-{suffix}")
        link.click()
        source = dana.locator("textarea#source").input_value()
        assert "- value: StreetLightNotWorking\n            label: Street light not working" in (
            source
        )
        expect(dana.locator(".govuk-error-summary")).to_have_count(0)


def designer(new_context: Callable[..., BrowserContext], language: str, javascript: bool) -> Page:
    """Dana signed in to the designers' area, in `language`, with or without JavaScript."""
    page = new_context(locale=language, java_script_enabled=javascript).new_page()
    page.goto("/staff/services")
    page.locator('a[href^="/staff/sign-in/start"], button[type=submit]').first.click()
    page.get_by_role("button", name=re.compile(r"\(designer\)")).click()
    page.wait_for_url("**/staff/services")
    return page


def test_the_refresh_works_without_javascript(
    new_context: Callable[..., BrowserContext], portal: tuple[str, str]
) -> None:
    service_id = live_service(portal[1])
    dana = designer(new_context, "ar", False)
    dana.goto(f"/staff/services/{service_id}")
    dana.locator(f'form[action="/staff/services/{service_id}/master-data"] button').click()
    expect(dana.locator("[data-fd-refreshed]")).to_be_visible()
    expect(dana.locator('[data-fd-field="category"] [data-fd-added]')).to_contain_text(
        "Damaged road"
    )
    expect(dana.locator("html")).to_have_attribute("dir", "rtl")
