"""Preview: a designer walks a version not yet live exactly as a citizen would, on the citizens'
own journey pages, in any language, under a "Preview" banner; sending shows what each department
would receive instead of sending anything.

The designer acts for a preview account of their own (like an agent acting for a citizen,
portal.shared.acting), created on demand: no name, no contact details, so no search finds it
and no message reaches anyone. Its drafts are pinned to the previewed version, and sending one
is refused wherever a draft can be sent (portal.applications.submit)."""

from __future__ import annotations

import json
import time
from typing import Any

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.catalogue import catalogue_of
from portal.catalogue.models import Service
from portal.design import store
from portal.forms import engine
from portal.forms.models import Draft
from portal.forms.summary import summary_rows
from portal.identity.models import PREVIEW_ISSUER, Citizen
from portal.shared.acting import PREVIEW
from portal.staff.service import StaffMember
from portal.web.ids import RowId

ISSUER = PREVIEW_ISSUER


def is_preview(citizen: Citizen) -> bool:
    return citizen.issuer == ISSUER


async def _preview_account(db: AsyncSession, staff: StaffMember) -> Citizen:
    found = await db.scalar(
        select(Citizen).where(Citizen.issuer == ISSUER, Citizen.subject == staff.subject)
    )
    if found is None:
        found = Citizen(issuer=ISSUER, subject=staff.subject, name="")
        db.add(found)
        await db.flush()
    return found


@post("/{service_id:str}/versions/{number:int}/preview", name="design_preview")
async def start_preview(
    request: Request[Any, Any, Any],
    service_id: FromPath[str],
    number: RowId,
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffMember],
) -> Redirect:
    """A fresh walk through the version, from its first page."""
    if await store.version(db, service_id, number) is None:
        raise NotFoundException()
    service = catalogue_of(request).version(service_id, number)
    if service is None:  # it does not parse yet: the editor lists why
        return Redirect(f"/staff/services/{service_id}/versions/{number}", status_code=303)
    account = await _preview_account(db, staff)
    await db.execute(delete(Draft).where(Draft.citizen_id == account.id))
    draft = Draft(citizen_id=account.id, service_id=service_id, service_version=number, answers={})
    db.add(draft)
    await db.commit()
    record = {"id": account.id, "citizen": account.public_id, "at": time.time()}
    request.set_session({**request.session, PREVIEW: {**record, "service": service_id}})
    first = engine.step_after(service, {}, "")
    return Redirect(f"/drafts/{draft.public_id}/{first}", status_code=303)


@post("/preview/end", name="design_preview_end")
async def end_preview(
    request: Request[Any, Any, Any], staff: NamedDependency[StaffMember]
) -> Redirect:
    shown = request.session.get(PREVIEW) or {}
    request.set_session({k: v for k, v in request.session.items() if k != PREVIEW})
    draft_service = shown.get("service")
    target = f"/staff/services/{draft_service}" if draft_service else "/staff/services"
    return Redirect(target, status_code=303)


def would_send(request: Request[Any, Any, Any], service: Service, draft: Draft) -> Template:
    """What each department would receive from these answers, as JSON and as people read it."""
    catalogue = catalogue_of(request)
    steps = engine.visible_steps(service, draft.answers)
    parts = []
    for delivery in engine.deliveries(service, draft.answers):
        answers = engine.answers_for(service, delivery, draft.answers)
        rows = [
            row
            for step in steps
            if not step.repeat
            for row in summary_rows(step, answers)
            if any(field.id in answers for field in step.fields)
        ]
        department = catalogue.departments.get(delivery.department)
        parts.append(
            {
                "id": delivery.department,
                "name": department.name if department else delivery.department,
                "contract": department.contract if department else "",
                "json": json.dumps(answers, indent=2, ensure_ascii=False, sort_keys=True),
                "rows": rows,
            }
        )
    context = {"service": service, "draft": draft, "parts": parts}
    return Template("design/would_send.html", context=context)
