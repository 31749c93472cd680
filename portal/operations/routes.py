"""/staff/backends: administrators see each backend's outbox queue and retry, park or cancel a
message. Plain pages and POST forms (no script needed); every action is audited."""

from __future__ import annotations

from datetime import UTC, datetime
from math import ceil
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from portal.applications.timeline import department_name
from portal.audit import AuditLog
from portal.catalogue import catalogue_of
from portal.database.engine import aware
from portal.i18n import lazy_gettext as _l
from portal.operations.service import (
    ACTIONS,
    BACKEND_NAMES,
    PAGE_SIZE,
    Refused,
    backend_counts,
    take_action,
    waiting_messages,
)
from portal.staff.service import StaffMember, require_role

# What a redirect tells the operator (?done=...&message=...): known words only.
NOTICES: dict[str, Any] = {
    "retry": _l("Message %(id)s will be sent again now."),
    "park": _l("Message %(id)s is parked. It will not be sent until someone retries it."),
    "cancel": _l("Message %(id)s is cancelled. It will never be sent."),
}


def backend_name(request: Request[Any, Any, Any], target: str) -> str:
    """A department's name from the catalogue, else the name of one of our other backends."""
    departments = catalogue_of(request).departments
    if target in departments:
        return department_name(departments, target)
    return str(BACKEND_NAMES.get(target, target))


@get("/", name="staff_backends")
async def backends(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
) -> Template:
    now = datetime.now(UTC)
    rows = await backend_counts(db, now, tuple(catalogue_of(request).departments))
    named = sorted(
        ((backend_name(request, row.target), row) for row in rows),
        key=lambda pair: pair[0].casefold(),
    )
    context = {"staff": staff, "rows": named, "now": now}
    return Template("staff/backends.html", context=context)


async def _backend_page(
    request: Request[Any, Any, Any],
    staff: StaffMember,
    db: AsyncSession,
    target: str,
    page: int,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    page = max(page, 1)
    listed, total = await waiting_messages(db, target, page)
    context = {
        "staff": staff,
        "target": target,
        "backend_title": backend_name(request, target),
        "listed": listed,
        "total": total,
        "page": page,
        "pages": max(ceil(total / PAGE_SIZE), 1),
        "now": datetime.now(UTC),
        "aware": aware,
        "notice": notice,
        "error": error,
    }
    return Template("staff/backend.html", context=context, status_code=status_code)


@get("/{target:str}", name="staff_backend")
async def backend(
    request: Request[Any, Any, Any],
    target: FromPath[str],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    page: FromQuery[int] = 1,
    done: FromQuery[str] = "",
    message: FromQuery[int] = 0,
) -> Template:
    notice = str(NOTICES[done]) % {"id": message} if done in NOTICES and message else None
    return await _backend_page(request, staff, db, target, page, notice)


@post("/{target:str}/messages/{message_id:int}/{action:str}", name="staff_backend_action")
async def act(
    request: Request[Any, Any, Any],
    target: FromPath[str],
    message_id: FromPath[int],
    action: FromPath[str],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    audit: NamedDependency[AuditLog],
) -> Response[Any]:
    if action not in ACTIONS:
        raise NotFoundException()
    operator = f"{staff.name} ({staff.actor})" if staff.name else staff.actor
    outcome = await take_action(db, message_id, action, operator, datetime.now(UTC))
    if outcome is None:
        raise NotFoundException()
    if isinstance(outcome, Refused):
        return await _backend_page(
            request, staff, db, target, 1, error=outcome.text, status_code=409
        )
    await audit.record(
        f"outbox_{action}",
        actor=staff.actor,
        subject=f"outbox:{message_id}",
        target=outcome.target,
        kind=outcome.kind,
        name=staff.name,
        before=outcome.before,
        after=outcome.after,
    )
    back = f"/staff/backends/{quote(outcome.target, safe='')}"
    return Redirect(f"{back}?done={action}&message={message_id}", status_code=303)


operations = Router(
    path="/staff/backends",
    route_handlers=[backends, backend, act],
    dependencies={"staff": Provide(require_role("admin"))},
    include_in_schema=False,
)
