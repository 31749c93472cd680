"""/staff/office: an office that has only a mailbox sees the applications sent to it and records
what happens to each (received, more information needed, approved, rejected). Plain pages and
POST forms (no script needed); every step is audited; another office's application is not found.
"""

from __future__ import annotations

from math import ceil
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from portal.applications.delivery import readable
from portal.applications.models import Application, DepartmentRequest, Document, TimelineEvent
from portal.applications.statuses import label
from portal.applications.timeline import department_name, department_note
from portal.audit import AuditLog
from portal.catalogue import catalogue_of
from portal.catalogue.models import Service
from portal.database.engine import READ_ONLY
from portal.forms import engine
from portal.i18n import current_locale
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.offices.service import (
    NOTE_LIMIT,
    PAGE_SIZE,
    STEPS,
    documents_of,
    history,
    offices_of,
    one_sent,
    sent_to,
    steps_open,
    take_step,
)
from portal.shared.backends import Backends
from portal.staff.service import StaffMember, require_role

# What the page says after a step (?done=...): known words only.
DONE: dict[str, Any] = {
    "received": _l("Recorded: received. The citizen sees that it is being reviewed."),
    "information": _l("Recorded: more information needed. The citizen has been asked."),
    "approved": _l("Recorded: approved. The citizen has been told."),
    "rejected": _l("Recorded: rejected. The citizen has been told why."),
}


@get("/", name="office_applications", opt=READ_ONLY)
async def office_applications(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    page: FromQuery[int] = 1,
) -> Template:
    catalogue = catalogue_of(request)
    offices = offices_of(staff, catalogue)
    page = max(page, 1)
    listed, total = await sent_to(db, offices, page)
    context = {
        "staff": staff,
        "offices": [department_name(catalogue.departments, office) for office in offices],
        "listed": [
            {
                "request": dr,
                "application": application,
                "service": _service_title(request, application),
                "office": department_name(catalogue.departments, dr.department),
                "status": label(dr.status, "staff"),
                "applicant": str(application.answers.get("contact_name") or "-"),
            }
            for dr, application in listed
        ],
        "total": total,
        "page": page,
        "pages": max(ceil(total / PAGE_SIZE), 1),
    }
    return Template("offices/list.html", context=context)


def _service_title(request: Request[Any, Any, Any], application: Application) -> str:
    service = catalogue_of(request).version(application.service_id, application.service_version)
    return _(service.title) if service else application.service_id


async def _found(
    request: Request[Any, Any, Any], staff: StaffMember, db: AsyncSession, public_id: str
) -> tuple[DepartmentRequest, Application]:
    found = await one_sent(db, offices_of(staff, catalogue_of(request)), public_id)
    if found is None:
        raise NotFoundException()
    return found


def _answers(
    request: Request[Any, Any, Any], dr: DepartmentRequest, application: Application
) -> tuple[Service | None, dict[str, Any]]:
    """The service the citizen answered and the part of the answers this office was sent."""
    service = catalogue_of(request).version(application.service_id, application.service_version)
    delivery = next(
        (d for d in (service.deliver_to if service else ()) if d.department == dr.department),
        None,
    )
    if service is None or delivery is None:
        return service, {}
    return service, engine.answers_for(service, delivery, application.answers)


async def _documents(
    db: AsyncSession, dr: DepartmentRequest, answers: dict[str, Any], events: list[TimelineEvent]
) -> list[Document]:
    in_answers = [str(item["document"]) for item in engine.documents_in(answers)]
    return await documents_of(db, events, in_answers)


async def _page(
    request: Request[Any, Any, Any],
    staff: StaffMember,
    db: AsyncSession,
    dr: DepartmentRequest,
    application: Application,
    *,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    catalogue = catalogue_of(request)
    service, answers = _answers(request, dr, application)
    reader = current_locale()
    rows = readable(service, answers)(reader) if service else []
    events = await history(db, dr)
    contact = application.answers
    context = {
        "staff": staff,
        "dr": dr,
        "application": application,
        "service_title": _service_title(request, application),
        "office": department_name(catalogue.departments, dr.department),
        "status": label(dr.status, "staff"),
        "applicant": {
            "name": str(contact.get("contact_name") or "-"),
            "email": contact.get("contact_email"),
            "phone": contact.get("contact_phone"),
        },
        "rows": rows,
        "documents": await _documents(db, dr, answers, events),
        "history": [
            {
                "title": label(event.status, "staff"),
                "at": event.occurred_at,
                "note": department_note(event, reader),
                "citizen": event.external_id is None,
            }
            for event in reversed(events)
        ],
        "steps": [(name, STEPS[name]) for name in steps_open(dr)],
        "note_limit": NOTE_LIMIT,
        "notice": notice,
        "errors": errors or {},
        "typed": typed or {},
    }
    return Template("offices/show.html", context=context, status_code=status_code)


@get("/{request_id:str}", name="office_application", opt=READ_ONLY)
async def office_application(
    request: Request[Any, Any, Any],
    request_id: FromPath[str],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    done: FromQuery[str] = "",
) -> Template:
    dr, application = await _found(request, staff, db, request_id)
    notice = str(DONE[done]) if done in DONE else None
    return await _page(request, staff, db, dr, application, notice=notice)


@post("/{request_id:str}/steps/{step:str}", name="office_step")
async def office_step(
    request: Request[Any, Any, Any],
    request_id: FromPath[str],
    step: FromPath[str],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    audit: NamedDependency[AuditLog],
) -> Response[Any]:
    if step not in STEPS:
        raise NotFoundException()
    dr, application = await _found(request, staff, db, request_id)
    form = await request.form()
    note = str(form.get("note") or "").strip()
    field = f"note-{step}"
    errors = {}
    if STEPS[step].needs_note and not note:
        errors[field] = _("Enter a note for the citizen")
    elif len(note) > NOTE_LIMIT:
        errors[field] = _("The note must be %(limit)s characters or fewer", limit=NOTE_LIMIT)
    if errors:
        return await _page(
            request, staff, db, dr, application, errors=errors, typed={step: note}, status_code=400
        )
    before = dr.status
    config = catalogue_of(request).departments[dr.department].config
    taken = await take_step(
        db, catalogue_of(request), dr, step, note, str(config.get("language") or "en")
    )
    if not taken:  # already recorded, or the office had finished: show where it is now
        await db.refresh(dr)
        problem = _("That step cannot be recorded now. The page shows where the application is.")
        return await _page(
            request, staff, db, dr, application, errors={"steps": problem}, status_code=409
        )
    await audit.record(
        f"office_{step}",
        actor=staff.actor,
        subject=f"application:{application.reference}",
        department=dr.department,
        request=dr.public_id,
        name=staff.name,
        before=before,
        after=dr.status,
        note=note,
    )
    return Redirect(f"/staff/office/{dr.public_id}?done={step}", status_code=303)


@get("/{request_id:str}/documents/{document_id:str}", name="office_document", opt=READ_ONLY)
async def office_document(
    request: Request[Any, Any, Any],
    request_id: FromPath[str],
    document_id: FromPath[str],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    backends: NamedDependency[Backends],
) -> Response[bytes]:
    """A document sent to the office: only one of this application's, only to its office."""
    dr, application = await _found(request, staff, db, request_id)
    _service, answers = _answers(request, dr, application)
    documents = await _documents(db, dr, answers, await history(db, dr))
    document = next((d for d in documents if d.public_id == document_id), None)
    if document is None:
        raise NotFoundException()
    content, _type = await backends.documents.download(document.stored_id)
    return Response(
        content,
        media_type=document.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(document.filename)}",
            "Cache-Control": "no-store",
        },
    )


offices = Router(
    path="/staff/office",
    route_handlers=[office_applications, office_application, office_step, office_document],
    dependencies={"staff": Provide(require_role("office"))},
    include_in_schema=False,
)
