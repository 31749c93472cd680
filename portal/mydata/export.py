"""Everything the front door holds about one citizen, as one JSON document (the right of access).

Each part is a key: the profile, applications (answers, the departments' requests, the
timeline), drafts, documents, payments, messages sent, conversations on every channel (with
their messages and hand-offs), consents given to agents, what happened on the account
(`activity`) and who on staff looked at or acted on the record (`access`). Rows are written out
whole, less our internal row numbers and what would let someone else act as the citizen (a chat's
key, a payment page's address).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.applications.models import (
    Application,
    DepartmentRequest,
    Document,
    Notification,
    TimelineEvent,
)
from portal.assisted.models import Consent
from portal.audit.models import AuditEvent
from portal.conversations.models import ChatMessage, Conversation, Handoff
from portal.forms.models import Draft
from portal.identity.models import Citizen
from portal.payments.models import Payment

# Our own row numbers and links between rows: they mean nothing outside the database.
INTERNAL = frozenset(
    {
        "id",
        "citizen_id",
        "application_id",
        "draft_id",
        "event_id",
        "conversation_id",
        "department_request_id",
    }
)
# Per table, what would let whoever reads the file act as the citizen, or is plumbing.
LEFT_OUT = {
    "citizens": {"sessions_valid_after"},
    "conversations": {"key"},  # the bot's name for the conversation
    "payments": {"next_url"},  # the gateway's page for paying
    "documents": {"stored_id"},  # where the document service keeps the file
}


def plain(row: Any, leave_out: Iterable[str] = ()) -> dict[str, Any]:
    """A row's columns as JSON values, less INTERNAL, LEFT_OUT and `leave_out`."""
    mapper = inspect(row).mapper
    skipped = INTERNAL | LEFT_OUT.get(mapper.local_table.name, set()) | set(leave_out)
    values = {}
    for column in mapper.column_attrs:
        if column.key in skipped:
            continue
        value = getattr(row, column.key)
        values[column.key] = value.isoformat() if isinstance(value, datetime) else value
    return values


def _audit(events: Sequence[AuditEvent]) -> list[dict[str, Any]]:
    return [
        {
            "at": event.at.isoformat(),
            "action": event.action,
            "by": event.actor,
            "from": event.ip,
            "details": event.details,
        }
        for event in events
    ]


async def _all(db: AsyncSession, statement: Any) -> list[Any]:
    return list((await db.scalars(statement)).all())


async def _applications(db: AsyncSession, citizen: Citizen) -> list[dict[str, Any]]:
    applications = await _all(
        db,
        select(Application)
        .where(Application.citizen_id == citizen.id)
        .order_by(Application.submitted_at),
    )
    ids = [application.id for application in applications]
    requests = await _all(
        db,
        select(DepartmentRequest)
        .where(DepartmentRequest.application_id.in_(ids))
        .order_by(DepartmentRequest.id),
    )
    events = await _all(
        db,
        select(TimelineEvent)
        .where(TimelineEvent.application_id.in_(ids))
        .order_by(TimelineEvent.occurred_at, TimelineEvent.id),
    )
    return [
        {
            **plain(application),
            "departments": [plain(r) for r in requests if r.application_id == application.id],
            "timeline": [plain(e) for e in events if e.application_id == application.id],
        }
        for application in applications
    ]


async def _conversations(db: AsyncSession, citizen: Citizen) -> list[dict[str, Any]]:
    conversations = await _all(
        db,
        select(Conversation)
        # Only conversations bound to the account: a profile's phone is not proven to be theirs,
        # so the conversations of that number stay out of what anyone can download.
        .where(Conversation.citizen_id == citizen.id)
        .order_by(Conversation.created_at),
    )
    ids = [conversation.id for conversation in conversations]
    messages = await _all(
        db,
        select(ChatMessage).where(ChatMessage.conversation_id.in_(ids)).order_by(ChatMessage.id),
    )
    handoffs = await _all(
        db, select(Handoff).where(Handoff.conversation_id.in_(ids)).order_by(Handoff.id)
    )
    return [
        {
            # A web chat's address is the browser's chat id, not something of theirs.
            **plain(conversation, {"address"} if conversation.channel == "web" else ()),
            "messages": [plain(m) for m in messages if m.conversation_id == conversation.id],
            "handoffs": [plain(h) for h in handoffs if h.conversation_id == conversation.id],
        }
        for conversation in conversations
    ]


async def everything_held(db: AsyncSession, citizen: Citizen) -> dict[str, Any]:
    """The whole document, read in the caller's session."""

    def owned(model: Any, order: Any) -> Any:
        return select(model).where(model.citizen_id == citizen.id).order_by(order)

    own_subject = f"citizen:{citizen.id}"
    return {
        "exported_at": datetime.now(UTC).isoformat(),
        "profile": {
            **plain(citizen, {"issuer", "subject"}),
            "sign_in": {"issuer": citizen.issuer, "subject": citizen.subject},
        },
        "applications": await _applications(db, citizen),
        "drafts": [plain(d) for d in await _all(db, owned(Draft, Draft.created_at))],
        "documents": [plain(d) for d in await _all(db, owned(Document, Document.created_at))],
        "payments": [plain(p) for p in await _all(db, owned(Payment, Payment.created_at))],
        "notifications": [
            plain(n) for n in await _all(db, owned(Notification, Notification.created_at))
        ],
        "conversations": await _conversations(db, citizen),
        "consents": [plain(c) for c in await _all(db, owned(Consent, Consent.created_at))],
        "activity": _audit(
            await _all(
                db,
                select(AuditEvent).where(AuditEvent.subject == own_subject).order_by(AuditEvent.id),
            )
        ),
        "access": _audit(
            await _all(
                db,
                select(AuditEvent)
                .where(AuditEvent.subject == citizen.public_id)
                .order_by(AuditEvent.id),
            )
        ),
    }
