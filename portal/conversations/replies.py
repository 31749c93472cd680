"""Replies to citizens on SMS and WhatsApp (the bot's and agents'), sent through the outbox.

Each reply is written with an outbox message in the same transaction and sent at once by the
process that wrote it; if Twilio is down, or that process dies, the workers send it later.
The replies of one conversation are one outbox sequence (`ordered_by`): they go out in the order
they were written, a reply waiting while an earlier one is still to be sent. Twilio takes no
idempotency key, so an attempt that a crash cut short is looked for in Twilio's message list
before sending again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend_clients.twilio import TwilioClient
from portal.conversations.models import ChatMessage, Conversation
from portal.database.engine import aware
from portal.outbox import enqueue
from portal.outbox.models import OutboxMessage

KIND = "chat_reply"


def key_of(reply: ChatMessage) -> str:
    return f"chat-reply-{reply.id}"


def queue_reply(db: AsyncSession, conversation: Conversation, reply: ChatMessage) -> OutboxMessage:
    """The outbox message that sends `reply` (flushed, so it has its id)."""
    return enqueue(
        db,
        KIND,
        key_of(reply),
        target=conversation.channel,
        ordered_by=f"{KIND}:{conversation.id}",
        conversation_id=conversation.id,
        chat_message_id=reply.id,
    )


@dataclass
class Replies:
    """The outbox handler for chat replies (in the portal and in the worker)."""

    sessionmaker: async_sessionmaker[AsyncSession]
    twilio: TwilioClient
    from_number: str

    async def send(self, message: OutboxMessage) -> None:
        async with self.sessionmaker() as db:
            reply = await db.get(ChatMessage, message.payload["chat_message_id"])
            conversation = await db.get(Conversation, message.payload["conversation_id"])
            if reply is None or conversation is None or reply.external_id:
                return  # gone with its conversation, or already sent
            prefix = "whatsapp:" if conversation.channel == "whatsapp" else ""
            to = f"{prefix}{conversation.address}"
            found = message.in_doubt and await self.twilio.find_sent(
                to=to, body=reply.body, since=aware(reply.created_at)
            )
            if not found:
                found = await self.twilio.send_message(
                    to=to, from_=f"{prefix}{self.from_number}", body=reply.body
                )
            reply.external_id = found.sid
            await db.commit()


async def refused(db: AsyncSession, reply: ChatMessage) -> bool:
    """True when Twilio refused this reply for good (a wrong number): it will not be sent."""
    status = await db.scalar(select(OutboxMessage.status).where(OutboxMessage.key == key_of(reply)))
    return status == "failed"
