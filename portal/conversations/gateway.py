"""The channel gateway: a citizen's message is stored, answered by the bot in the conversation's
language, and each reply is stored and delivered on the citizen's channel.

Taking a message in is quick and happens in the request; asking the bot and delivering happen
after the answer to Twilio, so Twilio never waits on the bot. An SMS or WhatsApp message is
taken in with its turn in the outbox (conversations/turns.py): the portal answers it at once,
and if that portal dies or the bot cannot be reached, a worker answers it, in its turn.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend_clients.http import BackendError, BackendUnavailable
from backend_clients.rasa import RasaClient
from portal.applications.models import Application
from portal.audit import AuditLog
from portal.conversations import handoff
from portal.conversations.bad_input import answer_without_bot
from portal.conversations.details import request_part
from portal.conversations.language import DIGITS, choice, detect
from portal.conversations.models import ChatMessage, Conversation
from portal.conversations.replies import queue_reply
from portal.conversations.responses import RESPONSE_PREFIX, render
from portal.conversations.status import OWN_NUMBER
from portal.conversations.turns import queue_turn
from portal.database.engine import utcnow
from portal.i18n import lazy_gettext as _l
from portal.i18n.locale import DEFAULT_LANGUAGE, use_locale
from portal.identity.codes import Destination, SignInCodes
from portal.identity.models import Citizen
from portal.observability.metrics import bot_turn
from portal.observability.tracing import span
from portal.outbox.models import OutboxMessage
from portal.outbox.worker import Outbox

log = logging.getLogger(__name__)
# Leading spaces and slashes: Rasa reads a message starting with "/" as a command.
COMMAND = re.compile(r"^[\s/]+")
SORRY = _l("Sorry, the assistant cannot answer just now. Please try again in a few minutes.")
WRONG_CODE = _l("That code is not right, or it has expired. Ask me again for a new one.")
WAITING = _l(
    "A person will answer you here as soon as they can. To go back to the assistant, write BOT."
)


class BotUnavailable(BackendUnavailable):
    """The bot could not be asked, and the turn may be tried again (by the outbox)."""


@dataclass(frozen=True)
class Inbound:
    """One message from a citizen, whatever the channel."""

    channel: str
    address: str  # E.164 number for SMS and WhatsApp
    text: str
    media: tuple[str, ...] = ()
    location: dict[str, float] | None = None
    external_id: str | None = None


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


class Taken(NamedTuple):
    conversation: Conversation
    message: ChatMessage
    turn: OutboxMessage | None  # SMS and WhatsApp: the outbox message that answers it


async def take_in(db: AsyncSession, inbound: Inbound) -> Taken | None:
    """Store the message, and on SMS and WhatsApp its turn (committed together); None when it
    was already taken in (Twilio retried)."""
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
    turn = queue_turn(db, conversation, message) if inbound.channel != "web" else None
    await db.commit()
    return Taken(conversation, message, turn)


def _bot_text(conversation: Conversation, message: ChatMessage) -> str:
    """What the bot is sent: a reply to the language menu becomes a greeting in the language
    picked; a photo or a place alone is passed on as "not understood" (its details are in the
    metadata); a greeting or thanks in front of a request is left out, so the request is what is
    answered; a citizen's text never starts with "/", which Rasa would read as a command."""
    text = COMMAND.sub("", message.body)
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
    return COMMAND.sub("", request_part(text))


def _worded(reply: str) -> str | None:
    """A reply of the bot as the citizen reads it. The bot names its fixed replies (utter_greet:
    Rasa takes them from its domain, with no call back to the portal), and they are worded here
    in the current language; the actions' replies come worded already."""
    if not reply.startswith(RESPONSE_PREFIX):
        return reply or None
    if (worded := render(reply)) is None:
        log.error("the bot named a reply the portal does not have: %s", reply)
    return worded


@dataclass
class Gateway:
    """Between citizens and the bot: asks it about each stored message and delivers its replies
    (Twilio for SMS and WhatsApp; web chat replies are read from the conversation by the page)."""

    sessionmaker: async_sessionmaker[AsyncSession]
    bot: RasaClient
    audit: AuditLog
    codes: SignInCodes
    outbox: Outbox  # sends replies at once; the workers retry what could not go
    _turns: dict[int, asyncio.Lock] = field(default_factory=dict, init=False, repr=False)

    @asynccontextmanager
    async def turn(self, conversation_id: int) -> AsyncIterator[None]:
        """One turn of a conversation at a time in this process: two messages that arrive
        together are answered one after the other, so their replies keep their order."""
        lock = self._turns.setdefault(conversation_id, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and self._turns.get(conversation_id) is lock:
                del self._turns[conversation_id]

    async def answer(self, conversation_id: int, message_id: int) -> None:
        """Answer one stored message (a background task: errors are logged, never raised)."""
        async with self.turn(conversation_id):
            await self.answer_in_turn(conversation_id, message_id)

    async def answer_in_turn(
        self, conversation_id: int, message_id: int, *, may_retry: bool = False
    ) -> bool:
        """Answer one stored message, holding its conversation's turn; True once the message is
        marked answered (also when it needed no reply, or was answered before a crash: nothing
        is asked or sent twice). Errors are logged; with `may_retry`, a bot that cannot be
        reached raises BotUnavailable instead of saying sorry, and nothing has been written."""
        try:
            async with self.sessionmaker() as db:
                conversation = await db.get(Conversation, conversation_id)
                message = await db.get(ChatMessage, message_id)
                if conversation is None or message is None or message.answered_at is not None:
                    return True
                use_locale(conversation.language)
                if conversation.status != "bot":
                    await self._while_waiting(db, conversation, message)
                    return await self._settled(db, message)
                media = bool(message.media or message.location)
                if (own := answer_without_bot(message.body, media=media)) is not None:
                    await self.deliver(db, conversation, [own], answering=message)
                    return True
                if (conversation.expecting or "").startswith("code:"):
                    text = await self._code(db, conversation, message)
                else:
                    text = _bot_text(conversation, message)
                if not text:
                    return await self._settled(db, message)
                # The bot's endpoints read the language from here; a turn tried again finds it.
                await db.commit()
                replies = await self._ask(conversation, text, message, may_retry=may_retry)
                await db.refresh(conversation)
                await self.deliver(db, conversation, replies, answering=message)
                return True
        except BotUnavailable:
            raise
        except Exception:
            log.exception("conversation %s: message %s not answered", conversation_id, message_id)
            return False

    @staticmethod
    async def _settled(db: AsyncSession, message: ChatMessage) -> bool:
        """A message that needed no reply (or whose reply was delivered) is answered."""
        if message.answered_at is None:
            message.answered_at = utcnow()
            await db.commit()
        return True

    async def _code(
        self, db: AsyncSession, conversation: Conversation, message: ChatMessage
    ) -> str:
        """A reply to "send me the code": a right code lets this conversation have the
        application's news, and asks the bot for it; anything else goes to the bot as it is."""
        reference = (conversation.expecting or "").removeprefix("code:")
        conversation.expecting = None
        code = message.body.strip().translate(DIGITS)
        if not re.fullmatch(r"\d{6}", code):
            return _bot_text(conversation, message)
        if reference == OWN_NUMBER:  # sent to this number to list its owner's applications
            if await self.codes.check(
                Destination("sms", conversation.address), code, conversation.code_asker
            ):
                conversation.granted = [*(conversation.granted or []), OWN_NUMBER][-20:]
                return "/application_status"  # the bot's own way to name an intent
            await self.deliver(db, conversation, [str(WRONG_CODE)], answering=message)
            return ""
        owner = await db.scalar(
            select(Citizen)
            .join(Application, Application.citizen_id == Citizen.id)
            .where(Application.reference == reference)
        )
        if (
            owner is not None
            and owner.phone
            and await self.codes.check(
                Destination("sms", owner.phone), code, conversation.code_asker
            )
        ):
            conversation.granted = [*(conversation.granted or []), reference][-20:]
            return reference  # the bot reads a reference alone as "where is it?"
        await self.deliver(db, conversation, [str(WRONG_CODE)], answering=message)
        return ""

    async def _ask(
        self,
        conversation: Conversation,
        text: str,
        message: ChatMessage | None = None,
        *,
        may_retry: bool = False,
    ) -> list[str]:
        """The bot's replies; never none (a bot that is down or failed says sorry, unless the
        turn `may_retry`: then BotUnavailable)."""
        metadata: dict[str, Any] = {
            "channel": conversation.channel,
            "language": conversation.language,
            "media": message.media if message else [],
            "location": message.location if message else None,
        }
        started = time.perf_counter()
        with span("bot turn", channel=conversation.channel):  # the Rasa call is its child
            try:
                replies = [r.text for r in await self.bot.send(conversation.key, text, metadata)]
                outcome = "ok"
            except BackendError as error:
                log.warning("bot unavailable: %s", error)
                replies, outcome = [], "unavailable"
                if may_retry and isinstance(error, BackendUnavailable):
                    bot_turn(time.perf_counter() - started, outcome)
                    raise BotUnavailable(str(error)) from error
        bot_turn(time.perf_counter() - started, outcome)
        use_locale(conversation.language)  # the bot's endpoints may have changed it
        return [worded for reply in replies if (worded := _worded(reply))] or [str(SORRY)]

    async def _while_waiting(
        self, db: AsyncSession, conversation: Conversation, message: ChatMessage
    ) -> None:
        """Handed to a person: the message waits for them. While nobody has claimed it, the
        citizen is told so (once in a row); BOT takes them back to the assistant."""
        if message.body.strip().casefold() == "bot":
            if await handoff.end(db, self.audit, conversation, ended_by="citizen"):
                await self.back_to_bot(db, conversation, answering=message)
            return
        if conversation.status != "waiting":
            return  # an agent holds it: they see the message in the inbox
        last = await db.scalar(
            select(ChatMessage.body)
            .where(ChatMessage.conversation_id == conversation.id, ChatMessage.direction == "out")
            .order_by(ChatMessage.id.desc())
            .limit(1)
        )
        if last != str(WAITING):
            await self.deliver(db, conversation, [str(WAITING)], answering=message)

    async def back_to_bot(
        self, db: AsyncSession, conversation: Conversation, answering: ChatMessage | None = None
    ) -> None:
        """The hand-off has ended: the bot listens again and greets the citizen."""
        use_locale(conversation.language)
        try:
            resume = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
            await self.bot.add_events(conversation.key, resume)
        except BackendError as error:
            log.warning("bot unavailable: %s", error)
        greeting = await self._ask(conversation, "/greet")
        await self.deliver(db, conversation, greeting, answering=answering)

    async def deliver(
        self,
        db: AsyncSession,
        conversation: Conversation,
        texts: list[str],
        author: str = "bot",
        *,
        answering: ChatMessage | None = None,
    ) -> list[ChatMessage]:
        """Keep each message and, on SMS and WhatsApp, its sending in the outbox (one commit,
        which also marks the citizen's message it is `answering` as answered), then send them
        in order now; what cannot go now the workers send later, in order. The web chat reads
        its messages from the conversation."""
        if answering is not None:
            answering.answered_at = utcnow()
        kept, queued = [], []
        for text in texts:
            sent = ChatMessage(
                conversation_id=conversation.id, direction="out", author=author, body=text
            )
            db.add(sent)
            kept.append(sent)
            if conversation.channel != "web":
                await db.flush()
                queued.append(queue_reply(db, conversation, sent))
        await db.commit()
        # The first now; the others follow it in its sequence (or wait for it, with the workers).
        if queued and not await self.outbox.deliver_now(queued[0].id):
            log.warning("reply %s left to the workers", queued[0].key)
        for sent in kept if queued else ():
            await db.refresh(sent)  # sent by another session: its Twilio id
        return kept
