"""DIGIT's master data and texts in the staff areas, against the sandbox's DIGIT over HTTP and a
PostgreSQL database of each test's own: a designer refreshes a question's options from MDMS
into a new draft (what changed shown, reviewed and published with four eyes), DIGIT down or
answering badly writes nothing; editors import DIGIT's messages as drafts, and once another
editor publishes them Spanish readers see DIGIT's Spanish label."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import Sandbox, migrate
from portal.design.models import ServiceVersion
from portal.translations.models import TranslationEdit
from tests.conftest import PortalFactory
from tests.design_support import with_db
from tests.support import csrf_token, sign_in_as
from tests.test_translations import newest_draft, publish

SERVICE = "digit-complaint"
EDITOR = f"/staff/services/{SERVICE}/versions"
# A complaint service whose questions take their options from DIGIT; version 1 was written by
# hand (an option DIGIT does not have, one DIGIT names differently, made-up localities).
DEFINITION = f"""id: {SERVICE}
topic: streets
title: Report a problem to the city's complaints desk
summary: Tell the complaints desk about a problem in a street.
duration: About 3 minutes.
cost: Free.
declaration: I confirm that this report is true to the best of my knowledge.
what_happens_next: The complaints desk looks at your report.
steps:
  - id: category
    fields:
      - id: category
        type: radios
        # Kept in step with DIGIT: Services > Refresh options from DIGIT.
        options_from: mdms-complaint-types
        label: What is the problem?
        options:
          - value: pothole
            label: A pothole in the road
          - value: GarbageNeedsTobeCleared
            label: Rubbish to collect
            hint: Bags or bins left in the street
        errors:
          required: Select what the problem is
  - id: locality
    fields:
      - id: locality
        type: select
        options_from: mdms-localities
        label: Which part of the city is it in?
        options:
          - value: harbour
            label: The harbour
          - value: centre
            label: The town centre
deliver_to:
  - department: tax
"""
DASH = "\u2013"  # what the table shows where nothing is translated yet
TYPES = {
    "StreetLightNotWorking": "Street light not working",
    "GarbageNeedsTobeCleared": "Garbage needs to be cleared",
    "BlockOrOverflowingSewage": "Blocked or overflowing sewage",
    "DamagedRoad": "Damaged road",
}


@pytest.fixture
def database(fresh_database: Callable[[str], str]) -> str:
    url = fresh_database("postgresql")
    migrate(url)
    return url


def _text(html: str) -> str:
    """What a reader sees of a page's body: its text without tags, spaces collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html.split("<body", 1)[-1], flags=re.S)
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())
    return text.replace("( ", "(").replace(" )", ")")


def staff(portal_factory: PortalFactory, database: str, who: str, area: str) -> TestClient[Any]:
    client = portal_factory(database_url=database, catalogue_check_seconds=0)
    assert sign_in_as(client, who, area, staff=True).status_code == 303
    return client


def post_form(client: TestClient[Any], page: str, target: str, **data: Any) -> httpx.Response:
    token = csrf_token(client.get(page).text)
    response: httpx.Response = client.post(
        target, data={"_csrf_token": token, **data}, follow_redirects=False
    )
    return response


def publish_version(dana: TestClient[Any], paz: TestClient[Any], number: int) -> None:
    """Dana lets Spanish and Arabic show English until translated and submits; Paz publishes."""
    path = f"{EDITOR}/{number}"
    fallback = post_form(dana, path, f"{path}/fallback", languages=["es", "ar"])
    assert fallback.status_code == 303
    source = dana_source(dana, number)
    submitted = post_form(dana, path, path, source=source, action="submit")
    assert submitted.status_code == 303, _text(submitted.text)
    published = post_form(paz, path, f"{path}/publish")
    assert published.status_code == 303, _text(published.text)


def dana_source(client: TestClient[Any], number: int) -> str:
    page = client.get(f"{EDITOR}/{number}").text
    found = re.search(r'<textarea[^>]*id="source"[^>]*>(.*?)</textarea>', page, re.S)
    assert found is not None
    return unescape(found.group(1)).lstrip("\n")


def live_service(portal_factory: PortalFactory, database: str) -> tuple[Any, Any]:
    """Dana imports version 1, Paz publishes it: (Dana, Paz)."""
    dana = staff(portal_factory, database, "designer", "/staff/services")
    paz = staff(portal_factory, database, "publisher", "/staff/services")
    made = post_form(dana, "/staff/services/import", "/staff/services/import", source=DEFINITION)
    assert made.status_code == 303 and made.headers["location"] == f"{EDITOR}/1"
    publish_version(dana, paz, 1)
    return dana, paz


def versions(database: str) -> list[tuple[int, str]]:
    async def read(db: AsyncSession) -> list[tuple[int, str]]:
        rows = await db.execute(
            select(ServiceVersion.number, ServiceVersion.state)
            .where(ServiceVersion.service_id == SERVICE)
            .order_by(ServiceVersion.number)
        )
        return [(number, state) for number, state in rows]

    return with_db(database, read)


def refresh(client: TestClient[Any]) -> httpx.Response:
    return post_form(client, f"/staff/services/{SERVICE}", f"/staff/services/{SERVICE}/master-data")


def test_a_designer_refreshes_options_from_digit_into_a_new_draft_reviewed_as_any_other(
    portal_factory: PortalFactory, database: str, sandbox: Sandbox
) -> None:
    dana, paz = live_service(portal_factory, database)
    service_page = _text(dana.get(f"/staff/services/{SERVICE}").text)
    assert "Refresh options from DIGIT" in service_page

    done = refresh(dana)
    assert done.status_code == 200, _text(done.text)
    shown = _text(done.text)
    assert "Version 2 is a draft with DIGIT's options" in shown
    assert (
        "3 options added" in shown and "Street light not working (StreetLightNotWorking)" in shown
    )
    assert "1 option removed" in shown and "A pothole in the road (pothole)" in shown
    assert "1 option renamed" in shown
    assert "Rubbish to collect becomes Garbage needs to be cleared" in shown
    assert "Harbour (RV001)" in shown and "Riverside North (RV003)" in shown
    assert "The town centre (centre)" in shown
    assert "No street light" not in shown  # DIGIT's inactive type stays out
    assert versions(database) == [(1, "published"), (2, "draft")]

    source = dana_source(dana, 2)
    for code, name in TYPES.items():
        assert f"- value: {code}\n            label: {name}\n" in source
    assert "value: pothole" not in source
    assert "hint: Bags or bins left in the street" in source  # kept with its value
    assert "        # Kept in step with DIGIT: Services > Refresh options from DIGIT.\n" in source
    assert "value: RV002\n            label: Old Town" in source
    # Everything else as written: the text outside the two lists is version 1's.
    outside = re.compile(r"\n        options:\n(?:          .*\n)+")
    assert outside.sub("\n", source) == outside.sub("\n", DEFINITION)
    editor_page = dana.get(f"{EDITOR}/2")
    assert "govuk-error-summary" not in editor_page.text  # the checker accepts DIGIT's codes

    again = refresh(dana)  # the open draft already says what DIGIT says
    assert "The options already match DIGIT: nothing has changed." in _text(again.text)
    assert versions(database) == [(1, "published"), (2, "draft")]

    # Citizens keep version 1 until another designer publishes version 2.
    omar = portal_factory(database_url=database, catalogue_check_seconds=0)
    assert sign_in_as(omar, "omar").status_code == 303
    step = citizen_step(omar, "en")
    assert "A pothole in the road" in step and "Street light not working" not in step
    publish_version(dana, paz, 2)
    lee = portal_factory(database_url=database, catalogue_check_seconds=0)
    assert sign_in_as(lee, "lee").status_code == 303  # Omar's draft stays on version 1
    step = citizen_step(lee, "en")
    assert "Street light not working" in step and "A pothole in the road" not in step

    history = _text(dana.get(f"/staff/services/{SERVICE}").text)
    assert "refreshed the options from DIGIT (Version 2)" in history


def citizen_step(citizen: TestClient[Any], language: str) -> str:
    """The visible text of the service's first question, as a new draft shows it."""
    started = citizen.get(f"/services/{SERVICE}/apply", follow_redirects=False)
    assert started.status_code == 303, started.text[:300]
    page = citizen.get(started.headers["location"], headers={"accept-language": language})
    assert page.status_code == 200
    return _text(page.text)


@pytest.mark.parametrize("trouble", ["down", "malformed"])
def test_digit_down_or_answering_badly_writes_no_version(
    portal_factory: PortalFactory, database: str, sandbox: Sandbox, trouble: str
) -> None:
    dana, _paz = live_service(portal_factory, database)
    if trouble == "down":
        sandbox.set_fault("digit", down=True)
    else:
        httpx.put(
            f"{sandbox.url}/_sandbox/digit/malformed", json={"mode": "wrong-shape", "count": 5}
        ).raise_for_status()
    try:
        failed = refresh(dana)
    finally:  # the sandbox's other tests get DIGIT's answers whole again
        httpx.put(f"{sandbox.url}/_sandbox/digit/malformed", json={"mode": None}).raise_for_status()
    assert failed.status_code == 502
    shown = _text(failed.text)
    assert "The options were not refreshed" in shown
    expected = (
        "DIGIT could not be reached or did not answer in time. Nothing has changed"
        if trouble == "down"
        else "DIGIT's answer was not what the portal expects. Nothing has changed"
    )
    assert expected in shown
    assert versions(database) == [(1, "published")]
    history = _text(dana.get(f"/staff/services/{SERVICE}").text)
    assert "tried to refresh the options from DIGIT, which failed" in history


def import_digit(client: TestClient[Any], **fields: str) -> httpx.Response:
    data = {"module": "rainmaker-pgr", "locale-es": "es", "locale-ar": "ar", **fields}
    return post_form(client, "/staff/translations/digit", "/staff/translations/digit", **data)


def drafts(database: str) -> int:
    async def count(db: AsyncSession) -> int:
        return int(await db.scalar(select(func.count()).select_from(TranslationEdit)) or 0)

    return with_db(database, count)


def test_digit_messages_become_drafts_and_once_published_citizens_read_them(
    portal_factory: PortalFactory, database: str, sandbox: Sandbox
) -> None:
    dana, paz = live_service(portal_factory, database)
    assert refresh(dana).status_code == 200  # version 2 (a draft) has DIGIT's English names
    eli = staff(portal_factory, database, "editor", "/staff/translations")
    rui = staff(portal_factory, database, "reviewer", "/staff/translations")
    assert "Import from DIGIT" in _text(eli.get("/staff/translations/import").text)

    # Bad input and DIGIT in trouble: said plainly, nothing written.
    wrong = import_digit(eli, **{"locale-es": "ar_IN"})
    assert wrong.status_code == 400
    assert "ar_IN is not a DIGIT locale of this language" in _text(wrong.text)
    sandbox.set_fault("digit", down=True)
    down = import_digit(eli)
    assert down.status_code == 502
    assert "DIGIT could not be reached or did not answer in time." in _text(down.text)
    assert "Nothing was imported" in _text(down.text)
    sandbox.reset()
    httpx.put(
        f"{sandbox.url}/_sandbox/digit/malformed", json={"mode": "not-json", "count": 1}
    ).raise_for_status()
    bad = import_digit(eli)  # English read badly: nothing of the rest is kept either
    assert bad.status_code == 502
    assert "DIGIT's answer was not what the portal expects." in _text(bad.text)
    assert drafts(database) == 0

    done = import_digit(eli)
    assert done.status_code == 200, _text(done.text)
    shown = _text(done.text)
    # DIGIT's rainmaker-pgr: 4 complaint types and 7 complaint states in English; the types
    # are the draft's labels, and "Rejected" is one of the portal's own texts.
    assert "English texts read 11" in shown
    assert "Matched texts of the portal 5" in shown
    assert "6 DIGIT texts match no English text of the portal" in shown
    table = done.text.split("data-fd-digit-drafts", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", table, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    proposed = {tuple(_text(cell) for cell in row) for row in cells if row}
    assert ("Garbage needs to be cleared", "Español", DASH, "Basura por recoger") in proposed
    assert ("Damaged road", "العربية", DASH, "طريق متضرر") in proposed
    ours = {row for row in proposed if row[0] in TYPES.values()}
    assert len(ours) == 8  # four labels in Spanish and in Arabic
    assert f"New drafts {len(proposed)}" in shown
    assert f"{len(proposed)} new drafts are waiting for another editor's review" in shown
    assert drafts(database) == len(proposed)

    again = import_digit(rui)  # the same drafts are not proposed twice
    assert "New drafts 0" in _text(again.text)
    assert "Español: 4 texts are already waiting for review" in _text(again.text)
    assert drafts(database) == len(proposed)

    # Another editor publishes them; the designers publish version 2; Spanish readers see
    # DIGIT's Spanish name of the complaint type.
    for language in ("es", "ar"):
        for name in TYPES.values():
            edit = newest_draft(rui, language, name)
            assert publish(rui, edit).status_code == 303
    publish_version(dana, paz, 2)
    omar = portal_factory(database_url=database, catalogue_check_seconds=0)
    assert sign_in_as(omar, "omar").status_code == 303
    spanish = citizen_step(omar, "es")
    assert "Basura por recoger" in spanish and "Garbage needs to be cleared" not in spanish
    assert "نفايات تحتاج إلى إزالة" in citizen_step(omar, "ar")

    admin = portal_factory(database_url=database)
    sign_in_as(admin, "admin", "/staff/audit", staff=True)
    trail = admin.get("/staff/audit").text
    for action in (
        "translations_imported_from_digit",
        "translations_digit_import_failed",
        "service_options_refreshed",
    ):
        assert action in trail
