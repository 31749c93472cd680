"""A department's note reads in the reader's language when the department sent one, and is
otherwise shown as written, marked with its language (so screen readers pronounce it right)."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import insert, select, update

from conftest import Sandbox, run_async
from portal.app import create_app
from portal.conversations.models import Conversation
from portal.identity.models import Citizen
from portal.settings import SANDBOX_BOT_SECRET, Settings
from tests.journey_support import case_of, execute, run_worker, sent_application
from tests.support import sign_in_as

BOT = {"Authorization": f"Bearer {SANDBOX_BOT_SECRET}"}
TWILIO = "/twilio/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json"
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


def test_the_message_asking_for_information_says_what_in_the_citizens_language(
    settings: Settings, sandbox: Sandbox, database_url: str
) -> None:
    """A text message that only said "more information needed" would send the citizen to the
    site to find out what: the department's question comes with it, in their language."""
    number = "+34600111777"
    change = (
        update(Citizen)
        .where(Citizen.subject == "citizen-ana-0001")
        .values(preferred_channel="sms", phone=number, language="es")
    )
    # Ana's details are shared by every test of the session: put them back as they were.
    restore = (
        update(Citizen)
        .where(Citizen.subject == "citizen-ana-0001")
        .values(preferred_channel=None, phone="+34600111222", language="es")
    )
    with TestClient(create_app(settings)) as ana:
        assert sign_in_as(ana, "ana").status_code == 303
        run_async(execute(database_url, change))
        try:
            reference = _asked_for_a_site_plan(ana, settings, sandbox)
            run_worker(settings)
        finally:
            run_async(execute(database_url, restore))
    auth = ("AC00000000000000000000000000000000", "sandbox-auth-token")
    sent = httpx.get(f"{sandbox.url}{TWILIO}", params={"To": number}, auth=auth).json()
    [asking] = [
        m["body"] for m in sent["messages"] if reference in m["body"] and "plano" in m["body"]
    ]
    assert "Envíe un plano de situación del local" in asking


@pytest.mark.parametrize(
    ("language", "shown"),
    [("es", "Envíe un plano de situación del local"), ("ar", "أرسلوا مخطط موقع المحل")],
)
def test_the_assistant_says_what_a_department_asks_in_the_conversations_language(
    settings: Settings, sandbox: Sandbox, database_url: str, language: str, shown: str
) -> None:
    key = f"notes{language}".ljust(32, "0")
    with TestClient(create_app(settings)) as ana:
        assert sign_in_as(ana, "ana").status_code == 303
        reference = _asked_for_a_site_plan(ana, settings, sandbox)
        citizen = select(Citizen.id).where(Citizen.subject == "citizen-ana-0001").scalar_subquery()
        chat = {"key": key, "channel": "web", "address": key, "language": language}
        run_async(
            execute(
                database_url,
                insert(Conversation).values(
                    **chat, citizen_id=citizen, language_fixed=True, status="bot"
                ),
            )
        )
        asked = {
            "next_action": "action_application_status",
            "sender_id": key,
            "tracker": {"latest_message": {"text": f"{reference}?"}},
        }
        answer = ana.post("/bot/actions", json=asked, headers=BOT)
    assert answer.status_code == 200
    [text] = [response["text"] for response in answer.json()["responses"]]
    assert reference in text and shown in text
