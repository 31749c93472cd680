"""The agent's stated purpose, finding citizens, and gathering one citizen's summary."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import phonenumbers
from litestar import Request
from litestar.exceptions import NotFoundException
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.applications.models import (
    Application,
    Notification,
)
from portal.applications.references import parse_reference
from portal.applications.states import Summary, requests_of, summarised
from portal.conversations.models import ChatMessage, Conversation
from portal.conversations.transcript import newest_messages_of, of_citizen
from portal.i18n import gettext as _
from portal.i18n.folding import fold
from portal.identity.codes import parse_destination
from portal.identity.models import Citizen
from portal.payments.models import Payment
from portal.shared.acting import PURPOSE

PAGE_SIZE = 10
MOST_PAGES = 20
MOST_MATCHES = PAGE_SIZE * MOST_PAGES  # more than an agent would read: they add to the name
MOST_FOUND = 200  # citizens a purpose covers in one session
SHOWN = 20  # applications, payments, notifications, conversations and messages each


def keep_purpose(request: Request[Any, Any, Any], text: str, citizens: list[str]) -> None:
    """State `text` as the purpose for these citizens (the same purpose as before: added to
    those already found under it)."""
    record = request.session.get(PURPOSE) or {}
    earlier = record.get("for", []) if record.get("text") == text else []
    found = list(dict.fromkeys([*earlier, *citizens]))[-MOST_FOUND:]
    request.set_session(
        {**request.session, PURPOSE: {"text": text, "at": time.time(), "for": found}}
    )


def read_purpose(text: str) -> tuple[str, str | None]:
    """The purpose, tidied, and what is wrong with it (None when it will do)."""
    clean = " ".join(text.split())
    if len(clean) < 3:
        return clean, _("Enter the call reference or the reason you need this citizen's details")
    if len(clean) > 200:
        return clean, _("The purpose must be 200 characters or fewer")
    return clean, None


async def citizen_named(db: AsyncSession, public_id: str) -> Citizen:
    """The citizen a staff page names; 404 for an unknown id."""
    citizen = await db.scalar(select(Citizen).where(Citizen.public_id == public_id))
    if citizen is None:
        raise NotFoundException()
    return citizen


@dataclass(frozen=True)
class Query:
    kind: str  # reference, email, phone or name
    value: str


def read_query(text: str, region: str) -> Query | None:
    """What the agent typed, recognised as a reference, an email, a phone number or a name;
    None when it is too short to search for."""
    clean = " ".join(text.split())
    if (reference := parse_reference(clean)) is not None:
        return Query("reference", reference)
    if "@" in clean:
        destination = parse_destination(clean, region)
        return Query("email", destination.address) if destination else None
    if sum(ch.isdigit() for ch in clean) >= 6:
        return _phone(clean, region)
    return Query("name", clean) if len(clean) >= 2 else None


def example_phone(region: str) -> str:
    """A mobile number as people write it in `region` (phonenumbers' own example), for hints:
    the search accepts it, as it accepts any number of the region or in international form."""
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if number is None:
        number = phonenumbers.example_number(region)
    if number is None:
        return "+34 612 34 56 78"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def _phone(text: str, region: str) -> Query | None:
    """A number as profiles keep it (E.164). A possible number is enough: profiles hold what
    the identity provider gave, and some real numbers (and test ranges) are not "valid"."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return Query("phone", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _condition(query: Query) -> ColumnElement[bool]:
    if query.kind == "reference":
        owner = select(Application.citizen_id).where(Application.reference == query.value)
        return Citizen.id.in_(owner)
    if query.kind == "email":
        return func.lower(Citizen.email) == query.value
    if query.kind == "phone":
        return Citizen.phone == query.value
    # A name: every word typed (up to five) is somewhere in it, case and accents ignored.
    words = fold(query.value).split()[:5]
    return and_(*(Citizen.name_folded.like(_like(word), escape="\\") for word in words))


async def search(db: AsyncSession, query: Query, page: int) -> tuple[list[Citizen], bool] | None:
    """One page of citizens matching the query, in the order of their names, and whether there is
    another; None when more than MOST_MATCHES match (the agent is asked for more of the name).

    The matches are found first, at most MOST_MATCHES + 1 of them (by the trigram index on
    PostgreSQL), and put in order here. With a million citizens, letting the database order a
    common name's sixty thousand matches took 155 ms, and walking every name in order until ten
    matched took 1.6 s for two words that occur together (scripts/volume.py)."""
    matches = (
        await db.execute(
            select(Citizen.id, Citizen.name_folded).where(_condition(query)).limit(MOST_MATCHES + 1)
        )
    ).all()
    if len(matches) > MOST_MATCHES:
        return None
    ordered = [row.id for row in sorted(matches, key=lambda row: (row.name_folded, row.id))]
    shown = ordered[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    found = {c.id: c for c in await db.scalars(select(Citizen).where(Citizen.id.in_(shown)))}
    return [found[id_] for id_ in shown if id_ in found], len(ordered) > page * PAGE_SIZE


@dataclass(frozen=True)
class CitizenSummary:
    citizen: Citizen
    # Each with its overall state; the whole timeline of one is a page of its own (application).
    applications: list[Summary]
    more_applications: bool  # the citizen has more than the SHOWN newest
    fee_due: set[int]  # applications with a fee to pay: the agent may send a link to pay it
    payments: list[Payment]
    notifications: list[Notification]
    conversations: list[tuple[Conversation, list[ChatMessage]]]


async def application_of(db: AsyncSession, citizen: Citizen, reference: str) -> Application:
    """The citizen's application with this reference; anyone else's is not found."""
    application = await db.scalar(
        select(Application).where(
            Application.reference == reference, Application.citizen_id == citizen.id
        )
    )
    if application is None:
        raise NotFoundException()
    return application


async def summary(db: AsyncSession, citizen: Citizen) -> CitizenSummary:
    """What the front door holds for this citizen, newest first, each list cut at SHOWN."""
    applications = list(
        (
            await db.scalars(
                select(Application)
                .where(Application.citizen_id == citizen.id)
                .order_by(Application.submitted_at.desc())
                .limit(SHOWN + 1)
            )
        ).all()
    )
    more, applications = len(applications) > SHOWN, applications[:SHOWN]
    requests = await requests_of(db, [a.id for a in applications])
    fee_due = {r.application_id for r in requests if r.status == "fee_due"}
    payments = (
        await db.scalars(
            select(Payment)
            .where(Payment.citizen_id == citizen.id)
            .order_by(Payment.created_at.desc())
            .limit(SHOWN)
        )
    ).all()
    notifications = (
        await db.scalars(
            select(Notification)
            .where(Notification.citizen_id == citizen.id)
            .order_by(Notification.created_at.desc())
            .limit(SHOWN)
        )
    ).all()
    conversations = (
        await db.scalars(
            select(Conversation)
            .where(of_citizen(citizen.id, citizen.phone))
            .order_by(Conversation.updated_at.desc())
            .limit(SHOWN)
        )
    ).all()
    transcripts = await newest_messages_of(db, list(conversations), SHOWN)
    return CitizenSummary(
        citizen,
        summarised(applications, requests),
        more,
        fee_due,
        list(payments),
        list(notifications),
        transcripts,
    )
