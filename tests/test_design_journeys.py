"""Citizens and service versions (issue 18): a draft keeps the version it started with after a
new one is published, and so do its application and its delivery; a retired service leaves the
catalogue and takes no new drafts while every draft and application made with it goes on."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import Sandbox, migrate
from portal.applications.models import Application
from portal.design import store
from tests.conftest import PortalFactory
from tests.design_support import PERMIT, catalogue_in, changed, design_catalogue, with_db
from tests.journey_support import answer, check_token, reference_of, run_worker, submit
from tests.support import csrf_token, sign_in_as
from tests.test_design_store import A, publish_new

# Version 2 asks the name differently and adds a question.
VERSION_2 = changed(
    changed(PERMIT, "What is your full name?", "What name should the permit show?"),
    "deliver_to:",
    """  - id: colour
    fields:
      - id: colour
        type: radios
        label: Which colour should the permit be?
        options:
          - value: red
            label: Red
          - value: blue
            label: Blue
deliver_to:""",
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, fresh_database: Callable[[str], str]) -> str:
    url = fresh_database(request.param)
    migrate(url)
    return url


@pytest.fixture
def catalogue_dir(tmp_path: Path) -> Path:
    return design_catalogue(tmp_path / "catalogue")


def citizen(portal_factory: PortalFactory, database: str, catalogue_dir: Path, who: str) -> Any:
    client = portal_factory(database_url=database, catalogue_dir=catalogue_dir)
    assert sign_in_as(client, who).status_code == 303
    return client


def start(client: Any) -> tuple[str, str]:
    """Start the service: the draft's path and its first page's address."""
    response = client.get("/services/design-permit/apply", follow_redirects=False)
    assert response.status_code == 303, response.text[:500]
    location = response.headers["location"]
    match = re.match(r"(/drafts/d_[0-9a-f]+)/", location)
    assert match, location
    return match.group(1), location


def test_a_draft_keeps_its_version_after_a_new_one_is_published(
    portal_factory: PortalFactory,
    make_settings: Callable[..., Any],
    database: str,
    catalogue_dir: Path,
    sandbox: Sandbox,
) -> None:
    omar = citizen(portal_factory, database, catalogue_dir, "omar")
    lee = citizen(portal_factory, database, catalogue_dir, "lee")
    base, first = start(omar)
    assert "What is your full name?" in omar.get(first).text
    assert answer(omar, f"{base}/name", {"name": "Omar Haddad"}).status_code == 303

    assert publish_new(database, catalogue_in(catalogue_dir), VERSION_2) == 2
    time.sleep(1.1)  # the next check of the catalogue
    # A new draft is made with version 2 ...
    lee_base, lee_first = start(lee)
    assert "What name should the permit show?" in lee.get(lee_first).text
    assert answer(lee, f"{lee_base}/name", {"name": "Lee Chen"}).status_code == 303
    assert answer(lee, f"{lee_base}/colour", {"colour": "blue"}).status_code == 303
    assert "Version 2 of this service" in lee.get(f"{lee_base}/check").text

    # ... while Omar's goes on with version 1: its questions, its check page, its departments.
    resumed = omar.get("/services/design-permit/apply", follow_redirects=False)
    assert resumed.headers["location"] == f"{base}/check"
    check = omar.get(f"{base}/check").text
    assert "Version 1 of this service" in check and "colour" not in check.casefold()
    assert "Which colour" not in omar.get(f"{base}/colour").text
    reference = reference_of(submit(omar, base))
    page = omar.get(f"/applications/{reference}").text
    assert "Version 1 of this service" in page

    async def pinned(db: AsyncSession) -> int | None:
        return await db.scalar(
            select(Application.service_version).where(Application.reference == reference)
        )

    assert with_db(database, pinned) == 1
    run_worker(make_settings(database_url=database, catalogue_dir=catalogue_dir))
    case = next(
        case
        for case in sandbox.cases("environment")
        if case["request"]["application_reference"] == reference
    )
    assert "Omar Haddad" in str(case["request"]) and "colour" not in str(case["request"])


def test_a_retired_service_leaves_the_catalogue_but_its_drafts_and_applications_go_on(
    portal_factory: PortalFactory,
    make_settings: Callable[..., Any],
    database: str,
    catalogue_dir: Path,
    sandbox: Sandbox,
) -> None:
    omar = citizen(portal_factory, database, catalogue_dir, "omar")
    base, _first = start(omar)
    assert answer(omar, f"{base}/name", {"name": "Omar Haddad"}).status_code == 303
    sent = reference_of(submit(omar, base))
    draft, _first = start(omar)  # another one, left half done
    assert draft != base
    assert answer(omar, f"{draft}/name", {"name": "Omar H."}).status_code == 303

    async def retire(db: AsyncSession) -> None:
        await store.retire(db, "design-permit", A)

    with_db(database, retire)
    time.sleep(1.1)  # the next check of the catalogue
    for path in ("/", "/services", "/services?q=design+test+permit", "/services/topics/community"):
        assert "/services/design-permit" not in omar.get(path).text, path
    gone = omar.get("/services/design-permit")
    assert gone.status_code == 410 and "no longer available" in gone.text
    refused = omar.get("/services/design-permit/apply", follow_redirects=False)
    assert refused.status_code == 410 and "no longer available" in refused.text
    # Every draft and application made with it goes on.
    assert "Apply for a design test permit" in omar.get("/applications").text
    assert omar.get(f"/applications/{sent}").status_code == 200
    token = check_token(omar, draft)
    later = reference_of(submit(omar, draft, token))
    run_worker(make_settings(database_url=database, catalogue_dir=catalogue_dir))
    references = {c["request"]["application_reference"] for c in sandbox.cases("environment")}
    assert {sent, later} <= references

    async def new_version(db: AsyncSession) -> None:
        await store.new_draft(db, "design-permit", A)

    with pytest.raises(store.DesignError):
        with_db(database, new_version)
    assert csrf_token(omar.get("/applications").text)
