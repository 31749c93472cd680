"""Who the staff member is, what roles they have, and the guards for staff pages."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.exceptions import PermissionDeniedException
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditLog
from portal.audit.models import AuditEvent
from portal.i18n import lazy_gettext as _l
from portal.web.errors import SignInRequired
from portal.web.sessions import fresh_session

STAFF = "staff"
SUBJECT_LENGTH = 200  # audit_events.subject
ROLES = frozenset({"agent", "editor", "designer", "admin", "office"})
# RFC 8176 authentication method references that are a second factor.
SECOND_FACTORS = frozenset(
    {"otp", "hwk", "swk", "sms", "tel", "face", "fpt", "iris", "retina", "sc", "mfa"}
)


# Each staff area, the role that opens it and its short name in the staff header.
AREAS: tuple[tuple[str, str, Any], ...] = (
    ("agent", "/staff/citizens", _l("Find a citizen")),
    ("agent", "/staff/inbox", _l("Inbox")),
    ("editor", "/staff/translations", _l("Translations")),
    ("designer", "/staff/services", _l("Services")),
    ("admin", "/staff/audit", _l("Audit trail")),
    ("admin", "/staff/access", _l("Access log")),
    ("admin", "/staff/payments", _l("Payments")),
    ("admin", "/staff/backends", _l("Backends")),
    ("office", "/staff/office", _l("Office applications")),
)


class StaffSignInRequired(SignInRequired):
    """A staff page without a staff session (a citizen's does not count)."""

    sign_in_path = "/staff/sign-in"


@dataclass(frozen=True)
class StaffMember:
    subject: str
    name: str
    email: str
    roles: frozenset[str]
    departments: frozenset[str] = frozenset()  # the offices an "office" member serves

    @property
    def actor(self) -> str:
        return f"staff:{self.subject}"


def staff_areas(member: StaffMember) -> list[tuple[str, str]]:
    """(path, name) of the areas this staff member's roles open, in the header's order."""
    return [(path, str(name)) for role, path, name in AREAS if role in member.roles]


def used_second_factor(claims: dict[str, Any], mfa_acr_values: tuple[str, ...]) -> bool:
    """Whether the provider says the sign-in used two factors: an agreed acr value, amr "mfa",
    or two different methods of which one is a second factor (a code alone is one factor)."""
    methods = set(claims.get("amr") or [])
    if claims.get("acr") in mfa_acr_values or "mfa" in methods:
        return True
    return len(methods) >= 2 and bool(SECOND_FACTORS.intersection(methods))


def current_staff(request: Request[Any, Any, Any]) -> StaffMember | None:
    session = request.scope.get("session")
    record = session.get(STAFF) if isinstance(session, dict) else None
    if not record:
        return None
    if (
        time.time() - float(record["signed_in_at"])
        > request.app.state.settings.session_absolute_seconds
    ):
        request.clear_session()
        return None
    return StaffMember(
        record["sub"],
        record["name"],
        record["email"],
        frozenset(record["roles"]),
        frozenset(record.get("departments") or ()),
    )


async def staff_sign_in(
    request: Request[Any, Any, Any], claims: dict[str, Any], id_token: str
) -> StaffMember:
    """A new session holding only the staff member (any citizen sign-in in it ends)."""
    roles = sorted(ROLES.intersection(claims.get("roles") or []))
    member = StaffMember(
        subject=str(claims["sub"]),
        name=str(claims.get("name") or ""),
        email=str(claims.get("email") or ""),
        roles=frozenset(roles),
        departments=frozenset(str(d) for d in claims.get("departments") or ()),
    )
    record = {
        "sub": member.subject,
        "name": member.name,
        "email": member.email,
        "roles": roles,
        "departments": sorted(member.departments),
        "signed_in_at": time.time(),
        "id_token": id_token,
    }
    await fresh_session(request, {STAFF: record})
    audit: AuditLog = request.app.state.audit
    # The name goes in the log too: pages that list who did what show names (staff_names).
    await audit.record(
        "staff_sign_in", actor=member.actor, subject=member.actor, roles=roles, name=member.name
    )
    return member


async def staff_names(db: AsyncSession, actors: Iterable[str | None]) -> dict[str, str]:
    """The name each staff member ("staff:<subject>") gave at their latest sign-in. Someone
    not found (signed in before names were kept) is left out: pages show their id instead."""
    wanted = {actor for actor in actors if actor and actor.startswith("staff:")}
    if not wanted:
        return {}
    latest = (
        select(func.max(AuditEvent.id))
        .where(AuditEvent.action == "staff_sign_in", AuditEvent.actor.in_(wanted))
        .group_by(AuditEvent.actor)
    )
    rows = await db.execute(
        select(AuditEvent.actor, AuditEvent.details).where(AuditEvent.id.in_(latest))
    )
    return {actor: str(details["name"]) for actor, details in rows if details.get("name")}


def require_role(*allowed: str) -> Callable[[Request[Any, Any, Any]], Awaitable[StaffMember]]:
    """A dependency: the staff member, if they hold one of `allowed` (any role when empty)."""

    async def dependency(request: Request[Any, Any, Any]) -> StaffMember:
        member = current_staff(request)
        if member is None:
            raise StaffSignInRequired()
        if allowed and not member.roles.intersection(allowed):
            audit: AuditLog = request.app.state.audit
            # The path as asked, cut to what the log holds (anyone signed in can make it long).
            subject = request.url.path[:SUBJECT_LENGTH]
            await audit.record(
                "role_denied", actor=member.actor, subject=subject, needed=sorted(allowed)
            )
            raise PermissionDeniedException()
        return member

    return dependency
