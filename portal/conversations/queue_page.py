"""The inbox's queue as an agent reads it: its tables' rows worded here, in the reader's
language, with the links to the pages before and after.

Built here rather than in the template, as the application timeline is: a hundred rows of
macros, lookups and dates made Jinja the inbox's largest cost (it ran at 0.13 of a static page).
The template loops over plain strings, which it still escapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from portal.conversations import queue
from portal.conversations.handoff import Figures
from portal.conversations.queue import Listed, Place
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.i18n import ngettext
from portal.i18n.formatting import format_datetime, format_number
from portal.i18n.locale import native_name
from portal.staff.service import StaffMember
from portal.web.templating import channel_name

SHORT = 80  # a newest message longer than SHORT + 5 characters is cut at a word, as Jinja's
LEEWAY = 5  # `truncate` did
REASONS = {"asked": _l("Asked for a person"), "not_understood": _l("Not understood twice")}


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
    figures: Figures
    state: str
    here: dict[str, str] = field(default_factory=dict)

    @property
    def poll(self) -> str:
        """What htmx asks for every few seconds."""
        return f"/staff/inbox/queue?{urlencode({'seen': self.state, **self.here})}"


def shorten(text: str) -> str:
    """The start of a long message, cut at a word."""
    if len(text) <= SHORT + LEEWAY:
        return text
    return text[: SHORT - 3].rsplit(" ", 1)[0] + "..."


def inbox_link(query: dict[str, str]) -> str:
    """The inbox's address with `query`."""
    return f"/staff/inbox?{urlencode(query)}" if query else "/staff/inbox"


class _Wording:
    """Rows in the reader's language; each fixed word is looked up once a page."""

    def __init__(self) -> None:
        self.reasons = {code: str(text) for code, text in REASONS.items()}
        self.channels: dict[str, str] = {}

    def channel(self, code: str) -> str:
        if code not in self.channels:
            self.channels[code] = channel_name(code)
        return self.channels[code]

    def row(self, found: Listed, holder: bool = False) -> QueueRow:
        since = format_datetime(found.handoff_at) if found.handoff_at else ""
        channel = self.channel(found.channel)
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


def _pager(waiting: list[Listed], total: int, earlier: int, live: bool) -> Pager | None:
    """Links to the pages before and after this one, when there are any."""
    if not waiting or len(waiting) == total:
        return None
    stay = {} if live else {"live": "0"}
    first, last = waiting[0], waiting[-1]
    before = Place.of(first.handoff_at, 0, first.id)
    after = Place.of(last.handoff_at, last.id, 0)
    return Pager(
        previous=inbox_link({**before.query(), **stay}) if before and earlier > 0 else None,
        next=inbox_link({**after.query(), **stay})
        if after and earlier + len(waiting) < total
        else None,
    )


def _caption(text: str, count: int) -> str:
    return f"{text} ({format_number(count)})"


async def read_queue(
    db: AsyncSession, member: StaffMember, place: Place | None, live: bool
) -> Queue:
    """The queue for `member`: their conversations, a page of those waiting from `place`, the
    ones other agents hold, and today's figures."""
    found = await queue.read(db, place)
    words = _Wording()
    since, asked, last = _("Waiting since"), _("Asked at"), _("Last message")
    mine = [words.row(row) for row in found.held if row.agent == member.actor]
    others = [words.row(row, holder=True) for row in found.held if row.agent != member.actor]
    tables = [
        Table(_caption(_("Your conversations"), len(mine)), asked, last, mine),
        Table(
            _("Waiting for a person"),
            since,
            last,
            [words.row(row) for row in found.waiting],
            count=_count(len(found.waiting), found.total, found.earlier),
            pager=_pager(found.waiting, found.total, found.earlier, live),
        ),
    ]
    if others:
        tables.append(
            Table(_caption(_("Held by other agents"), len(others)), asked, _("Agent"), others)
        )
    here = {} if found.first or place is None else place.query()
    return Queue(tables, found.figures, found.state, here)
