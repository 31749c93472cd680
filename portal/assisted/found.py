"""The one check before an agent reaches a citizen: every staff route that names a citizen
(their summary, acting for them, recording consent, sending a link) takes its citizen from
`found_citizen`, so none works with the citizen's id alone.

An agent states a purpose, searches, and may then open only the citizens found under that
purpose while it is fresh; each time is recorded with the purpose, and the citizen sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from portal.assisted.service import citizen_named
from portal.audit import AuditLog
from portal.identity.models import Citizen
from portal.shared.acting import current_purpose
from portal.staff.service import StaffMember

# Where an agent without a purpose for the citizen is sent: the search, saying why.
SEARCH_FIRST = "/staff/citizens?first=purpose"


@dataclass(frozen=True)
class FoundCitizen:
    citizen: Citizen
    purpose: str  # the purpose the agent stated when they found the citizen


class PurposeRequired(HTTPException):
    """The agent has no live purpose under which this citizen was found."""

    status_code = 403


async def found_citizen(
    request: Request[Any, Any, Any],
    public_id: FromPath[str],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    audit: NamedDependency[AuditLog],
) -> FoundCitizen:
    """Dependency: the citizen the path names, found under the agent's live purpose (else
    PurposeRequired); the look is audited under the citizen, with the purpose and the page."""
    purpose = current_purpose(request, public_id)
    if purpose is None:
        raise PurposeRequired()
    citizen = await citizen_named(db, public_id)
    handler = request.scope.get("route_handler")
    # A page about one of the citizen's applications says which (it may not be theirs: the
    # look is recorded all the same, before the page answers "not found").
    reference = request.path_params.get("reference")
    await audit.record(
        "citizen_viewed",
        actor=staff.actor,
        subject=citizen.public_id,
        agent_name=staff.name,  # the citizen's own view says who looked
        purpose=purpose,
        page=handler.name if handler is not None else None,
        **({"reference": reference} if reference else {}),
    )
    return FoundCitizen(citizen, purpose)


def search_first(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Exception handler: back to the search, which asks for the purpose first."""
    return Redirect(SEARCH_FIRST, status_code=303)
