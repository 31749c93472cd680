"""The web chat: the same bot, on every page (a panel that htmx fills in) and on /chat, a plain
page that works without JavaScript. The browser's conversation is named by a random id kept in
its session, and belongs to the citizen signed in when it started: another citizen signing in on
the same browser starts a new one. Replies are stored, and the page reads them."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.conversations.bad_input import MAX_LENGTH
from portal.conversations.gateway import Gateway, Inbound, take_in
from portal.conversations.models import ChatMessage, Conversation
from portal.conversations.transcript import newest_messages
from portal.i18n import gettext as _
from portal.i18n.locale import current_locale
from portal.identity.service import current_citizen
from portal.shared.deps import RateLimitCounters
from portal.web.context import current_client_ip
from portal.web.ids import RowCursor
from portal.web.limits import Limit, within_limits

SESSION_KEY = "chat"
PER_MINUTE = 20  # per conversation
PER_ADDRESS_PER_MINUTE = 200  # many people may share one network address
SHOWN = 50


async def _conversation(request: Request[Any, Any, Any], db: AsyncSession) -> Conversation | None:
    """This browser's conversation, if it is still the signed-in citizen's (or nobody's)."""
    address = request.session.get(SESSION_KEY)
    if not address:
        return None
    found: Conversation | None = await db.scalar(
        select(Conversation).where(Conversation.channel == "web", Conversation.address == address)
    )
    if found is None or found.citizen_id is None:
        return found
    citizen = await current_citizen(request, db)
    return found if citizen is not None and citizen.id == found.citizen_id else None


async def _messages(
    db: AsyncSession, conversation: Conversation | None, after: int = 0
) -> list[ChatMessage]:
    if conversation is None:
        return []
    return await newest_messages(db, conversation.id, SHOWN, after)


def _with_person(conversation: Conversation | None) -> bool:
    """Waiting for a person or answered by one: the page then looks for their messages."""
    return conversation is not None and conversation.status != "bot"


async def _page(
    db: AsyncSession, conversation: Conversation | None, error: str | None, typed: str, status: int
) -> Template:
    context = {
        "messages": await _messages(db, conversation),
        "with_person": _with_person(conversation),
        "error": error,
        "typed": typed,
    }
    return Template("chat/page.html", context=context, status_code=status)


@get("/chat", name="chat")
async def chat_page(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    """The conversation so far and the box to write in (the no-JavaScript chat)."""
    return await _page(db, await _conversation(request, db), None, "", 200)


@get("/chat/log", name="chat_log")
async def chat_log(
    request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], after: RowCursor = 0
) -> Template:
    """The conversation so far, fetched by htmx when the panel is opened; with `after`, what
    came since (the poller's question while a person has the conversation)."""
    conversation = await _conversation(request, db)
    context = {
        "messages": await _messages(db, conversation, after=after),
        "after": after,
        "with_person": _with_person(conversation),
    }
    return Template("chat/log.html", context=context)


async def _refusal(
    request: Request[Any, Any, Any], counters: RateLimitCounters, text: str
) -> str | None:
    """Why this message cannot be sent, or None."""
    if not text:
        return _("Type your message")
    if len(text) > MAX_LENGTH:
        return _("Your message must be %(max)s characters or fewer", max=MAX_LENGTH)
    # Counted atomically before anything is stored: a refused message starts nothing.
    limits = [Limit(f"chat:{current_client_ip() or '-'}", PER_ADDRESS_PER_MINUTE)]
    if address := request.session.get(SESSION_KEY):
        limits.append(Limit(f"chat-conversation:{address}", PER_MINUTE))
    if not await within_limits(counters, *limits):
        return _("You have sent a lot of messages. Wait a minute, then try again.")
    return None


@post("/chat", name="send_chat")
async def send_chat(
    request: HTMXRequest,
    db: NamedDependency[AsyncSession],
    counters: NamedDependency[RateLimitCounters],
    gateway: NamedDependency[Gateway],
) -> Response[Any]:
    form = await request.form()
    text = str(form.get("message") or "").strip()
    citizen = await current_citizen(request, db)
    conversation = await _conversation(request, db)
    if (error := await _refusal(request, counters, text)) is not None:
        status = 429 if text and len(text) <= MAX_LENGTH else 400
        if request.htmx:
            context = {"error": error, "typed": text[:2000], "oob": True}
            return Template("chat/form.html", context=context, status_code=status)
        return await _page(db, conversation, error, text[:2000], status)
    if conversation is None:  # a new one: this browser's first, or another citizen's
        request.set_session({**request.session, SESSION_KEY: secrets.token_hex(16)})
    before = 0  # the newest message shown already: htmx gets only what comes after it
    if conversation is not None:
        before = (
            await db.scalar(
                select(func.max(ChatMessage.id)).where(
                    ChatMessage.conversation_id == conversation.id
                )
            )
            or 0
        )
    stored = await take_in(
        db, Inbound(channel="web", address=request.session[SESSION_KEY], text=text)
    )
    if stored is not None:
        conversation, message, _ = stored
        conversation.language = current_locale()  # the page's language is the chat's
        conversation.language_fixed = True
        conversation.citizen_id = citizen.id if citizen else None
        await db.commit()
        await gateway.answer(conversation.id, message.id)
        await db.refresh(conversation)  # the bot may have handed it to a person
    if request.htmx:  # only what is new, added to the log; the form comes back empty
        context = {
            "messages": await _messages(db, conversation, after=before),
            "after": before,
            "with_person": _with_person(conversation),
        }
        return Template("chat/added.html", context=context)
    messages = await _messages(db, conversation)
    anchor = f"#message-{messages[-1].id}" if messages else ""
    return Redirect(f"/chat{anchor}", status_code=303)


web_chat = Router(path="/", route_handlers=[chat_page, chat_log, send_chat])
