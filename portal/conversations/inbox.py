"""The agents' hand-off inbox: conversations the bot handed to a person, oldest first; an agent
claims one, answers on the citizen's channel and hands it back to the bot.

The queue and a conversation's messages refresh themselves with htmx polling; without
JavaScript, a "Refresh" link does the same. Every form posts and redirects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditLog
from portal.conversations import handoff
from portal.conversations.gateway import Gateway
from portal.conversations.models import Conversation
from portal.conversations.queue import Place, queue_state
from portal.conversations.queue_page import inbox_link, read_queue
from portal.conversations.replies import refused
from portal.conversations.transcript import newest_messages
from portal.database.engine import READ_ONLY
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.i18n.formatting import format_number
from portal.identity.models import Citizen
from portal.staff.service import StaffMember, require_role
from portal.web.ids import RowCursor

SHOWN_MESSAGES = 100
MAX_REPLY = 1600  # Twilio's limit for one message body
NOT_YOURS = _l(
    "You cannot write in this conversation: claim it first. Another agent may have claimed it, "
    "or it may have gone back to the assistant."
)
EMPTY = _l("Type your reply")
NOT_DELIVERED = _l(
    "Your reply was kept but could not be delivered: the messaging service refused it."
)
NOT_YET = _l(
    "Your reply was kept and will be sent as soon as the messaging service takes it. "
    "You do not need to send it again."
)
# What a redirect tells the agent (?notice=...): known words only, never text from the URL.
NOTICES = {  # (text, whether it says that what the agent did worked)
    "taken": (
        _l("Another agent claimed this conversation first, or it went back to the assistant."),
        False,
    ),
    "handed-back": (_l("The conversation is back with the assistant."), True),
}


def _links(here: dict[str, str], live: bool) -> dict[str, str]:
    """The page's own links (refresh, stop or start updating), each keeping the page."""
    return {
        "refresh": inbox_link({**here, **({} if live else {"live": "0"})}),
        "stop": inbox_link({**here, "live": "0"}),
        "start": inbox_link(here),
    }


@get("/", name="staff_inbox", opt=READ_ONLY)
async def inbox(
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    notice: FromQuery[str] = "",
    live: FromQuery[bool] = True,
    at: FromQuery[datetime | None] = None,
    after: RowCursor = 0,
    before: RowCursor = 0,
) -> Template:
    """The queue, a page of those waiting at a time (`at` with `after` or `before`: the edge of
    the page before or after); `live`: it updates itself (the agent may stop that, and start
    it again)."""
    text, success = NOTICES.get(notice, (None, False))
    queue = await read_queue(db, staff, Place.of(at, after, before), live)
    context = {
        "staff": staff,
        "notice": text,
        "notice_success": success,
        "live": live,
        "queue": queue,
        "own_links": _links(queue.here, live),
    }
    return Template("inbox/index.html", context=context)


@get("/queue", name="staff_inbox_queue", opt=READ_ONLY)
async def queue_fragment(
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    seen: FromQuery[str] = "",
    at: FromQuery[datetime | None] = None,
    after: RowCursor = 0,
    before: RowCursor = 0,
) -> Response[Any]:
    """The queue alone, for htmx polling, on the agent's page; when nothing changed since
    `seen`, nothing (204: htmx leaves the page as it is, so a screen reader's place is kept,
    and it costs one query)."""
    state = await queue_state(db)
    if seen == state:
        return Response(content=b"", status_code=204)
    queue = await read_queue(db, staff, Place.of(at, after, before), True)
    context = {"staff": staff, "live": True, "queue": queue}
    return Template("inbox/queue.html", context=context)


async def _conversation(db: AsyncSession, key: str, with_bot: bool = False) -> Conversation:
    """A conversation with a person (waiting or held): one with the bot is not the inbox's to
    read. `with_bot` for forms: their page says why nothing was done, keeping what was typed."""
    found = await db.scalar(select(Conversation).where(Conversation.key == key))
    if found is None or (found.status == "bot" and not with_bot):
        raise NotFoundException()
    return found


async def _page(
    db: AsyncSession,
    staff: StaffMember,
    conversation: Conversation,
    error: str | None = None,
    typed: str = "",
    status: int = 200,
) -> Template:
    held = await handoff.current(db, conversation)
    citizen = await db.get(Citizen, conversation.citizen_id) if conversation.citizen_id else None
    context = {
        "staff": staff,
        "conversation": conversation,
        "handoff": held,
        "mine": held is not None and held.agent == staff.actor and conversation.status == "agent",
        "citizen": citizen,
        "messages": await newest_messages(db, conversation.id, SHOWN_MESSAGES),
        "error": error,
        "typed": typed,
        "max_reply": MAX_REPLY,
    }
    return Template("inbox/conversation.html", context=context, status_code=status)


@get("/{key:str}", name="staff_inbox_conversation")
async def conversation_page(
    key: FromPath[str],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    audit: NamedDependency[AuditLog],
) -> Template:
    """The conversation so far. Reading it is reading a citizen's messages: it is audited,
    its purpose being the hand-off."""
    conversation = await _conversation(db, key)
    await _audit_read(audit, db, staff, conversation)
    return await _page(db, staff, conversation)


async def _audit_read(
    audit: AuditLog,
    db: AsyncSession,
    staff: StaffMember,
    conversation: Conversation,
) -> None:
    """A conversation read is recorded under the citizen it belongs to, when known (so the
    administrators' "who looked at whom" finds it), else under the conversation."""
    citizen = await db.get(Citizen, conversation.citizen_id) if conversation.citizen_id else None
    await audit.record(
        "conversation_viewed",
        actor=staff.actor,
        subject=citizen.public_id if citizen else conversation.key,
        agent_name=staff.name,
        conversation=conversation.key,
        purpose="handoff",
    )


@get("/{key:str}/messages", name="staff_inbox_messages")
async def messages_fragment(
    key: FromPath[str],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    audit: NamedDependency[AuditLog],
    after: RowCursor = 0,
) -> Template:
    """The messages after `after`, for htmx polling (what the agent is typing stays)."""
    conversation = await _conversation(db, key)
    if after == 0:  # the whole conversation: a read like the page's
        await _audit_read(audit, db, staff, conversation)
    context = {
        "staff": staff,
        "conversation": conversation,
        "messages": await newest_messages(db, conversation.id, SHOWN_MESSAGES, after),
        "after": after,
    }
    return Template("inbox/added.html", context=context)


async def _holds(db: AsyncSession, conversation: Conversation, staff: StaffMember) -> bool:
    """Whether this agent has claimed the conversation and still has it."""
    held = await handoff.current(db, conversation)
    return conversation.status == "agent" and held is not None and held.agent == staff.actor


def _back(conversation: Conversation) -> Redirect:
    return Redirect(f"/staff/inbox/{conversation.key}", status_code=303)


@post("/{key:str}/claim", name="staff_inbox_claim")
async def claim(
    key: FromPath[str],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    audit: NamedDependency[AuditLog],
) -> Response[Any]:
    conversation = await _conversation(db, key, with_bot=True)
    if not await handoff.claim(db, audit, conversation, staff):
        return Redirect("/staff/inbox?notice=taken", status_code=303)
    return _back(conversation)


@post("/{key:str}/reply", name="staff_inbox_reply")
async def reply(
    request: Request[Any, Any, Any],
    key: FromPath[str],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    gateway: NamedDependency[Gateway],
) -> Response[Any]:
    """Send the agent's message on the citizen's channel (SMS or WhatsApp through Twilio, or
    the web chat), only while this agent holds the conversation."""
    conversation = await _conversation(db, key, with_bot=True)
    form = await request.form()
    text = str(form.get("message") or "").strip()
    if not await _holds(db, conversation, staff):
        return await _page(db, staff, conversation, str(NOT_YOURS), text, 409)
    if not text:
        return await _page(db, staff, conversation, str(EMPTY), text, 400)
    if len(text) > MAX_REPLY:
        return await _page(
            db,
            staff,
            conversation,
            _("Your reply must be %(max)s characters or fewer", max=format_number(MAX_REPLY)),
            text,
            400,
        )
    [sent] = await gateway.deliver(db, conversation, [text], staff.actor)
    if conversation.channel != "web" and sent.external_id is None:
        if await refused(db, sent):
            return await _page(db, staff, conversation, str(NOT_DELIVERED), "", 502)
        return await _page(db, staff, conversation, str(NOT_YET), "", 202)
    return Redirect(f"/staff/inbox/{conversation.key}#message-{sent.id}", status_code=303)


@post("/{key:str}/hand-back", name="staff_inbox_hand_back")
async def hand_back(
    key: FromPath[str],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    audit: NamedDependency[AuditLog],
    gateway: NamedDependency[Gateway],
) -> Response[Any]:
    """Back to the bot, which greets the citizen; only the agent holding it may."""
    conversation = await _conversation(db, key, with_bot=True)
    if not await _holds(db, conversation, staff):
        return await _page(db, staff, conversation, str(NOT_YOURS), "", 409)
    # The bot's greeting first, while the citizen's web chat still looks for new messages.
    await gateway.back_to_bot(db, conversation)
    await handoff.end(db, audit, conversation, "agent", staff.actor)
    return Redirect("/staff/inbox?notice=handed-back", status_code=303)


inbox_routes = Router(
    path="/staff/inbox",
    route_handlers=[
        inbox,
        queue_fragment,
        conversation_page,
        messages_fragment,
        claim,
        reply,
        hand_back,
    ],
    dependencies={"staff": Provide(require_role("agent"))},
    include_in_schema=False,
)
