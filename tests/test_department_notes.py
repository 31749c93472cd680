"""A department's note reads in the reader's language when the department sent one, and is
otherwise shown as written, marked with its language (so screen readers pronounce it right)."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from litestar.testing import TestClient

from conftest import Sandbox
from portal.app import create_app
from portal.settings import Settings
from tests.journey_support import case_of, sent_application
from tests.support import sign_in_as

NOTE_CLASSES = {"fd-timeline__note", "fd-department-note"}


class _Notes(HTMLParser):
    """The text and `lang` of every department note on a page (timeline and action needed)."""

    def __init__(self) -> None:
        super().__init__()
        self.notes: list[tuple[str, str | None]] = []
        self._open: list[str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if NOTE_CLASSES & set((found.get("class") or "").split()):
            self._open, self._text = [found.get("lang")], []
        elif self._open is not None and found.get("lang"):  # the note's text, marked inside
            self._open[0] = found["lang"]

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open is not None and tag == "p":
            self.notes.append(("".join(self._text).strip(), self._open[0]))
            self._open = None


def notes_on(html: str) -> list[tuple[str, str | None]]:
    parser = _Notes()
    parser.feed(html)
    return parser.notes


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database_url=database_url)


def _asked_for_a_site_plan(client: Any, settings: Settings, sandbox: Sandbox, **note: str) -> str:
    """An application whose environment department asks for a site plan (pushed, signed)."""
    reference = sent_application(client, settings)
    case = case_of(sandbox, "environment", reference)
    sandbox.advance("environment", case["case_id"], status="in_review")
    pushed = sandbox.advance(
        "environment", case["case_id"], status="information_requested", **note
    )["webhook"]
    headers = {"content-type": "application/json", **pushed["headers"]}
    answer = client.post(
        "/webhooks/departments/environment", content=pushed["body"], headers=headers
    )
    assert answer.status_code == 200
    return reference


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("es", "Envíe un plano de situación del local"),
        ("ar", "أرسلوا مخطط موقع المحل"),
        ("en", "Send a site plan of the premises"),
    ],
)
def test_a_department_note_reads_in_the_readers_language(
    settings: Settings, sandbox: Sandbox, language: str, shown: str
) -> None:
    with TestClient(create_app(settings)) as ana:
        assert sign_in_as(ana, "ana").status_code == 303
        reference = _asked_for_a_site_plan(ana, settings, sandbox)
        ana.get(f"/language/{language}")
        page = ana.get(f"/applications/{reference}").text
    notes = notes_on(page)
    # Once where it asks ("Action needed"), once on the timeline; in the reader's language.
    assert notes.count((shown, None)) == 2, notes
    assert not [text for text, _lang in notes if "site plan" in text and language != "en"]


@pytest.mark.parametrize("language", ["es", "ar"])
def test_a_note_without_the_readers_language_is_marked_as_english(
    settings: Settings, sandbox: Sandbox, language: str
) -> None:
    with TestClient(create_app(settings)) as ana:
        assert sign_in_as(ana, "ana").status_code == 303
        reference = _asked_for_a_site_plan(ana, settings, sandbox, note="Send the lease")
        ana.get(f"/language/{language}")
        page = ana.get(f"/applications/{reference}").text
    assert notes_on(page).count(("Send the lease", "en")) == 2, notes_on(page)
