"""'Download everything we hold about you' holds everything: applications with their answers
and timelines, drafts, documents, payments, messages sent, conversations on every channel with
their messages, consents, what they did and who looked at their record. Nobody else's."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from conftest import migrate, run_async
from portal.applications.models import (
    Application,
    DepartmentRequest,
    Document,
    Notification,
    TimelineEvent,
)
from portal.assisted.models import Consent
from portal.audit import AuditLog
from portal.conversations.models import ChatMessage, Conversation, Handoff
from portal.database import make_engine
from portal.forms.models import Draft
from portal.identity.models import Citizen
from portal.payments.models import Payment
from tests.support import sign_in_as

PHONES = {"ana": "+34600111222", "omar": "+212600111222"}


async def _give_everything(database_url: str, user: str) -> None:
    """One of each thing the front door keeps, each holding `user`'s name so it can be found."""
    engine = make_engine(database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as db:
        citizen = await db.scalar(select(Citizen).where(Citizen.subject.like(f"citizen-{user}-%")))
        assert citizen is not None
        citizen.phone = PHONES[user]
        now = datetime.now(UTC)
        draft = Draft(
            citizen_id=citizen.id, service_id="open-business", answers={"n": f"{user}-draft"}
        )
        sent = Draft(
            citizen_id=citizen.id, service_id="open-business", answers={}, submitted_at=now
        )
        db.add_all([draft, sent])
        await db.flush()
        application = Application(
            reference=f"FD-{user[:4].upper():X<4}-0000",
            citizen_id=citizen.id,
            draft_id=sent.id,
            service_id="open-business",
            answers={"business_name": f"{user}-answers"},
            language="en",
            channel="web",
        )
        db.add(application)
        await db.flush()
        db.add(
            DepartmentRequest(application_id=application.id, department="tax", status="in_review")
        )
        event = TimelineEvent(
            application_id=application.id, department="tax", status="in_review", note=f"{user}-note"
        )
        db.add(event)
        await db.flush()
        db.add_all(
            [
                Document(
                    citizen_id=citizen.id,
                    stored_id=f"store-{user}",
                    filename=f"{user}-lease.pdf",
                    content_type="application/pdf",
                    size=10,
                    sha256="0" * 64,
                ),
                Notification(
                    citizen_id=citizen.id,
                    application_id=application.id,
                    event_id=event.id,
                    channel="sms",
                    destination=PHONES[user],
                    language="en",
                    body=f"{user}-notification",
                    status="sent",
                ),
                Payment(
                    purpose=f"purpose-{user}",
                    kind="fee",
                    citizen_id=citizen.id,
                    application_id=application.id,
                    department="trade-licence",
                    reference=application.reference,
                    description=f"{user}-payment",
                    amount_minor=15000,
                    currency="EUR",
                    language="en",
                    status="success",
                    next_url=f"https://pay.example/secret-{user}",
                ),
                Consent(
                    citizen_id=citizen.id,
                    agent="staff:staff-agent-01",
                    agent_name="Alex Agent",
                    how="phone",
                    reason=f"{user}-consent",
                ),
            ]
        )
        # A web chat signed in, and a WhatsApp conversation from their number (not signed in).
        web = Conversation(
            key=f"web-{user}",
            channel="web",
            address=f"web-{user}",
            citizen_id=citizen.id,
            language="en",
        )
        whatsapp = Conversation(
            key=f"wa-{user}",
            channel="whatsapp",
            address=PHONES[user],
            citizen_id=citizen.id,
            language="en",
        )
        # Someone else's texts from the number on the profile (a number nobody proved is theirs).
        stranger = Conversation(
            key=f"sms-{user}", channel="sms", address=PHONES[user], language="en"
        )
        db.add_all([web, whatsapp, stranger])
        await db.flush()
        db.add_all(
            [
                ChatMessage(
                    conversation_id=web.id,
                    direction="in",
                    author="citizen",
                    body=f"{user}-web-chat",
                ),
                ChatMessage(
                    conversation_id=whatsapp.id,
                    direction="in",
                    author="citizen",
                    body=f"{user}-whatsapp",
                ),
                ChatMessage(
                    conversation_id=stranger.id,
                    direction="in",
                    author="citizen",
                    body="a stranger's text",
                ),
                Handoff(
                    conversation_id=whatsapp.id, reason=f"{user}-handoff", agent_name="Alex Agent"
                ),
            ]
        )
        await db.commit()
        public_id = citizen.public_id
    # An agent looked at their record.
    await AuditLog(sessions).record(
        "citizen_viewed", actor="staff:staff-agent-01", subject=public_id, purpose=f"{user}-purpose"
    )
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def own_database(request: pytest.FixtureRequest, fresh_database: Callable[[str], str]) -> str:
    """A database of this test's own: it gives Ana and Omar one of everything and then counts
    them exactly, which the session's shared database (other tests' applications) would spoil."""
    url = fresh_database(request.param)
    migrate(url)
    return url


def test_the_download_holds_everything_about_the_citizen_and_nothing_of_anyone_else(
    portal_factory: Any, own_database: str
) -> None:
    database_url = own_database
    ana, omar = portal_factory(database_url=database_url), portal_factory(database_url=database_url)
    sign_in_as(ana, "ana")
    sign_in_as(omar, "omar")
    for user in ("ana", "omar"):
        run_async(_give_everything(database_url, user))
    response = ana.get("/account/data.json")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    data = response.json()
    [application] = data["applications"]
    assert application["answers"] == {"business_name": "ana-answers"}
    assert [e["note"] for e in application["timeline"]] == ["ana-note"]
    assert [r["department"] for r in application["departments"]] == ["tax"]
    assert [d["answers"] for d in data["drafts"] if not d["submitted_at"]] == [{"n": "ana-draft"}]
    assert [d["filename"] for d in data["documents"]] == ["ana-lease.pdf"]
    assert [p["description"] for p in data["payments"]] == ["ana-payment"]
    assert [n["body"] for n in data["notifications"]] == ["ana-notification"]
    chats = {c["channel"]: c for c in data["conversations"]}
    assert [m["body"] for m in chats["web"]["messages"]] == ["ana-web-chat"]
    assert [m["body"] for m in chats["whatsapp"]["messages"]] == ["ana-whatsapp"]
    assert [h["reason"] for h in chats["whatsapp"]["handoffs"]] == ["ana-handoff"]
    assert [c["reason"] for c in data["consents"]] == ["ana-consent"]
    assert [a["details"]["purpose"] for a in data["access"]] == ["ana-purpose"]
    assert "sign_in" in {event["action"] for event in data["activity"]}
    text = json.dumps(data, ensure_ascii=False)
    assert "omar" not in text.lower() and "Haddad" not in text and PHONES["omar"] not in text
    assert "stranger" not in text and "sms" not in chats  # a number's texts are not the account's
    assert "secret-ana" not in text and "web-ana" not in text  # bearer links and chat keys stay
