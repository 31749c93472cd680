"""Handing a conversation to a person: the bot pauses and the conversation waits, oldest first,
in the agents' queue (the agent inbox reads it; until then, GET /api/handoffs)."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.di import NamedDependency, Provide
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditLog
from portal.conversations.models import ChatMessage, Conversation
from portal.database.engine import utcnow
from portal.staff.service import StaffMember, require_role

QUEUE_LIMIT = 100
SHOWN_MESSAGES = 20


async def request(
    db: AsyncSession, audit: AuditLog, conversation: Conversation, reason: str
) -> None:
    """Queue the conversation for a person (the caller commits; the audit entry is written
    at once, on its own)."""
    if conversation.status == "bot":
        conversation.status = "waiting"
        conversation.handoff_reason = reason
        conversation.handoff_at = utcnow()
    await audit.record("bot_handoff", actor="bot", subject=conversation.key, reason=reason)


@get(
    "/api/handoffs",
    name="handoffs",
    dependencies={"member": Provide(require_role("agent", "admin"))},
)
async def waiting_conversations(
    db: NamedDependency[AsyncSession], member: NamedDependency[StaffMember]
) -> list[dict[str, Any]]:
    """Conversations waiting for a person, oldest first, each with its latest messages."""
    waiting = (
        await db.scalars(
            select(Conversation)
            .where(Conversation.status == "waiting")
            .order_by(Conversation.handoff_at, Conversation.id)
            .limit(QUEUE_LIMIT)
        )
    ).all()
    queue = []
    for conversation in waiting:
        messages = (
            await db.scalars(
                select(ChatMessage)
                .where(ChatMessage.conversation_id == conversation.id)
                .order_by(ChatMessage.id.desc())
                .limit(SHOWN_MESSAGES)
            )
        ).all()
        queue.append(
            {
                "conversation": conversation.key,
                "channel": conversation.channel,
                "language": conversation.language,
                "reason": conversation.handoff_reason,
                "waiting_since": conversation.handoff_at.isoformat()
                if conversation.handoff_at
                else None,
                "messages": [
                    {
                        "direction": message.direction,
                        "author": message.author,
                        "body": message.body,
                        "media": message.media,
                        "location": message.location,
                        "at": message.created_at.isoformat(),
                    }
                    for message in reversed(messages)
                ],
            }
        )
    return queue
