"""The inbox's queue as an agent reads it: the conversations waiting, a page at a time (oldest
first), the ones agents hold, every row worded here in the reader's language.

Built here rather than in the template, as the application timeline is: a hundred rows of
macros, lookups and dates made Jinja the inbox's largest cost (it ran at 0.13 of a static page).
The template loops over plain strings, which it still escapes.

A page is found by its place in the queue's order (hand-off time, then id), not by its number:
when conversations before it are claimed, the page an agent reads keeps its rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Row, Select, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from portal.conversations.models import ChatMessage, Conversation, Handoff
from portal.database.engine import aware
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.i18n import ngettext
from portal.i18n.formatting import format_datetime, format_number
from portal.i18n.locale import native_name
from portal.staff.service import StaffMember
from portal.web.templating import channel_name

PAGE_SIZE = 25  # conversations waiting, a page
HELD_LIMIT = 100  # conversations held by agents shown (they are few: one an agent, mostly)
SHORT = 80  # a newest message longer than SHORT + 5 characters is cut at a word, as Jinja's
LEEWAY = 5  # `truncate` did
REASONS = {"asked": _l("Asked for a person"), "not_understood": _l("Not understood twice")}


@dataclass(frozen=True)
class Place:
    """A page's edge in the queue's order, from its URL: the hand-off time and id of the last
    conversation of the page before (`after`), or of the first of the page after."""

    at: datetime
    id: int
    after: bool = True

    @classmethod
    def of(cls, at: datetime | None, after: int, before: int) -> Place | None:
        """The place the query names; None (the first page) when it names none."""
        if at is None or not (after or before):
            return None
        return cls(aware(at).astimezone(UTC), after or before, after=bool(after))

    def query(self) -> dict[str, str]:
        return {"at": self.at.isoformat(), ("after" if self.after else "before"): str(self.id)}


def _order() -> Any:
    return tuple_(Conversation.handoff_at, Conversation.id)


def _edge(place: Place) -> Any:
    return tuple_(literal(place.at, Conversation.handoff_at.type), literal(place.id))


@dataclass(frozen=True)
class QueueRow:
    """One conversation in a table, worded: `last` (its newest message, cut short) in the
    tables the agent chooses from, `agent` (who holds it) in the table of others' conversations."""

    key: str
    since: str
    channel: str
    language: str
    language_name: str
    reason: str
    last: str
    agent: str
    about: str  # what "Open" opens, for screen readers


@dataclass(frozen=True)
class Pager:
    previous: str | None  # links, None when there is no page that way
    next: str | None


@dataclass(frozen=True)
class Table:
    caption: str
    since: str  # the first column's heading
    detail: str  # the fourth's
    rows: list[QueueRow]
    count: str = ""  # how many, when the caption does not say it
    pager: Pager | None = None


@dataclass(frozen=True)
class Queue:
    """What inbox/queue.html shows; `here`: the page's place as a query string (the poll and
    the links keep it, so the list refreshing does not take the agent back to the first page)."""

    tables: list[Table]
    state: str
    here: dict[str, str] = field(default_factory=dict)

    @property
    def poll(self) -> str:
        """What htmx asks for every few seconds."""
        return f"/staff/inbox/queue?{urlencode({'seen': self.state, **self.here})}"


def _state_query(*extra: Any) -> Select[Any]:
    """Everything the queue shows, summed up (hand-offs open, claimed, their newest message),
    with `extra` columns."""
    open_ = Handoff.ended_at.is_(None)
    newest = select(func.max(ChatMessage.id)).where(
        ChatMessage.conversation_id.in_(select(Handoff.conversation_id).where(open_))
    )
    return select(
        func.count(Handoff.id),
        func.max(Handoff.id),
        func.count(Handoff.claimed_at),
        newest.scalar_subquery(),
        *extra,
    ).where(open_)


def _fingerprint(row: Sequence[Any]) -> str:
    return hashlib.sha256(repr(tuple(row)).encode()).hexdigest()[:16]


async def queue_state(db: AsyncSession) -> str:
    """A short fingerprint of everything the queue shows: the same fingerprint, nothing to show
    again (one query: the htmx poll asks it every 5 s)."""
    return _fingerprint((await db.execute(_state_query())).one())


async def _counts(db: AsyncSession, place: Place | None, state: str) -> tuple[str, int, int]:
    """The state (when not known yet), how many wait, and how many of them come before `place`
    (for a page before it: up to and including it), in one query."""
    waiting = Conversation.status == "waiting"
    columns: list[Any] = [select(func.count()).where(waiting).scalar_subquery()]
    if place is not None:
        earlier = _order() <= _edge(place) if place.after else _order() < _edge(place)
        columns.append(select(func.count()).where(waiting, earlier).scalar_subquery())
    if state:
        found: Sequence[Any] = (await db.execute(select(*columns))).one()
    else:
        found = (await db.execute(_state_query(*columns))).one()
        state, found = _fingerprint(found[:4]), found[4:]
    return state, found[0], found[1] if place is not None else 0


def _rows(*conditions: ColumnElement[bool]) -> Select[Any]:
    """Conversations with what their rows show, the newest message's start among it (one
    query: its index finds each conversation's newest)."""
    newest = (
        select(func.substr(ChatMessage.body, 1, SHORT + LEEWAY + 1))
        .where(ChatMessage.conversation_id == Conversation.id)
        .order_by(ChatMessage.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return select(
        Conversation.id,
        Conversation.key,
        Conversation.channel,
        Conversation.language,
        Conversation.handoff_reason,
        Conversation.handoff_at,
        newest.label("last"),
    ).where(*conditions)


async def _waiting(db: AsyncSession, place: Place | None) -> tuple[list[Row[Any]], bool]:
    """A page of the conversations waiting, oldest first, and whether it is the first page.
    When conversations left the queue, the page before `place` may be short, or the page after
    it empty: the first page is shown instead."""
    waiting = Conversation.status == "waiting"
    if place is None or place.after:
        later = [_order() > _edge(place)] if place else []
        query = _rows(waiting, *later).order_by(Conversation.handoff_at, Conversation.id)
        found = list((await db.execute(query.limit(PAGE_SIZE))).all())
        if not found and place is not None:  # every conversation after it has left the queue
            return await _waiting(db, None)
        return found, place is None
    query = _rows(waiting, _order() < _edge(place)).order_by(
        Conversation.handoff_at.desc(), Conversation.id.desc()
    )
    found = list((await db.execute(query.limit(PAGE_SIZE))).all())
    if len(found) < PAGE_SIZE:
        return (await _waiting(db, None))[0], True
    return found[::-1], False


async def _held(db: AsyncSession) -> list[Row[Any]]:
    """The conversations agents hold, oldest hand-off first, with who holds each."""
    query = (
        _rows(Conversation.status == "agent")
        .add_columns(Handoff.agent, Handoff.agent_name)
        .outerjoin(
            Handoff, (Handoff.conversation_id == Conversation.id) & Handoff.ended_at.is_(None)
        )
        .order_by(Conversation.handoff_at, Conversation.id)
        .limit(HELD_LIMIT)
    )
    return list((await db.execute(query)).all())


def shorten(text: str) -> str:
    """The start of a long message, cut at a word."""
    if len(text) <= SHORT + LEEWAY:
        return text
    return text[: SHORT - 3].rsplit(" ", 1)[0] + "..."


class _Wording:
    """Rows in the reader's language; each fixed word is looked up once a page."""

    def __init__(self) -> None:
        self.reasons = {code: str(text) for code, text in REASONS.items()}

    def row(self, found: Row[Any], holder: bool = False) -> QueueRow:
        since = format_datetime(found.handoff_at) if found.handoff_at else ""
        channel = channel_name(found.channel)
        return QueueRow(
            key=found.key,
            since=since,
            channel=channel,
            language=found.language,
            language_name=native_name(found.language),
            reason=self.reasons.get(found.handoff_reason or "", ""),
            last="" if holder else shorten(found.last or ""),
            agent=(found.agent_name or "") if holder else "",
            about=_("the conversation on %(channel)s from %(time)s", channel=channel, time=since),
        )


def inbox_link(query: dict[str, str]) -> str:
    """The inbox's address with `query`."""
    return f"/staff/inbox?{urlencode(query)}" if query else "/staff/inbox"


def _link(place: Place | None, live: bool) -> str:
    return inbox_link({**(place.query() if place else {}), **({} if live else {"live": "0"})})


def _count(shown: int, total: int, earlier: int) -> str:
    if earlier == 0 and shown == total:
        return ngettext("%(count)s waiting", "%(count)s waiting", total, count=format_number(total))
    return ngettext(
        "%(first)s to %(last)s of %(count)s waiting",
        "%(first)s to %(last)s of %(count)s waiting",
        total,
        first=format_number(earlier + 1 if shown else earlier),
        last=format_number(earlier + shown),
        count=format_number(total),
    )


async def read_queue(
    db: AsyncSession, member: StaffMember, place: Place | None, live: bool, state: str = ""
) -> Queue:
    """The queue for `member`: their conversations, a page of those waiting from `place`, and
    the ones other agents hold (four queries, whatever the length of the queue)."""
    state, total, earlier = await _counts(db, place, state)
    waiting, first = await _waiting(db, place)
    if first:
        place, earlier = None, 0
    elif place is not None and not place.after:
        earlier -= len(waiting)
    held = await _held(db)
    words = _Wording()
    since, asked, last = _("Waiting since"), _("Asked at"), _("Last message")
    mine = [words.row(c) for c in held if c.agent == member.actor]
    others = [words.row(c, holder=True) for c in held if c.agent != member.actor]
    pager = _pager(waiting, total, earlier, live)
    tables = [
        Table(_caption(_("Your conversations"), len(mine)), asked, last, mine),
        Table(
            _("Waiting for a person"),
            since,
            last,
            [words.row(c) for c in waiting],
            count=_count(len(waiting), total, earlier),
            pager=pager,
        ),
    ]
    if others:
        tables.append(
            Table(_caption(_("Held by other agents"), len(others)), asked, _("Agent"), others)
        )
    return Queue(tables, state, place.query() if place else {})


def _pager(waiting: list[Row[Any]], total: int, earlier: int, live: bool) -> Pager | None:
    """Links to the pages before and after this one, when there are any."""
    if not waiting or len(waiting) == total:
        return None
    first, last = waiting[0], waiting[-1]
    before = Place.of(first.handoff_at, 0, first.id)
    after = Place.of(last.handoff_at, last.id, 0)
    return Pager(
        previous=_link(before, live) if earlier > 0 else None,
        next=_link(after, live) if earlier + len(waiting) < total else None,
    )


def _caption(text: str, count: int) -> str:
    return f"{text} ({format_number(count)})"
