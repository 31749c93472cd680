"""The inbox's queue read from the database: a page of the conversations waiting (oldest
first), the ones agents hold, today's hand-offs, and a fingerprint of it all, in one statement.

A page is found by its place in the queue's order (hand-off time, then id), not by its number:
when conversations before it are claimed, the page an agent reads keeps its rows.

One statement, built once: measured here, any statement cost the portal about 0.2 ms of CPU
through SQLAlchemy, however small, and SQLAlchemy took about 0.5 ms to build a statement of this
size and as long again to find its compiled form. The inbox is loaded by every agent and sent
again to each of them on every change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    func,
    literal,
    null,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from portal.conversations import handoff
from portal.conversations.models import ChatMessage, Conversation, Handoff
from portal.database.engine import aware

PAGE_SIZE = 25  # conversations waiting, a page
HELD_LIMIT = 100  # conversations held by agents shown (they are few: one an agent, mostly)
NEWEST_CHARACTERS = 86  # of a newest message: enough to cut it at 80 (see queue_page.shorten)


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

    @property
    def side(self) -> str:
        return "after" if self.after else "before"

    def query(self) -> dict[str, str]:
        """The place in a link's query."""
        return {"at": self.at.isoformat(), self.side: str(self.id)}


class Listed(NamedTuple):
    """A row of the statement's list: a conversation (`part` is its status: "waiting" or
    "agent") or one of today's hand-offs (`part` "today", its times in `handoff_at`,
    `claimed_at`, `ended_at`)."""

    part: str
    id: int
    key: str
    channel: str
    language: str
    handoff_reason: str | None
    handoff_at: datetime | None
    last: str | None
    agent: str | None
    agent_name: str | None
    claimed_at: datetime | None
    ended_at: datetime | None


LISTED = len(Listed._fields)


@dataclass(frozen=True)
class Listing:
    """What the statement found. `earlier`: how many wait before the page; `first`: whether the
    page is the first (a page asked for that no longer exists is shown as the first)."""

    state: str
    total: int
    earlier: int
    waiting: list[Listed]
    held: list[Listed]
    figures: handoff.Figures
    first: bool


def _order() -> Any:
    return tuple_(Conversation.handoff_at, Conversation.id)


def _edge() -> Any:
    return tuple_(
        bindparam("edge_at", type_=Conversation.handoff_at.type),
        bindparam("edge_id", type_=Integer()),
    )


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


STATE = _state_query()


def _fingerprint(row: Sequence[Any]) -> str:
    return hashlib.sha256(repr(tuple(row)).encode()).hexdigest()[:16]


async def queue_state(db: AsyncSession) -> str:
    """A short fingerprint of everything the queue shows: the same fingerprint, nothing to show
    again (one query: the htmx poll asks it every 5 s)."""
    return _fingerprint((await db.execute(STATE)).one())


def _rows(*conditions: ColumnElement[bool]) -> Select[Any]:
    """Conversations with what their rows show: who holds each, and the start of its newest
    message (its index finds each conversation's newest)."""
    newest = (
        select(func.substr(ChatMessage.body, 1, NEWEST_CHARACTERS))
        .where(ChatMessage.conversation_id == Conversation.id)
        .order_by(ChatMessage.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            Conversation.status.label("part"),
            Conversation.id,
            Conversation.key,
            Conversation.channel,
            Conversation.language,
            Conversation.handoff_reason,
            Conversation.handoff_at,
            newest.label("last"),
            Handoff.agent,
            Handoff.agent_name,
            Handoff.claimed_at,
            Handoff.ended_at,
        )
        .outerjoin(
            Handoff, (Handoff.conversation_id == Conversation.id) & Handoff.ended_at.is_(None)
        )
        .where(*conditions)
    )


def _page(side: str) -> Select[Any]:
    """The conversations waiting after an edge (`side` "after"), before it, or from the
    oldest (no side)."""
    waiting = Conversation.status == "waiting"
    if side == "before":
        query = _rows(waiting, _order() < _edge()).order_by(
            Conversation.handoff_at.desc(), Conversation.id.desc()
        )
    else:
        later = [_order() > _edge()] if side else []
        query = _rows(waiting, *later).order_by(Conversation.handoff_at, Conversation.id)
    return query.limit(PAGE_SIZE)


@cache
def _statement(side: str) -> Select[Any]:
    """Every row of the list (see Listed: the page, the conversations agents hold, and today's
    hand-offs), each followed by the state and the counts; with no such row, one row of nulls
    followed by them."""
    waiting = Conversation.status == "waiting"
    counted: list[Any] = [select(func.count()).where(waiting).scalar_subquery().label("total")]
    if side:
        earlier = _order() <= _edge() if side == "after" else _order() < _edge()
        counted.append(select(func.count()).where(waiting, earlier).scalar_subquery())
    counts = _state_query(*counted).subquery()
    held = _rows(Conversation.status == "agent")
    held = held.order_by(Conversation.handoff_at, Conversation.id).limit(HELD_LIMIT)
    today = select(  # in Listed's columns, those a hand-off has not left empty
        literal("today").label("part"),
        Handoff.id,
        *(null() for _ in range(4)),
        Handoff.requested_at,
        *(null() for _ in range(3)),
        Handoff.claimed_at,
        Handoff.ended_at,
    ).where(
        Handoff.requested_at >= bindparam("day_start", type_=Handoff.requested_at.type),
        Handoff.requested_at < bindparam("day_end", type_=Handoff.requested_at.type),
    )
    rows = union_all(select(_page(side).subquery()), select(held.subquery()), today).subquery()
    return select(rows, counts).select_from(counts.outerjoin(rows, true()))


def _position(row: Listed) -> tuple[bool, datetime, int]:
    return row.handoff_at is None, row.handoff_at or datetime.min, row.id


async def read(db: AsyncSession, place: Place | None) -> Listing:
    """The queue from `place`. When conversations left it, the page before `place` may be short,
    or the page after it empty: the first page is read instead."""
    start, end = handoff.today()
    parameters: dict[str, Any] = {"day_start": start, "day_end": end}
    if place is not None:
        parameters.update(edge_at=place.at, edge_id=place.id)
    found = (await db.execute(_statement(place.side if place else ""), parameters)).all()
    counts = found[0][LISTED:]
    listed = [Listed._make(row[:LISTED]) for row in found]
    waiting = sorted((row for row in listed if row.part == "waiting"), key=_position)
    if place is not None and (not waiting if place.after else len(waiting) < PAGE_SIZE):
        return await read(db, None)
    earlier = 0
    if place is not None:
        earlier = counts[5] if place.after else counts[5] - len(waiting)
    return Listing(
        state=_fingerprint(counts[:4]),
        total=counts[4],
        earlier=earlier,
        waiting=waiting,
        held=sorted((row for row in listed if row.part == "agent"), key=_position),
        figures=handoff.figures(
            (row.handoff_at, row.claimed_at, row.ended_at)
            for row in listed
            if row.part == "today" and row.handoff_at
        ),
        first=place is None,
    )
