"""The designers' area as designers use it: the list of services, a clone edited with every
problem named by its line, the outline, four eyes on publishing, and the service live for
citizens right after, on a database of its own (the services it creates stay out of others')."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import migrate, run_async
from portal.applications.models import Application
from portal.database import make_engine
from portal.outbox.models import OutboxMessage
from tests.conftest import PortalFactory
from tests.support import csrf_token, sign_in_as


@pytest.fixture(params=["sqlite", "postgresql"])
def private_url(request: pytest.FixtureRequest, fresh_database: Callable[[str], str]) -> str:
    url = fresh_database(request.param)
    migrate(url)
    return url


def _designer(portal_factory: PortalFactory, url: str, who: str) -> TestClient[Any]:
    client = portal_factory(database_url=url, catalogue_check_seconds=0)
    assert sign_in_as(client, who, "/staff/services", staff=True).status_code == 303
    return client


def _text(html: str) -> str:
    """What a reader sees: the page without its tags."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_only_designers_open_the_services_area(
    portal_factory: PortalFactory, private_url: str
) -> None:
    editor = portal_factory(database_url=private_url)
    sign_in_as(editor, "editor", "/staff/translations", staff=True)
    assert editor.get("/staff/services").status_code == 403
    dana = _designer(portal_factory, private_url, "designer")
    page = dana.get("/staff/services")
    assert page.status_code == 200
    listed = _text(page.text)
    assert "Open a business" in listed and "Live" in listed
    assert 'href="/staff/services"' in page.text  # the staff header names the area


def test_a_clone_is_edited_checked_by_line_and_published_by_another_designer(
    portal_factory: PortalFactory, private_url: str
) -> None:
    dana = _designer(portal_factory, private_url, "designer")
    token = csrf_token(dana.get("/staff/services").text)
    made = dana.post(
        "/staff/services",
        data={"_csrf_token": token, "new_id": "open-a-shop", "clone_from": "open-business"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    editor_path = made.headers["location"]
    assert editor_path == "/staff/services/open-a-shop/versions/1"
    page = dana.get(editor_path).text
    source = re.search(r'<textarea[^>]*id="source"[^>]*>(.*?)</textarea>', page, re.S)
    assert source is not None
    original = unescape(source.group(1)).lstrip("\n")
    assert "Page" in _text(page) and 'href="#line-' in page  # the outline links to lines

    broken = original.replace("type: text", "type: txet", 1)
    line = broken.splitlines().index(next(x for x in broken.splitlines() if "type: txet" in x))
    saved = dana.post(
        editor_path, data={"_csrf_token": csrf_token(page), "source": broken, "action": "submit"}
    )
    assert saved.status_code == 400
    shown = _text(saved.text)
    assert (
        f"Line {line + 1}: steps[0].fields[0].type: 'txet' is not a field type; "
        "did you mean 'text'?" in shown
    )
    assert "type: txet" in unescape(saved.text)  # what was typed is kept
    live = dana.post(
        f"{editor_path}/check",
        data={"_csrf_token": csrf_token(page), "source": broken},
        headers={"HX-Request": "true"},
    )
    assert "did you mean 'text'?" in _text(live.text) and "<html" not in live.text

    sent = dana.post(
        editor_path,
        data={"_csrf_token": csrf_token(page), "source": original, "action": "submit"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    page = dana.get(editor_path).text
    assert "In review" in _text(page)
    refused = dana.post(f"{editor_path}/publish", data={"_csrf_token": csrf_token(page)})
    assert refused.status_code == 400
    assert "Another designer must publish it" in _text(refused.text)
    assert dana.get("/services/open-a-shop").status_code == 404

    paz = _designer(portal_factory, private_url, "publisher")
    page = paz.get(editor_path).text
    published = paz.post(
        f"{editor_path}/publish", data={"_csrf_token": csrf_token(page)}, follow_redirects=False
    )
    assert published.status_code == 303
    service = paz.get("/staff/services/open-a-shop").text
    assert "Published" in _text(service) and "published a version" in _text(service)
    assert dana.get("/services/open-a-shop").status_code == 200  # live for citizens


def test_a_new_id_that_is_not_one_is_refused_with_what_to_do(
    portal_factory: PortalFactory, private_url: str
) -> None:
    dana = _designer(portal_factory, private_url, "designer")
    token = csrf_token(dana.get("/staff/services").text)
    refused = dana.post(
        "/staff/services", data={"_csrf_token": token, "new_id": "Dog Licence", "clone_from": ""}
    )
    assert refused.status_code == 400
    assert "Enter an id of lowercase letters" in _text(refused.text)
    assert 'value="Dog Licence"' in refused.text


def test_a_preview_walks_the_draft_as_a_citizen_and_sends_nothing(
    portal_factory: PortalFactory, private_url: str
) -> None:
    dana = _designer(portal_factory, private_url, "designer")
    token = csrf_token(dana.get("/staff/services").text)
    made = dana.post(
        "/staff/services",
        data={"_csrf_token": token, "new_id": "try-me", "clone_from": ""},
        follow_redirects=False,
    )
    editor = dana.get(made.headers["location"]).text
    assert "Preview this version" in _text(editor)
    started = dana.post(
        f"{made.headers['location']}/preview",
        data={"_csrf_token": csrf_token(editor)},
        follow_redirects=False,
    )
    step = started.headers["location"]
    assert re.fullmatch(r"/drafts/d_[0-9a-f]+/first-question", step)
    page = dana.get(step, headers={"accept-language": "ar"}).text
    assert "Preview" in _text(dana.get(step).text) and "The first question" in _text(page)
    answered = dana.post(
        step,
        data={"_csrf_token": csrf_token(page), "first_answer": "Hello"},
        follow_redirects=False,
    )
    check = dana.get(answered.headers["location"]).text
    assert "Hello" in _text(check)
    base = step.rsplit("/", 1)[0]
    for _ in range(2):  # a second press sends nothing either
        shown = dana.post(f"{base}/submit", data={"_csrf_token": csrf_token(check)})
        assert shown.status_code == 200
        text = _text(shown.text)
        assert "What the departments would receive" in text and "Tax office" in text
        assert '"first_answer": "Hello"' in unescape(shown.text)
    assert dana.get("/services/try-me").status_code == 404  # not live
    ended = dana.post("/staff/services/preview/end", data={"_csrf_token": csrf_token(check)})
    assert ended.status_code == 200
    assert dana.get(step, follow_redirects=False).status_code in (303, 404)

    async def count() -> tuple[int, int]:
        engine = make_engine(private_url)
        async with AsyncSession(engine) as db:
            applications = await db.scalar(select(func.count(Application.id)))
            messages = await db.scalar(select(func.count(OutboxMessage.id)))
        await engine.dispose()
        return int(applications or 0), int(messages or 0)

    assert run_async(count()) == (0, 0)  # no application, nothing queued for a department


def test_a_preview_on_another_worker_right_after_the_save_finds_the_version(
    portal_factory: PortalFactory, private_url: str
) -> None:
    """Two portal workers checking the versions once a minute: the designer's save lands on one,
    the preview on the other, and the preview still opens the version just saved."""
    other = portal_factory(database_url=private_url, catalogue_check_seconds=60)
    dana = _designer(portal_factory, private_url, "designer")
    token = csrf_token(dana.get("/staff/services").text)
    made = dana.post(
        "/staff/services",
        data={"_csrf_token": token, "new_id": "fresh-one", "clone_from": ""},
        follow_redirects=False,
    )
    editor = dana.get(made.headers["location"]).text
    other.cookies = dana.cookies  # the load balancer sends her next request to the other worker
    started = other.post(
        f"{made.headers['location']}/preview",
        data={"_csrf_token": csrf_token(editor)},
        follow_redirects=False,
    )
    assert re.fullmatch(r"/drafts/d_[0-9a-f]+/first-question", started.headers["location"])
    page = other.get(started.headers["location"])
    assert page.status_code == 200 and "The first question" in _text(page.text)
