"""Finding a citizen, their summary and acting for them with consent (agents); who looked at
whom (administrators); and the citizen's own view of what staff did with their details.

The search is a POST: what an agent types (a phone number, an email) stays out of URLs and
access logs, and the audit log keeps who was found, not what was typed.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.applications.models import Application
from portal.applications.states import events_of, fees_due, requests_of, summarised
from portal.applications.statuses import label
from portal.applications.timeline import department_name, timeline
from portal.applications.trouble import troubled
from portal.assisted.found import FoundCitizen, PurposeRequired, found_citizen, search_first
from portal.assisted.models import Consent
from portal.assisted.service import (
    MOST_MATCHES,
    MOST_PAGES,
    SHOWN,
    application_of,
    example_phone,
    keep_purpose,
    read_purpose,
    read_query,
    search,
    summary,
)
from portal.audit import AuditLog
from portal.audit.models import AuditEvent
from portal.catalogue import catalogue_of
from portal.database.engine import utcnow
from portal.forms.models import Draft
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.identity.models import Citizen
from portal.identity.service import require_citizen
from portal.settings import Settings
from portal.shared.acting import acting, current_purpose, record_step, start_acting, stop_acting
from portal.staff.service import StaffMember, require_role
from portal.web.ids import RowCursor

ACCESS_ACTIONS = ("citizen_search", "citizen_viewed", "conversation_viewed")
ACCESS_SHOWN = 50


def _search_page(
    request: Request[Any, Any, Any],
    staff: StaffMember,
    settings: Settings,
    *,
    purpose: str = "",
    typed: str = "",
    errors: dict[str, str] | None = None,
    found: list[Citizen] | None = None,
    page: int = 1,
    more: bool = False,
    too_many: bool = False,
    status: int | None = None,
) -> Template:
    context = {
        "staff": staff,
        "example_phone": example_phone(settings.phone_region),
        "purpose": purpose or current_purpose(request) or "",
        "typed": typed,
        "errors": errors or {},
        "found": found,
        "page": page,
        "more": more,
        "too_many": too_many,
        "most_matches": MOST_MATCHES,
    }
    if status is None:
        status = 400 if errors else 200
    return Template("assisted/search.html", context=context, status_code=status)


@get("/", name="assisted_search")
async def search_form(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffMember],
    settings: NamedDependency[Settings],
    first: FromQuery[str] = "",
) -> Template:
    """The search; `?first=purpose` when the agent was sent here from a citizen's page."""
    if first == "purpose":
        message = _("State the purpose and find the citizen before you look at their details")
        return _search_page(request, staff, settings, errors={"purpose": message}, status=200)
    return _search_page(request, staff, settings)


@post("/", name="assisted_find")
async def find(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
    audit: NamedDependency[AuditLog],
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
        return _search_page(request, staff, settings, purpose=purpose, typed=typed, errors=errors)
    try:
        page = min(max(int(str(form.get("page") or "1")), 1), MOST_PAGES)
    except ValueError:
        page = 1
    results = await search(db, query, page)
    found, more = results or ([], False)
    keep_purpose(request, purpose, [citizen.public_id for citizen in found])
    await audit.record(
        "citizen_search",
        actor=staff.actor,
        purpose=purpose,
        by=query.kind,
        page=page,
        found=[citizen.public_id for citizen in found],
        too_many=results is None,
    )
    return _search_page(
        request,
        staff,
        settings,
        purpose=purpose,
        typed=typed,
        found=found,
        page=page,
        more=more,
        too_many=results is None,
    )


@get("/{public_id:str}", name="assisted_citizen")
async def citizen_summary(
    request: Request[Any, Any, Any],
    found: NamedDependency[FoundCitizen],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    link: FromQuery[str] = "",
) -> Response[Any]:
    """Everything the front door holds for the citizen (found under a purpose, audited)."""
    purpose, citizen = found.purpose, found.citizen
    held = await summary(db, citizen)
    context = {
        "staff": staff,
        "purpose": purpose,
        "summary": held,
        "shown": SHOWN,
        "services": catalogue_of(request).services,
        "link_notice": LINK_NOTICES.get(link),
        "states": STATES,
    }
    return Template("assisted/citizen.html", context=context)


@get("/{public_id:str}/applications/{reference:str}", name="assisted_application")
async def citizen_application(
    request: Request[Any, Any, Any],
    found: NamedDependency[FoundCitizen],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    reference: FromPath[str],
    link: FromQuery[str] = "",
) -> Template:
    """One of the citizen's applications, with where it is with each department (and any we are
    having trouble reaching, as the citizen is told) and its whole timeline, worded for staff
    (found under a purpose, audited like the summary); another's is not found."""
    citizen = found.citizen
    application = await application_of(db, citizen, reference)
    catalogue = catalogue_of(request)
    requests = await requests_of(db, [application.id])
    events = await events_of(db, application.id)
    context = {
        "staff": staff,
        "purpose": found.purpose,
        "citizen": citizen,
        "application": application,
        "service": catalogue.version(application.service_id, application.service_version),
        "state": summarised([application], requests)[0],
        "requests": requests,
        "names": {
            r.department: department_name(catalogue.departments, r.department) for r in requests
        },
        "label": partial(label, audience="staff"),  # a department's state, for staff
        "trouble": await troubled(db, requests),
        "fees": fees_due(requests, events),
        "timeline": timeline(events, catalogue.departments, "staff"),
        "link_notice": LINK_NOTICES.get(link),
    }
    return Template("assisted/application.html", context=context)


# What a redirect after sending a link tells the agent (?link=...): known words only.
LINK_NOTICES = {
    "sent": _l("The link is sent. It works for 3 days, after the citizen signs in."),
    "refused": _l(
        "No link was sent: the citizen has no such number or email, or nothing to continue."
    ),
    "limit": _l(
        "No link was sent: this citizen was sent 5 links in the last hour. Try again later."
    ),
    "failed": _l("No link was sent: the messaging service did not answer. Try again in a minute."),
}

# Payment and message states in staff words (the summary), never the raw codes.
STATES = {
    "creating": _l("Starting"),
    "created": _l("Started"),
    "started": _l("Citizen paying"),
    "submitted": _l("Being confirmed"),
    "success": _l("Paid"),
    "failed": _l("Failed"),
    "cancelled": _l("Cancelled"),
    "expired": _l("Expired"),
    "queued": _l("Waiting to be sent"),
    "sent": _l("Sent"),
}

HOW_GIVEN = {
    "phone": _l("On this phone call"),
    "in_person": _l("In person, at a service desk"),
    "writing": _l("In writing, signed by the citizen"),
}


def _consent_page(
    staff: StaffMember,
    citizen: Citizen,
    errors: dict[str, str] | None = None,
    how: str = "",
    reason: str = "",
) -> Template:
    errors = errors or {}
    anchors = {"how": f"how-{next(iter(HOW_GIVEN))}", "reason": "reason"}
    context = {
        "staff": staff,
        "citizen": citizen,
        "how_given": HOW_GIVEN,
        "errors": errors,
        "summary_errors": {anchors[field]: text for field, text in errors.items()},
        "how": how,
        "reason": reason,
    }
    return Template("assisted/consent.html", context=context, status_code=400 if errors else 200)


@get("/{public_id:str}/act", name="assisted_act")
async def act_page(
    request: Request[Any, Any, Any],
    found: NamedDependency[FoundCitizen],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    sent: FromQuery[str] = "",
    link: FromQuery[str] = "",
) -> Template:
    """Acting for the citizen: their consent first; then the services to start for them and
    what they have started, and what was just sent."""
    citizen = found.citizen
    act = acting(request)
    if act is None or act.citizen_id != citizen.id:
        return _consent_page(staff, citizen)
    drafts = (
        await db.scalars(
            select(Draft)
            .where(Draft.citizen_id == citizen.id, Draft.submitted_at.is_(None))
            .order_by(Draft.updated_at.desc())
        )
    ).all()
    services = catalogue_of(request).services
    sent_reference = await db.scalar(
        select(Application.reference).where(
            Application.reference == sent, Application.citizen_id == citizen.id
        )
    )
    context = {
        "staff": staff,
        "citizen": citizen,
        "services": services,
        "drafts": [draft for draft in drafts if draft.service_id in services],
        "sent": sent_reference,
        "link_notice": LINK_NOTICES.get(link),
    }
    return Template("assisted/acting.html", context=context)


@post("/{public_id:str}/act", name="assisted_consent")
async def record_consent(
    request: Request[Any, Any, Any],
    found: NamedDependency[FoundCitizen],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
) -> Response[Any]:
    """Record how the citizen agreed and why, then act for them in this session."""
    citizen = found.citizen
    form = await request.form()
    how = str(form.get("how") or "")
    reason = " ".join(str(form.get("reason") or "").split())
    errors = {}
    if how not in HOW_GIVEN:
        errors["how"] = _("Select how the citizen gave their consent")
    if len(reason) < 3:
        errors["reason"] = _("Enter what the citizen asked you to do for them")
    elif len(reason) > 500:
        errors["reason"] = _("The reason must be 500 characters or fewer")
    if errors:
        return _consent_page(staff, citizen, errors, how, reason)
    if (before := stop_acting(request)) is not None:
        await _end_consent(db, before.consent)
    consent = Consent(
        citizen_id=citizen.id, agent=staff.actor, agent_name=staff.name, how=how, reason=reason
    )
    db.add(consent)
    await db.commit()
    start_acting(request, citizen, consent.public_id)
    act = acting(request)
    assert act is not None
    await record_step(request, act, "assisted_started", how=how, reason=reason)
    return Redirect(f"/staff/citizens/{citizen.public_id}/act", status_code=303)


async def _end_consent(db: AsyncSession, public_id: str) -> None:
    consent = await db.scalar(select(Consent).where(Consent.public_id == public_id))
    if consent is not None and consent.ended_at is None:
        consent.ended_at = utcnow()
        await db.commit()


@post("/act/end", name="assisted_end")
async def end_acting(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
) -> Redirect:
    """Stop acting for the citizen (their journeys are theirs alone again)."""
    act = stop_acting(request)
    if act is None:
        return Redirect("/staff/citizens", status_code=303)
    await _end_consent(db, act.consent)
    await record_step(request, act, "assisted_ended")
    return Redirect(f"/staff/citizens/{act.citizen}", status_code=303)


@get("/account/activity", name="your_activity")
async def your_activity(
    citizen: NamedDependency[Citizen], db: NamedDependency[AsyncSession]
) -> Template:
    """What staff did with the citizen's details: who looked, who acted for them, when, why."""
    events = list(
        await db.scalars(
            select(AuditEvent)
            .where(AuditEvent.subject == citizen.public_id)
            .order_by(AuditEvent.id.desc())
            .limit(ACCESS_SHOWN)
        )
    )
    return Template("assisted/activity.html", context={"citizen": citizen, "events": events})


@get("/", name="staff_access")
async def access_log(
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    citizen: FromQuery[str] = "",
    member: FromQuery[str] = "",
    before: RowCursor = 0,
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
    route_handlers=[
        search_form,
        find,
        citizen_summary,
        citizen_application,
        act_page,
        record_consent,
        end_acting,
    ],
    dependencies={"staff": Provide(require_role("agent")), "found": Provide(found_citizen)},
    exception_handlers={PurposeRequired: search_first},
    include_in_schema=False,
)

access = Router(
    path="/staff/access",
    route_handlers=[access_log],
    dependencies={"staff": Provide(require_role("admin"))},
    include_in_schema=False,
)

activity = Router(
    path="/",
    route_handlers=[your_activity],
    dependencies={"citizen": Provide(require_citizen)},
    include_in_schema=False,
)
