"""A citizen's SMS or WhatsApp message is answered through the outbox (a "chat turn").

The webhook stores the message and its turn in one transaction, answers Twilio, and the same
portal answers the turn at once. If that portal dies mid-turn, its lease runs out and a worker
answers it; if the bot cannot be reached (a Rasa server restarting), the turn is tried again
for `bot_retry_seconds` before the citizen is told the assistant cannot answer. The turns of one
conversation are one outbox sequence (`ordered_by`): whichever replica takes them, a turn is
taken only once the one before it is done, so messages are answered in the order they came,
and the process that ends a turn takes the next one at once (`Outbox.deliver_now`).
The replies and the message's `answered_at` are written together, so a turn taken up again
after a crash asks the bot nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.conversations.models import ChatMessage, Conversation
from portal.database.engine import aware, utcnow
from portal.outbox import enqueue
from portal.outbox.models import OutboxMessage

if TYPE_CHECKING:
    from portal.conversations.gateway import Gateway

KIND = "chat_turn"
TARGET = "bot"


def queue_turn(db: AsyncSession, conversation: Conversation, message: ChatMessage) -> OutboxMessage:
    """The outbox message that answers `message` (the caller commits it with the message)."""
    return enqueue(
        db,
        KIND,
        f"chat-turn-{message.id}",
        target=TARGET,
        ordered_by=f"{KIND}:{conversation.id}",
        conversation_id=conversation.id,
        chat_message_id=message.id,
    )


@dataclass
class Turns:
    """The outbox handler for chat turns (in the portal and in the worker)."""

    sessionmaker: async_sessionmaker[AsyncSession]
    gateway: Gateway
    retry_seconds: float

    async def answer(self, turn: OutboxMessage) -> None:
        conversation_id = int(turn.payload["conversation_id"])
        message_id = int(turn.payload["chat_message_id"])
        async with self.gateway.turn(conversation_id):
            waited = (datetime.now(UTC) - aware(turn.created_at)).total_seconds()
            if await self.gateway.answer_in_turn(
                conversation_id, message_id, may_retry=waited < self.retry_seconds
            ):
                return
            async with self.sessionmaker() as db:  # it failed and was logged: not again
                await db.execute(
                    update(ChatMessage)
                    .where(ChatMessage.id == message_id, ChatMessage.answered_at.is_(None))
                    .values(answered_at=utcnow())
                )
                await db.commit()
