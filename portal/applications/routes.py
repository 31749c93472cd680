"""My applications, one application's page with its single timeline, the confirmation, and the
citizen's answer when a department asks for more information.

Every route finds applications by reference *and* the signed-in citizen: someone else's
reference is simply not found.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend_clients.http import BackendError
from portal.applications.documents import keep_document
from portal.applications.models import Application, DepartmentRequest, TimelineEvent
from portal.applications.states import events_of, fees_due, requests_of, summarised
from portal.applications.statuses import label
from portal.applications.timeline import Note, department_name, department_note, timeline
from portal.applications.trouble import troubled
from portal.audit import AuditLog
from portal.catalogue import catalogue_of
from portal.catalogue.models import FieldDef
from portal.database.engine import READ_ONLY
from portal.forms.engine import documents_in
from portal.forms.fields import check_upload, clean_filename
from portal.forms.models import Draft
from portal.i18n import current_locale
from portal.i18n import gettext as _
from portal.identity.models import Citizen
from portal.identity.service import citizen_and_own, require_citizen
from portal.outbox import enqueue
from portal.shared.backends import backends_of

INFORMATION_LIMIT = 2000
_ATTACHMENT = FieldDef(id="attachment", type="file", label="attachment", required=False)


# The fees paid for an application, for its page. Payments sit above applications, so they
# give this through the `paid_fees` dependency (portal/app.py) instead of being imported here.
PaidFees = Callable[[AsyncSession, int], Awaitable[Sequence[Any]]]


async def owned_application(
    request: Request[Any, Any, Any], db: AsyncSession, reference: str
) -> tuple[Citizen, Application]:
    """The signed-in citizen and their application, read in one query; someone else's
    reference is simply not found."""
    return await citizen_and_own(request, db, Application, Application.reference == reference)


@get("/applications", name="my_applications", opt=READ_ONLY)
async def my_applications(
    request: Request[Any, Any, Any],
    citizen: NamedDependency[Citizen],
    db: NamedDependency[AsyncSession],
) -> Template:
    """Everything the citizen has, from every channel: drafts to finish and applications."""
    drafts = (
        await db.scalars(
            select(Draft)
            .where(Draft.citizen_id == citizen.id, Draft.submitted_at.is_(None))
            .order_by(Draft.updated_at.desc())
        )
    ).all()
    applications = (
        await db.scalars(
            select(Application)
            .where(Application.citizen_id == citizen.id)
            .order_by(Application.submitted_at.desc())
        )
    ).all()
    summaries = summarised(
        list(applications), await requests_of(db, [application.id for application in applications])
    )
    catalogue = catalogue_of(request)
    services = dict(catalogue.services)
    started = [(d.service_id, d.service_version) for d in drafts] + [
        (a.service_id, a.service_version) for a in applications
    ]
    for service_id, number in started:  # a retired service's go on with their version
        pinned = catalogue.version(service_id, number)
        if pinned is not None:
            services.setdefault(service_id, pinned)
    context = {
        "drafts": [d for d in drafts if d.service_id in services],
        "summaries": summaries,
        "services": services,
    }
    return Template("applications/list.html", context=context)


async def _page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    paid_fees: PaidFees,
    application: Application,
    errors: dict[str, str] | None = None,
    typed: str = "",
    answering: str | None = None,
) -> Template:
    catalogue = catalogue_of(request)
    requests = await requests_of(db, [application.id])
    events = await events_of(db, application.id)
    asking = [r for r in requests if r.status == "information_requested"]
    paid = await paid_fees(db, application.id)
    reader = current_locale()
    questions = {
        r.department: next(
            (
                department_note(e, reader)
                for e in events
                if e.department == r.department and e.status == r.status
            ),
            Note(""),
        )
        for r in asking
    }
    context = {
        "application": application,
        "service": catalogue.version(application.service_id, application.service_version),
        "requests": requests,
        "timeline": timeline(events, catalogue.departments),
        "names": {
            r.department: department_name(catalogue.departments, r.department) for r in requests
        },
        "asking": asking,
        "trouble": await troubled(db, requests),
        "fees": fees_due(requests, events),
        "paid": paid,
        "documents": documents_in(application.answers),  # every file sent, several per question too
        "questions": questions,
        "label": label,
        "state": summarised([application], requests)[0],
        "errors": errors or {},
        "typed": typed,
        "answering": answering,
    }
    return Template("applications/show.html", context=context, status_code=400 if errors else 200)


@get("/applications/{reference:str}", name="application", opt=READ_ONLY)
async def show_application(
    request: Request[Any, Any, Any],
    reference: FromPath[str],
    db: NamedDependency[AsyncSession],
    paid_fees: NamedDependency[PaidFees],
) -> Template:
    _citizen, application = await owned_application(request, db, reference)
    return await _page(request, db, paid_fees, application)


@get("/applications/{reference:str}/confirmation", name="application_confirmation", opt=READ_ONLY)
async def confirmation(
    request: Request[Any, Any, Any],
    reference: FromPath[str],
    db: NamedDependency[AsyncSession],
) -> Template:
    citizen, application = await owned_application(request, db, reference)
    requests = await requests_of(db, [application.id])
    context = {
        "application": application,
        "service": catalogue_of(request).version(
            application.service_id, application.service_version
        ),
        "departments": [catalogue_of(request).departments[r.department] for r in requests],
        "citizen": citizen,
    }
    return Template("applications/confirmation.html", context=context)


@post("/applications/{reference:str}/information/{department:str}", name="send_information")
async def send_information(
    request: Request[Any, Any, Any],
    reference: FromPath[str],
    department: FromPath[str],
    db: NamedDependency[AsyncSession],
    paid_fees: NamedDependency[PaidFees],
    audit: NamedDependency[AuditLog],
) -> Response[Any]:
    """The citizen answers a department's question (text, and a document if they have one)."""
    citizen, application = await owned_application(request, db, reference)
    department_request = await db.scalar(
        select(DepartmentRequest).where(
            DepartmentRequest.application_id == application.id,
            DepartmentRequest.department == department,
        )
    )
    if department_request is None:
        raise NotFoundException()
    if department_request.status != "information_requested":
        return Redirect(f"/applications/{reference}", status_code=303)
    form = await request.form()
    text_id, file_id = f"information-{department}", f"attachment-{department}"
    text = str(form.get("information") or "").strip()
    upload = form.get("attachment")
    errors: dict[str, str] = {}
    if not text:
        errors[text_id] = _("Enter the information the department asked for")
    elif len(text) > INFORMATION_LIMIT:
        errors[text_id] = _(
            "The information must be %(limit)s characters or fewer", limit=INFORMATION_LIMIT
        )
    documents: list[str] = []
    if isinstance(upload, UploadFile) and upload.filename:
        content = await upload.read()
        filename = clean_filename(upload.filename)
        problem = check_upload(_ATTACHMENT, filename, content)
        if problem:
            errors[file_id] = problem
        elif not errors:
            try:
                document = await keep_document(
                    backends_of(request).documents, db, citizen.id, filename, content
                )
            except BackendError:
                errors[file_id] = _("The file could not be uploaded. Try again.")
            else:
                documents.append(document.public_id)
    if errors:
        return await _page(request, db, paid_fees, application, errors, text, department)
    # Only the first of two quick sends answers the question (a double click, two tabs).
    claimed = await db.execute(
        update(DepartmentRequest)
        .where(
            DepartmentRequest.id == department_request.id,
            DepartmentRequest.status == "information_requested",
        )
        .values(status="in_review")
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await db.rollback()
        return Redirect(f"/applications/{reference}", status_code=303)
    event = TimelineEvent(
        application_id=application.id,
        department=department,
        status="information_sent",
        note=text,
        data={"documents": documents},
    )
    db.add(event)
    await db.flush()
    enqueue(
        db,
        "information",
        key=f"information-{event.id}",
        target=department_request.department,
        request_id=department_request.id,
        text=text,
        documents=documents,
    )
    await db.commit()
    await audit.record(
        "information_sent",
        actor=f"citizen:{citizen.id}",
        subject=f"application:{reference}",
        department=department,
    )
    return Redirect(f"/applications/{reference}", status_code=303)


applications = Router(
    path="/",
    route_handlers=[my_applications, show_application, confirmation, send_information],
    dependencies={"citizen": Provide(require_citizen)},
    include_in_schema=False,
)
