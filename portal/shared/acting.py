"""An agent acting for a citizen: after recording the citizen's consent, the agent's own session
(never the citizen's) may start and continue the citizen's journeys, and nothing else of theirs.
Every change is recorded as "agent X for citizen Y"."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from litestar import Request

from portal.audit import AuditLog
from portal.identity.models import Citizen
from portal.staff.service import StaffMember, current_staff

ACTING = "acting"
PREVIEW = "previewing"
ACTING_SECONDS = 2 * 3600  # one call, or one visit at the desk
# A route option: pages that act for the citizen (their journeys), where the banner shows.
ACTS_FOR_CITIZEN = "acts_for_citizen"


PURPOSE = "assist_purpose"
PURPOSE_SECONDS = 2 * 3600  # a call, or a morning's case: then it is asked again


def current_purpose(request: Request[Any, Any, Any], citizen: str | None = None) -> str | None:
    """The purpose the agent stated for what they are doing now, while it is fresh; with
    `citizen` (a public id), only if that citizen was found (or acted for) under it."""
    record = request.session.get(PURPOSE)
    if not record or time.time() - float(record["at"]) > PURPOSE_SECONDS:
        return None
    if citizen is not None and citizen not in record.get("for", []):
        return None
    return str(record["text"])


@dataclass(frozen=True)
class Acting:
    citizen_id: int
    citizen: str  # the citizen's public id, as the audit log names them
    consent: str  # the consent's public id
    member: StaffMember
    name: str = ""  # the citizen's name, for the banner ("" in sessions from before it was kept)
    # A designer walking a version not yet live as a citizen would (portal.design.preview): the
    # "citizen" is their own preview account, and nothing they send reaches a department.
    preview: bool = False


def acting(request: Request[Any, Any, Any]) -> Acting | None:
    """Who the signed-in agent is acting for, if they recorded consent recently (or, for a
    designer previewing a service, their preview account)."""
    member = current_staff(request)
    shown: dict[str, Any] = (request.session.get(PREVIEW) or {}) if member is not None else {}
    fresh = bool(shown) and time.time() - float(shown["at"]) <= ACTING_SECONDS
    if member is not None and fresh and "designer" in member.roles:
        return Acting(int(shown["id"]), str(shown["citizen"]), "", member, preview=True)
    record = request.session.get(ACTING) if member is not None else None
    if member is None or not record or "agent" not in member.roles:
        return None
    if time.time() - float(record["at"]) > ACTING_SECONDS:
        return None
    if current_purpose(request, str(record["citizen"])) is None:
        return None  # acting needs the purpose the citizen was found under, like every look
    return _from_record(record, member)


def _from_record(record: dict[str, Any], member: StaffMember) -> Acting:
    return Acting(
        int(record["id"]),
        str(record["citizen"]),
        str(record["consent"]),
        member,
        str(record.get("name") or ""),
    )


def acting_here(request: Request[Any, Any, Any]) -> Acting | None:
    """Who the agent acts for, on the pages that act for them (the citizen's journeys) only:
    not in the inbox, nor on another citizen's pages."""
    handler = request.scope.get("route_handler")
    if handler is None or not handler.opt.get(ACTS_FOR_CITIZEN):
        return None
    return acting(request)


def start_acting(request: Request[Any, Any, Any], citizen: Citizen, consent: str) -> None:
    record = {
        "id": citizen.id,
        "citizen": citizen.public_id,
        "name": citizen.name or "",
        "consent": consent,
        "at": time.time(),
    }
    request.set_session({**request.session, ACTING: record})


def stop_acting(request: Request[Any, Any, Any]) -> Acting | None:
    """End acting and say for whom, even when the time or the purpose ran out meanwhile: the
    consent is still closed and the end recorded."""
    member = current_staff(request)
    record = request.session.get(ACTING)
    found = _from_record(record, member) if member is not None and record else None
    request.set_session({k: v for k, v in request.session.items() if k != ACTING})
    return found


async def record_step(
    request: Request[Any, Any, Any], act: Acting, action: str, **details: Any
) -> None:
    """One thing the agent did for the citizen, in the audit log under the citizen's id (a
    designer's preview is no one's: nothing to record)."""
    if act.preview:
        return
    audit: AuditLog = request.app.state.audit
    await audit.record(
        action,
        actor=act.member.actor,
        subject=act.citizen,
        agent_name=act.member.name,
        consent=act.consent,
        **details,
    )
