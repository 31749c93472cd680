"""Signing citizens in and out, and knowing who is signed in.

A signed-in session holds the citizen's id, when they signed in and the ID token (as the hint
for the provider's logout). It is valid while younger than FRONTDOOR_SESSION_ABSOLUTE_SECONDS,
used within FRONTDOOR_SESSION_IDLE_SECONDS (the store's expiry), and begun after the citizen's
last "sign out everywhere".
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from litestar import Request
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditLog
from portal.identity.models import Citizen
from portal.web.errors import SignInRequired
from portal.web.sessions import fresh_session

CITIZEN = "citizen_id"
SIGNED_IN_AT = "signed_in_at"
ID_TOKEN = "id_token"  # noqa: S105 - the name of a session key
PENDING = "oidc_pending"


class _Owned(Protocol):
    citizen_id: Any  # a mapped column: the citizen the row belongs to


Owned = TypeVar("Owned", bound=_Owned)


def signed_in(request: Request[Any, Any, Any]) -> bool:
    """Whether this browser's session is a signed-in one (for the header; no database read)."""
    session = request.scope.get("session")
    return isinstance(session, dict) and CITIZEN in session


def _still_valid(request: Request[Any, Any, Any], citizen: Citizen | None) -> bool:
    """Whether the session still holds for `citizen`; if not, it is ended."""
    settings = request.app.state.settings
    started = float(request.session.get(SIGNED_IN_AT, 0))
    expired = time.time() - started > settings.session_absolute_seconds
    revoked = citizen is None or started < _timestamp(citizen.sessions_valid_after)
    if expired or revoked:
        request.clear_session()
        return False
    return True


async def current_citizen(request: Request[Any, Any, Any], db: AsyncSession) -> Citizen | None:
    """The signed-in citizen, or None (and the session ended) when it is no longer valid."""
    if CITIZEN not in request.session:
        return None
    citizen = await db.get(Citizen, request.session[CITIZEN])
    return citizen if _still_valid(request, citizen) else None


async def require_citizen(
    request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]
) -> Citizen:
    """Dependency for pages that need a signed-in citizen."""
    citizen = await current_citizen(request, db)
    if citizen is None:
        raise SignInRequired()
    return citizen


async def citizen_and_own(
    request: Request[Any, Any, Any], db: AsyncSession, model: type[Owned], *criteria: Any
) -> tuple[Citizen, Owned]:
    """The signed-in citizen and the one row of `model` that is theirs and matches `criteria`,
    read together (one query instead of two on every page about a draft or an application).
    Not signed in: SignInRequired. Someone else's row, or none: 404, which says nothing about
    whether it exists."""
    if CITIZEN not in request.session:
        raise SignInRequired()
    row = (
        await db.execute(
            select(Citizen, model)
            .outerjoin(model, and_(model.citizen_id == Citizen.id, *criteria))
            .where(Citizen.id == request.session[CITIZEN])
        )
    ).first()
    if not _still_valid(request, row[0] if row is not None else None) or row is None:
        raise SignInRequired()
    citizen, owned = row
    if owned is None:
        raise NotFoundException()
    return citizen, owned


async def sign_in(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    audit: AuditLog,
    claims: dict[str, Any],
    id_token: str,
    method: str = "oidc",
) -> Citizen:
    """Record the citizen and start a new session for them (a new id: no fixation)."""
    issuer = str(claims["iss"])
    citizen = await db.scalar(
        select(Citizen).where(Citizen.issuer == issuer, Citizen.subject == str(claims["sub"]))
    )
    if citizen is None:
        citizen = Citizen(issuer=issuer, subject=str(claims["sub"]))
        citizen.language = str(claims.get("locale") or "en")[:8]
        db.add(citizen)
    # Tell us once: what the provider says fills gaps, never what the citizen changed.
    citizen.name = citizen.name or str(claims.get("name") or "")
    citizen.email = citizen.email or claims.get("email")
    citizen.phone = citizen.phone or claims.get("phone_number")
    citizen.last_sign_in_at = datetime.now(UTC)
    await db.commit()
    # A new session for the citizen alone: whatever this browser held before (another
    # citizen's payments, a staff sign-in) ends here.
    await fresh_session(
        request, {CITIZEN: citizen.id, SIGNED_IN_AT: time.time(), ID_TOKEN: id_token}
    )
    await audit.record(
        "sign_in", actor=f"citizen:{citizen.id}", subject=f"citizen:{citizen.id}", method=method
    )
    return citizen


async def sign_out(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    audit: AuditLog,
    citizen: Citizen | None,
    everywhere: bool,
) -> str | None:
    """End this session (and, if asked, every session of the citizen); returns the ID token hint."""
    id_token = request.session.get(ID_TOKEN)
    if everywhere and citizen is not None:
        citizen.sessions_valid_after = datetime.now(UTC)
        await db.commit()
    actor = f"citizen:{citizen.id}" if citizen else "anonymous"
    await fresh_session(request, {})
    await audit.record(
        "sign_out_everywhere" if everywhere else "sign_out", actor=actor, subject=actor
    )
    return str(id_token) if id_token else None


def _timestamp(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
