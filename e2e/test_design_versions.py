"""Service versions in a real browser, on a portal of two workers (issue 18): a publish is
served by every worker within two seconds without a restart; a draft started on version 1
says so on its check page and is sent with it; a version shown in English to Arabic readers
says so; a retired service says it is no longer available. Each page axe-clean, photographed
in English and Arabic."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import ROOT, Sandbox, migrate
from e2e.conftest import (
    axe_violations,
    contexts_on,
    running_portal,
)
from e2e.test_journeys import SIGN_IN
from portal.design import store
from portal.i18n.catalogue import load_catalogues
from tests.design_support import catalogue_in, changed, design_catalogue, with_db
from tests.test_design_journeys import VERSION_2
from tests.test_design_store import A, publish_new

SHOTS = Path(os.environ.get("FRONTDOOR_SHOTS", "/work/notes/shots/registry"))
RENAMED = changed(VERSION_2, "Apply for a design test permit", "Apply for a renamed permit")


@pytest.fixture(scope="module")
def design(
    sandbox_process: Sandbox,
    postgres_database: Callable[[], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str, Path]]:
    """A portal of two workers (and the outbox worker) serving the design tests' service, on a
    database of its own: its address, its database and its catalogue folder."""
    load_catalogues(ROOT / "locales", ("en", "es", "ar"))  # the store checks served languages
    database = postgres_database()
    migrate(database)
    catalogue = design_catalogue(tmp_path_factory.mktemp("design") / "catalogue")
    with running_portal(
        sandbox_process,
        database,
        tmp_path_factory,
        "design-portal",
        workers=2,
        ready_seconds=120,
        catalogue_dir=str(catalogue),
    ) as url:
        yield url, database, catalogue


@pytest.fixture
def open_page(design: tuple[str, str, Path], browser: Browser) -> Iterator[Callable[..., Page]]:
    with contexts_on(browser, design[0]) as context:

        def make(language: str = "en") -> Page:
            return context(locale=language).new_page()

        yield make


def clean(page: Page, shot: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
    assert axe_violations(page) == [], page.url


def start(page: Page, user: str, language: str) -> str:
    """Sign in and start the service; its /drafts/<id> path."""
    page.goto("/services/design-permit/apply")
    page.get_by_role("button", name=SIGN_IN[language]).click()
    page.get_by_role("button", name=re.compile(rf"\({user}\)")).click()
    expect(page).to_have_url(re.compile(r"/drafts/d_[0-9a-f]+/name$"))
    found = re.search(r"/drafts/d_[0-9a-f]+", page.url)
    assert found
    return found.group(0)


def every_worker_serves(url: str, text: str, path: str = "/services/design-permit") -> float:
    """Seconds until `text` was served by every request from then on (ten in a row, spread
    over both workers)."""
    began = time.monotonic()
    streak: list[float] = []
    while len(streak) < 10:
        asked = time.monotonic()
        body = httpx.get(f"{url}{path}").text
        streak = [*streak, asked] if text in body else []
        assert time.monotonic() - began < 10.0, f"{text!r} is not served everywhere"
        time.sleep(0.02)
    return streak[0] - began


def test_versions_retiring_and_english_fallback_on_two_workers(
    design: tuple[str, str, Path], open_page: Callable[..., Page]
) -> None:
    url, database, catalogue_dir = design
    omar = open_page("en")
    base = start(omar, "omar", "en")
    omar.locator("#name").fill("Omar Haddad")
    omar.locator("main form button.govuk-button").last.click()
    expect(omar).to_have_url(re.compile(r"/check$"))
    expect(omar.locator("[data-fd-service-version]")).to_have_text("Version 1 of this service")

    # Version 2 (Arabic and Spanish shown in English) is served by both workers within 2 s.
    publish_new(database, catalogue_in(catalogue_dir), RENAMED)
    assert every_worker_serves(url, "Apply for a renamed permit") < 2.0

    lee = open_page("ar")
    lee_base = start(lee, "lee", "ar")
    expect(lee.locator("[data-fd-english-fallback]")).to_contain_text("العربية")
    clean(lee, "fallback-step-ar")
    lee.goto("/services/design-permit")
    expect(lee.locator("[data-fd-english-fallback]")).to_be_visible()
    clean(lee, "fallback-start-ar")
    lee.locator("#name").count()  # the page is whole
    assert lee_base != base

    # Omar's draft goes on with version 1 and says so; its application too.
    omar.reload()
    expect(omar.locator("[data-fd-service-version]")).to_have_text("Version 1 of this service")
    expect(omar.get_by_text("Which colour")).to_have_count(0)
    clean(omar, "check-version-1-en")
    omar.locator('form[action$="/submit"] button').click()
    expect(omar).to_have_url(re.compile(r"/confirmation$"))
    reference = re.search(r"FD-[0-9A-Z]{4}-[0-9A-Z]{4}", omar.url)
    assert reference
    omar.goto(f"/applications/{reference.group(0)}")
    expect(omar.locator("[data-fd-service-version]")).to_have_text("Version 1 of this service")
    clean(omar, "application-version-1-en")

    # Retired: gone from both workers' catalogues; its start page says so, in both languages.
    async def retire(db: AsyncSession) -> None:
        await store.retire(db, "design-permit", A)

    with_db(database, retire)
    every_worker_serves(url, "no longer available")
    for language, page in (("en", omar), ("ar", lee)):
        page.goto("/services/design-permit")
        expect(page.locator("h1")).to_be_visible()
        clean(page, f"retired-{language}")
    omar.goto("/services")
    expect(omar.locator('main a[href="/services/design-permit"]')).to_have_count(0)
