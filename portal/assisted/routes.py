"""Finding a citizen and their summary (agents), and who looked at whom (administrators).

The search is a POST: what an agent types (a phone number, an email) stays out of URLs and
access logs, and the audit log keeps who was found, not what was typed.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.applications.statuses import label
from portal.applications.timeline import timeline
from portal.assisted.service import (
    PAGE_SIZE,
    current_purpose,
    keep_purpose,
    read_purpose,
    read_query,
    search,
    summary,
)
from portal.audit import AuditLog
from portal.audit.models import AuditEvent
from portal.catalogue import catalogue_of
from portal.i18n import gettext as _
from portal.identity.models import Citizen
from portal.settings import Settings
from portal.staff.service import StaffMember, require_role

MOST_PAGES = 20
ACCESS_ACTIONS = ("citizen_search", "citizen_viewed", "conversation_viewed")
ACCESS_SHOWN = 50


def _search_page(
    request: Request[Any, Any, Any],
    staff: StaffMember,
    *,
    purpose: str = "",
    typed: str = "",
    errors: dict[str, str] | None = None,
    found: list[Citizen] | None = None,
    page: int = 1,
    more: bool = False,
) -> Template:
    context = {
        "staff": staff,
        "purpose": purpose or current_purpose(request) or "",
        "typed": typed,
        "errors": errors or {},
        "found": found,
        "page": page,
        "more": more,
        "page_size": PAGE_SIZE,
    }
    return Template("assisted/search.html", context=context, status_code=400 if errors else 200)


@get("/", name="assisted_search")
async def search_form(
    request: Request[Any, Any, Any], staff: NamedDependency[StaffMember]
) -> Template:
    return _search_page(request, staff)


@post("/", name="assisted_find")
async def find(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
) -> Template:
    """One page of citizens matching what was typed, for the purpose stated (audited)."""
    form = await request.form()
    purpose, purpose_error = read_purpose(str(form.get("purpose") or ""))
    typed = " ".join(str(form.get("query") or "").split())[:200]
    query = read_query(typed, settings.phone_region)
    errors = {}
    if purpose_error:
        errors["purpose"] = purpose_error
    if query is None:
        errors["query"] = _(
            "Enter a phone number, an email address, a name or an application reference"
        )
    if errors or query is None:
        return _search_page(request, staff, purpose=purpose, typed=typed, errors=errors)
    try:
        page = min(max(int(str(form.get("page") or "1")), 1), MOST_PAGES)
    except ValueError:
        page = 1
    keep_purpose(request, purpose)
    found, more = await search(db, query, page)
    audit: AuditLog = request.app.state.audit
    await audit.record(
        "citizen_search",
        actor=staff.actor,
        purpose=purpose,
        by=query.kind,
        page=page,
        found=[citizen.public_id for citizen in found],
    )
    return _search_page(
        request,
        staff,
        purpose=purpose,
        typed=typed,
        found=found,
        page=page,
        more=more and page < MOST_PAGES,
    )


@get("/{public_id:str}", name="assisted_citizen")
async def citizen_summary(
    request: Request[Any, Any, Any],
    public_id: FromPath[str],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
) -> Response[Any]:
    """Everything the front door holds for the citizen, only with a purpose stated (audited)."""
    purpose = current_purpose(request)
    if purpose is None:
        return _search_page(
            request,
            staff,
            errors={"purpose": _("State the purpose before you look at a citizen's details")},
        )
    citizen = await db.scalar(select(Citizen).where(Citizen.public_id == public_id))
    if citizen is None:
        raise NotFoundException()
    audit: AuditLog = request.app.state.audit
    await audit.record("citizen_viewed", actor=staff.actor, subject=public_id, purpose=purpose)
    held = await summary(db, citizen)
    departments = catalogue_of(request).departments
    context = {
        "staff": staff,
        "purpose": purpose,
        "summary": held,
        "services": catalogue_of(request).services,
        "timelines": {a: timeline(events, departments) for a, events in held.events.items()},
        "label": label,
    }
    return Template("assisted/citizen.html", context=context)


@get("/", name="staff_access")
async def access_log(
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    citizen: FromQuery[str] = "",
    member: FromQuery[str] = "",
    before: FromQuery[int] = 0,
) -> Template:
    """Who looked at whom: staff searches and looks at citizens, newest first, by citizen or
    by staff member."""
    query = select(AuditEvent).where(AuditEvent.action.in_(ACCESS_ACTIONS))
    if citizen:
        query = query.where(AuditEvent.subject == citizen)
    if member:
        query = query.where(AuditEvent.actor == member)
    if before:
        query = query.where(AuditEvent.id < before)
    events = list(await db.scalars(query.order_by(AuditEvent.id.desc()).limit(ACCESS_SHOWN + 1)))
    named = {event.subject for event in events if event.action == "citizen_viewed"}
    for event in events:
        if event.action == "citizen_search":
            named.update(event.details.get("found") or [])
    names = {
        public_id: name
        for public_id, name in await db.execute(
            select(Citizen.public_id, Citizen.name).where(Citizen.public_id.in_(named))
        )
    }
    context = {
        "staff": staff,
        "events": events[:ACCESS_SHOWN],
        "more": len(events) > ACCESS_SHOWN,
        "names": names,
        "citizen": citizen,
        "member": member,
    }
    return Template("assisted/access.html", context=context)


assisted = Router(
    path="/staff/citizens",
    route_handlers=[search_form, find, citizen_summary],
    dependencies={"staff": Provide(require_role("agent"))},
    include_in_schema=False,
)

access = Router(
    path="/staff/access",
    route_handlers=[access_log],
    dependencies={"staff": Provide(require_role("admin"))},
    include_in_schema=False,
)
