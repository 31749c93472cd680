"""The channel gateway: a citizen's message is stored, answered by the bot in the conversation's
language, and each reply is stored and delivered on the citizen's channel.

Taking a message in is quick and happens in the request; asking the bot and delivering happen
after the answer to Twilio (a background task), so Twilio never waits on the bot.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend_clients.http import BackendError
from backend_clients.rasa import BotReply, RasaClient
from backend_clients.twilio import TwilioClient
from portal.conversations.language import choice, detect
from portal.conversations.models import ChatMessage, Conversation
from portal.database.engine import utcnow
from portal.i18n import gettext as _
from portal.i18n.locale import DEFAULT_LANGUAGE, use_locale
from portal.identity.models import Citizen

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inbound:
    """One message from a citizen, whatever the channel."""

    channel: str
    address: str  # E.164 number for SMS and WhatsApp
    text: str
    media: tuple[str, ...] = ()
    location: dict[str, float] | None = None
    external_id: str | None = None


@dataclass
class Channels:
    """How replies leave: Twilio for SMS and WhatsApp (web chat replies are read from the
    conversation by the page)."""

    twilio: TwilioClient
    from_number: str

    async def deliver(self, conversation: Conversation, text: str) -> str | None:
        if conversation.channel == "web":
            return None
        prefix = "whatsapp:" if conversation.channel == "whatsapp" else ""
        message = await self.twilio.send_message(
            to=f"{prefix}{conversation.address}", from_=f"{prefix}{self.from_number}", body=text
        )
        return message.sid


async def _open(db: AsyncSession, inbound: Inbound) -> Conversation:
    """The conversation of this channel and address, started if new (language from the
    profile when the number is a citizen's)."""
    query = select(Conversation).where(
        Conversation.channel == inbound.channel, Conversation.address == inbound.address
    )
    if (found := await db.scalar(query)) is not None:
        return found
    citizen = None
    if inbound.channel != "web":
        citizen = await db.scalar(
            select(Citizen).where(Citizen.phone == inbound.address).order_by(Citizen.id).limit(1)
        )
    conversation = Conversation(
        key=secrets.token_hex(16),
        channel=inbound.channel,
        address=inbound.address,
        citizen_id=citizen.id if citizen else None,
        language=citizen.language if citizen else (detect(inbound.text) or DEFAULT_LANGUAGE),
        language_fixed=citizen is not None,
    )
    try:
        async with db.begin_nested():
            db.add(conversation)
    except IntegrityError:  # two first messages at once: the other one started it
        if (found := await db.scalar(query)) is not None:
            return found
        raise
    return conversation


async def take_in(db: AsyncSession, inbound: Inbound) -> tuple[Conversation, ChatMessage] | None:
    """Store the message (committed); None when it was already taken in (Twilio retried)."""
    conversation = await _open(db, inbound)
    message = ChatMessage(
        conversation_id=conversation.id,
        direction="in",
        author="citizen",
        body=inbound.text,
        media=list(inbound.media),
        location=inbound.location,
        external_id=inbound.external_id,
    )
    conversation.updated_at = utcnow()
    try:
        async with db.begin_nested():
            db.add(message)
    except IntegrityError:
        await db.rollback()
        return None
    await db.commit()
    return conversation, message


def _bot_text(conversation: Conversation, message: ChatMessage) -> str:
    """What the bot is sent: a reply to the language menu becomes a greeting in the language
    picked; a photo or a place alone is passed on as "not understood" (its details are in the
    metadata); a citizen's text never starts with "/", which Rasa would read as a command."""
    text = message.body
    if not text.strip():
        return "/nlu_fallback" if message.media or message.location else ""
    if conversation.expecting == "language":
        conversation.expecting = None
        if (picked := choice(text)) is not None:
            conversation.language = picked
            conversation.language_fixed = True
            return "/greet"
    if not conversation.language_fixed and (guessed := detect(text)):
        conversation.language = guessed
    return text.lstrip("/")


async def answer(
    sessionmaker: async_sessionmaker[AsyncSession],
    bot: RasaClient,
    channels: Channels,
    conversation_id: int,
    message_id: int,
) -> None:
    """Ask the bot about one stored message and deliver its replies (a background task)."""
    try:
        async with sessionmaker() as db:
            conversation = await db.get(Conversation, conversation_id)
            message = await db.get(ChatMessage, message_id)
            if conversation is None or message is None or conversation.status != "bot":
                return  # handed off: a person answers from the queue
            text = _bot_text(conversation, message)
            await db.commit()  # the bot's endpoints read the language from here
            if not text:
                return  # an empty message: nothing to answer
            metadata: dict[str, Any] = {
                "channel": conversation.channel,
                "language": conversation.language,
                "media": message.media,
                "location": message.location,
            }
            try:
                replies = await bot.send(conversation.key, text, metadata)
            except BackendError as error:
                log.warning("bot unavailable: %s", error)
                use_locale(conversation.language)
                replies = [
                    BotReply(
                        text=_(
                            "Sorry, the assistant cannot answer just now. Please try again "
                            "in a few minutes."
                        )
                    )
                ]
            await db.refresh(conversation)
            for reply in replies:
                if not reply.text:
                    continue
                sent = ChatMessage(
                    conversation_id=conversation.id, direction="out", author="bot", body=reply.text
                )
                db.add(sent)
                await db.commit()
                try:
                    sent.external_id = await channels.deliver(conversation, reply.text)
                except BackendError as error:
                    log.error("reply not delivered on %s: %s", conversation.channel, error)
                await db.commit()
    except Exception:
        log.exception("conversation %s: message %s not answered", conversation_id, message_id)
