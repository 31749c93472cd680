"""A conversation's newest messages, read the same way by the web chat, the agents' inbox and
the citizen summary."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.conversations.models import ChatMessage


async def newest_messages(
    db: AsyncSession, conversation_id: int, limit: int, after: int = 0
) -> list[ChatMessage]:
    """Up to `limit` of the newest messages after the id `after`, oldest first (as read)."""
    newest = await db.scalars(
        select(ChatMessage)
        .where(ChatMessage.conversation_id == conversation_id, ChatMessage.id > after)
        .order_by(ChatMessage.id.desc())
        .limit(limit)
    )
    return list(reversed(newest.all()))
