"""A citizen's SMS or WhatsApp message is answered through the outbox (a "chat turn").

The webhook stores the message and its turn in one transaction, answers Twilio, and the same
portal answers the turn at once. If that portal dies mid-turn, its lease runs out and a worker
answers it; if the bot cannot be reached (a Rasa server restarting), the turn is tried again
for `bot_retry_seconds` before the citizen is told the assistant cannot answer. The turns of one
conversation are answered in the order the messages arrived, whichever replica took them: a
turn waits while an earlier one of its conversation is still to be answered. The replies and
the message's `answered_at` are written together, so a turn taken up again after a crash
asks the bot nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend_clients.http import BackendUnavailable
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
        async with self.gateway.turn(conversation_id):
            async with self.sessionmaker() as db:
                if await _earlier_unanswered(db, turn):
                    raise BackendUnavailable("an earlier message of this conversation goes first")
                message = await db.get(ChatMessage, turn.payload["chat_message_id"])
                if message is None or message.answered_at is not None:
                    return  # gone with its conversation, or answered before a crash
            waited = (datetime.now(UTC) - aware(turn.created_at)).total_seconds()
            await self.gateway.answer_in_turn(
                conversation_id, message.id, may_retry=waited < self.retry_seconds
            )
            async with self.sessionmaker() as db:  # also a turn that needed no reply
                await db.execute(
                    update(ChatMessage)
                    .where(ChatMessage.id == message.id, ChatMessage.answered_at.is_(None))
                    .values(answered_at=utcnow())
                )
                await db.commit()


async def _earlier_unanswered(db: AsyncSession, turn: OutboxMessage) -> bool:
    """Whether an earlier message of the turn's conversation still waits for its answer (its
    turn is marked done just after the answer: the answer is what counts)."""
    earlier = await db.scalar(
        select(OutboxMessage.id)
        .join(ChatMessage, ChatMessage.id == OutboxMessage.payload["chat_message_id"].as_integer())
        .where(
            OutboxMessage.kind == KIND,
            OutboxMessage.status == "pending",
            OutboxMessage.payload["conversation_id"].as_integer()
            == turn.payload["conversation_id"],
            OutboxMessage.id < turn.id,
            ChatMessage.answered_at.is_(None),
        )
        .limit(1)
    )
    return earlier is not None
