"""A conversation's newest messages, read the same way by the web chat, the agents' inbox and
the citizen summary; and which conversations are a citizen's."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.conversations.models import ChatMessage, Conversation


def of_citizen(citizen_id: int, phone: str | None) -> ColumnElement[bool]:
    """The web chats they had signed in, and the SMS and WhatsApp conversations of their number
    (signed in or not: the number is theirs)."""
    mine = Conversation.citizen_id == citizen_id
    if phone:
        texted = Conversation.channel.in_(("sms", "whatsapp"))  # the (channel, address) index
        return or_(mine, texted & (Conversation.address == phone))
    return mine


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


async def newest_messages_of(
    db: AsyncSession, conversations: list[Conversation], limit: int
) -> list[tuple[Conversation, list[ChatMessage]]]:
    """Each conversation with up to `limit` of its newest messages, oldest first (as read): one
    statement for them all, where `newest_messages` would take one per conversation."""
    ranked = (
        select(
            ChatMessage.id,
            func.row_number()
            .over(partition_by=ChatMessage.conversation_id, order_by=ChatMessage.id.desc())
            .label("rank"),
        )
        .where(ChatMessage.conversation_id.in_([c.id for c in conversations]))
        .subquery()
    )
    messages: dict[int, list[ChatMessage]] = {c.id: [] for c in conversations}
    if messages:
        for message in await db.scalars(
            select(ChatMessage)
            .join(ranked, ranked.c.id == ChatMessage.id)
            .where(ranked.c.rank <= limit)
            .order_by(ChatMessage.id)
        ):
            messages[message.conversation_id].append(message)
    return [(c, messages[c.id]) for c in conversations]
