"""The web chat: the same bot, on every page (a panel that htmx fills in) and on /chat, a plain
page that works without JavaScript. The browser's conversation is named by a random id kept in
its session; a signed-in citizen's conversation is theirs, so the bot can tell them about their
own applications. Replies are stored, and the page reads them: nothing is sent elsewhere."""

from __future__ import annotations

import secrets
import time
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.conversations.gateway import Inbound, answer, take_in
from portal.conversations.models import ChatMessage, Conversation
from portal.i18n import gettext as _
from portal.i18n.locale import current_locale
from portal.identity.service import current_citizen

SESSION_KEY = "chat"
SENT_KEY = "chat_sent"  # when this session last wrote, for the rate limit
MAX_LENGTH = 1000
PER_MINUTE = 20
SHOWN = 50


async def _conversation(request: Request[Any, Any, Any], db: AsyncSession) -> Conversation | None:
    address = request.session.get(SESSION_KEY)
    if not address:
        return None
    found: Conversation | None = await db.scalar(
        select(Conversation).where(Conversation.channel == "web", Conversation.address == address)
    )
    return found


async def _messages(db: AsyncSession, conversation: Conversation | None) -> list[ChatMessage]:
    if conversation is None:
        return []
    newest = await db.scalars(
        select(ChatMessage)
        .where(ChatMessage.conversation_id == conversation.id)
        .order_by(ChatMessage.id.desc())
        .limit(SHOWN)
    )
    return list(reversed(newest.all()))


def _view(
    request: Request[Any, Any, Any],
    messages: list[ChatMessage],
    error: str | None = None,
    typed: str = "",
    status: int = 200,
) -> Template:
    context = {"messages": messages, "error": error, "typed": typed}
    if request.headers.get("hx-request") == "true":
        return Template("chat/body.html", context=context, status_code=status)
    return Template("chat/page.html", context=context, status_code=status)


@get("/chat", name="chat")
async def chat_page(request: Request[Any, Any, Any], db: AsyncSession) -> Template:
    """The conversation so far and the box to write in (the no-JavaScript chat)."""
    return _view(request, await _messages(db, await _conversation(request, db)))


@get("/chat/log", name="chat_log")
async def chat_log(request: Request[Any, Any, Any], db: AsyncSession) -> Template:
    """The conversation so far, fetched by htmx when the panel is opened."""
    messages = await _messages(db, await _conversation(request, db))
    return Template("chat/log.html", context={"messages": messages})


@post("/chat", name="send_chat")
async def send_chat(request: Request[Any, Any, Any], db: AsyncSession) -> Response[Any]:
    form = await request.form()
    text = str(form.get("message") or "").strip()
    conversation = await _conversation(request, db)
    if not text or len(text) > MAX_LENGTH:
        error = (
            _("Type your message")
            if not text
            else _("Your message must be %(max)s characters or fewer", max=MAX_LENGTH)
        )
        return _view(request, await _messages(db, conversation), error, text[:2000], 400)
    now = time.time()
    recent = [t for t in request.session.get(SENT_KEY, []) if now - float(t) < 60]
    if len(recent) >= PER_MINUTE:
        error = _("You have sent a lot of messages. Wait a minute, then try again.")
        return _view(request, await _messages(db, conversation), error, text, 429)
    address = request.session.get(SESSION_KEY) or secrets.token_hex(16)
    request.set_session({**request.session, SESSION_KEY: address, SENT_KEY: [*recent, now]})
    stored = await take_in(db, Inbound(channel="web", address=address, text=text))
    if stored is not None:
        conversation, message = stored
        # The page's language and the signed-in citizen are the conversation's.
        citizen = await current_citizen(request, db)
        conversation.language = current_locale()
        conversation.language_fixed = True
        if citizen is not None:
            conversation.citizen_id = citizen.id
        await db.commit()
        state = request.app.state
        await answer(state.sessionmaker, state.bot, state.channels, conversation.id, message.id)
    if request.headers.get("hx-request") == "true":
        return _view(request, await _messages(db, await _conversation(request, db)))
    return Redirect("/chat#latest", status_code=303)


web_chat = Router(path="/", route_handlers=[chat_page, chat_log, send_chat])
