"""Counting the outbox per backend, listing one backend's waiting and parked messages, and the
operators' actions on one message.

An action never touches a message a worker holds right now (its lease runs): the row is read
FOR UPDATE, so a worker claiming it at the same moment either waits for the action (and then
finds it no longer pending) or has claimed it first (and the action is refused). Cancelled
messages are never claimed: the worker takes only pending ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.applications.models import Application, DepartmentRequest, Notification
from portal.applications.undelivered import record_not_delivered
from portal.database.engine import aware
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.outbox.models import OutboxMessage
from portal.payments.models import Payment

PAGE_SIZE = 50
WAITING = ("pending", "failed")  # what a backend's page lists
RECENT = timedelta(hours=24)

# Backends that are not departments, by their target in the outbox.
BACKEND_NAMES: dict[str, Any] = {
    "mail": _l("Email (mail server)"),
    "sms": _l("SMS"),
    "whatsapp": _l("WhatsApp"),
    "bills": _l("Bills office"),
    "bot": _l("The assistant (answering text messages)"),
    "payments": _l("Sending drafts once paid"),
    "unknown": _l("Unknown (queued before backends were recorded)"),
}

KIND_NAMES: dict[str, Any] = {
    "deliver": _l("Send an application"),
    "information": _l("Send information asked for"),
    "notify": _l("Tell a citizen of news"),
    "draft_warning": _l("Tell a citizen their unsent application will be deleted"),
    "payment_report": _l("Report a payment"),
    "send_paid_draft": _l("Send a paid draft"),
    "chat_turn": _l("Answer a text message"),
    "chat_reply": _l("Send a reply on SMS or WhatsApp"),
}

# (action, the statuses it may start from)
ACTIONS: dict[str, frozenset[str]] = {
    "retry": frozenset({"pending", "failed"}),
    "park": frozenset({"pending"}),
    "cancel": frozenset({"pending", "failed"}),
}


def state_name(status: str, attempts: int) -> str:
    """A message's state as operators speak of it."""
    if status == "pending":
        return _("Retrying") if attempts else _("Queued")
    names = {"failed": _("Parked"), "done": _("Done"), "cancelled": _("Cancelled")}
    return names.get(status, status)


def kind_name(kind: str) -> str:
    return str(KIND_NAMES.get(kind, kind))


@dataclass(frozen=True)
class BackendCounts:
    target: str
    queued: int = 0
    retrying: int = 0
    parked: int = 0
    done_recently: int = 0
    oldest_waiting: datetime | None = None  # created_at of the oldest not sent, parked too

    @property
    def waiting(self) -> int:
        return self.queued + self.retrying + self.parked


async def backend_counts(
    db: AsyncSession, now: datetime, known: list[str] | tuple[str, ...] = ()
) -> list[BackendCounts]:
    """One row per backend with messages waiting, parked or done in the last 24 hours, and one
    for each of `known` (the catalogue's departments) even when it has none. Parked messages
    count as waiting for the oldest wait: the citizen waits for them too."""
    pending = OutboxMessage.status == "pending"
    query = (
        select(
            OutboxMessage.target,
            func.sum(case((and_(pending, OutboxMessage.attempts == 0), 1), else_=0)),
            func.sum(case((and_(pending, OutboxMessage.attempts > 0), 1), else_=0)),
            func.sum(case((OutboxMessage.status == "failed", 1), else_=0)),
            func.sum(case((OutboxMessage.status == "done", 1), else_=0)),
            func.min(case((OutboxMessage.status.in_(WAITING), OutboxMessage.created_at))),
        )
        .where(
            or_(
                OutboxMessage.status.in_(WAITING),
                and_(OutboxMessage.status == "done", OutboxMessage.done_at >= now - RECENT),
            )
        )
        .group_by(OutboxMessage.target)
    )
    found = {
        target: BackendCounts(
            target,
            int(queued or 0),
            int(retrying or 0),
            int(parked or 0),
            int(done or 0),
            aware(oldest) if oldest else None,
        )
        for target, queued, retrying, parked, done, oldest in (await db.execute(query)).tuples()
    }
    for target in known:
        found.setdefault(target, BackendCounts(target))
    return list(found.values())


@dataclass(frozen=True)
class Listed:
    message: OutboxMessage
    concerns: str  # the application or payment it is about, "" when not found

    @property
    def state(self) -> str:
        return state_name(self.message.status, self.message.attempts)

    @property
    def kind(self) -> str:
        return kind_name(self.message.kind)

    @property
    def actions(self) -> list[str]:
        return [action for action, start in ACTIONS.items() if self.message.status in start]


async def waiting_messages(db: AsyncSession, target: str, page: int) -> tuple[list[Listed], int]:
    """One page of the backend's waiting and parked messages, problems first (parked, then
    retrying, then queued), newest first within each; and how many there are in all."""
    waiting = and_(OutboxMessage.target == target, OutboxMessage.status.in_(WAITING))
    total = int(await db.scalar(select(func.count(OutboxMessage.id)).where(waiting)) or 0)
    rank = case(
        (OutboxMessage.status == "failed", 0),
        (OutboxMessage.attempts > 0, 1),
        else_=2,
    )
    messages = list(
        await db.scalars(
            select(OutboxMessage)
            .where(waiting)
            .order_by(rank, OutboxMessage.id.desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
    )
    concerns = await _concerns(db, messages)
    return [Listed(message, concerns.get(message.id, "")) for message in messages], total


def _ids(messages: list[OutboxMessage], kinds: set[str], field: str) -> dict[int, int]:
    """message id -> the integer its payload holds in `field`, for messages of `kinds`."""
    return {
        m.id: m.payload[field]
        for m in messages
        if m.kind in kinds and isinstance(m.payload.get(field), int)
    }


async def _concerns(db: AsyncSession, messages: list[OutboxMessage]) -> dict[int, str]:
    """What each message is about, looked up for the whole page at once."""
    found: dict[int, str] = {}
    requests = _ids(messages, {"deliver", "information"}, "request_id")
    if requests:
        rows = await db.execute(
            select(DepartmentRequest.id, Application.reference)
            .join(Application, Application.id == DepartmentRequest.application_id)
            .where(DepartmentRequest.id.in_(set(requests.values())))
        )
        references = dict(rows.tuples().all())
        found |= {m: references[r] for m, r in requests.items() if r in references}
    notifications = _ids(messages, {"notify"}, "notification_id")
    if notifications:
        rows = await db.execute(
            select(Notification.id, Application.reference)
            .join(Application, Application.id == Notification.application_id)
            .where(Notification.id.in_(set(notifications.values())))
        )
        references = dict(rows.tuples().all())
        found |= {m: references[n] for m, n in notifications.items() if n in references}
    payments = _ids(messages, {"payment_report", "send_paid_draft"}, "payment_id")
    if payments:
        paid = await db.execute(
            select(Payment.id, Payment.public_id, Payment.reference).where(
                Payment.id.in_(set(payments.values()))
            )
        )
        described = {
            payment_id: _("Payment %(payment)s for %(reference)s", payment=public, reference=ref)
            for payment_id, public, ref in paid.tuples()
        }
        found |= {m: described[p] for m, p in payments.items() if p in described}
    return found


@dataclass(frozen=True)
class Refused:
    """Why an action was not taken, in the operator's language."""

    text: str


@dataclass(frozen=True)
class Taken:
    target: str
    kind: str
    before: str
    after: str


REFUSALS: dict[str, Any] = {
    "retry": _l("Message %(id)s cannot be sent again: its state is %(state)s."),
    "park": _l("Message %(id)s cannot be parked: its state is %(state)s."),
    "cancel": _l("Message %(id)s cannot be cancelled: its state is %(state)s."),
}


async def take_action(
    db: AsyncSession, message_id: int, action: str, operator: str, now: datetime
) -> Taken | Refused | None:
    """Do `action` on one message and commit; None when there is no such message.

    retry: back to pending, due now, its attempts kept. park: failed for a person to look at,
    its last error saying who parked it. cancel: never sent; a department request the citizen
    waits on gets "not delivered" on their timeline, as when the department refuses it."""
    message = await db.scalar(
        select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()
    )
    if message is None:
        return None
    before = message.status
    if before not in ACTIONS[action]:
        state = state_name(before, message.attempts)
        await db.rollback()
        return Refused(str(REFUSALS[action]) % {"id": message_id, "state": state})
    if message.locked_until is not None and aware(message.locked_until) > now:
        await db.rollback()
        return Refused(
            _(
                "Message %(id)s is being sent right now. Wait a minute, then try again.",
                id=message_id,
            )
        )
    if action == "retry":
        message.status = "pending"
        message.next_attempt_at = now
        message.locked_until = None
    elif action == "park":
        message.status = "failed"
        note = f"Parked by {operator}"
        message.last_error = f"{note}\n\n{message.last_error}" if message.last_error else note
    else:
        message.status = "cancelled"
        message.locked_until = None
        await record_not_delivered(db, message.kind, message.payload)
    taken = Taken(message.target, message.kind, before, message.status)
    await db.commit()
    return taken
