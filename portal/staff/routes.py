"""Staff sign-in (multi-factor required), the staff home and the administrators' audit view."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditLog, verify_chain
from portal.audit.models import AuditEvent
from portal.i18n import gettext as _
from portal.identity import oidc_flow
from portal.settings import Settings
from portal.staff.service import (
    ROLES,
    STAFF,
    StaffMember,
    current_staff,
    require_role,
    staff_sign_in,
    used_second_factor,
)
from portal.web.sessions import fresh_session
from portal.web.urls import safe_next

PENDING = "staff_oidc_pending"
RECENT = 50


def _callback(settings: Settings) -> str:
    return f"{settings.public_url}/staff/sign-in/callback"


def _sign_in_page(next_page: str, error: str | None = None, status: int = 200) -> Template:
    return Template(
        "staff/sign_in.html", context={"next": next_page, "error": error}, status_code=status
    )


@get("/sign-in", name="staff_sign_in")
async def staff_sign_in_page(next: FromQuery[str] = "/staff") -> Template:
    return _sign_in_page(safe_next(next))


@get("/sign-in/start", name="staff_sign_in_start")
async def start_staff_sign_in(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    next: FromQuery[str] = "/staff",
) -> Response[Any]:
    target = await oidc_flow.start(
        request, request.app.state.staff_oidc, _callback(settings), PENDING, safe_next(next)
    )
    if isinstance(target, oidc_flow.SignInFailed):
        return _sign_in_page(safe_next(next), target.message, target.status)
    return Redirect(target, status_code=303)


@get("/sign-in/callback", name="staff_sign_in_callback")
async def finish_staff_sign_in(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    audit: NamedDependency[AuditLog],
) -> Response[Any]:
    outcome = await oidc_flow.finish(
        request, request.app.state.staff_oidc, _callback(settings), PENDING, "staff"
    )
    if isinstance(outcome, oidc_flow.SignInFailed):
        return _sign_in_page("/staff", outcome.message, outcome.status)
    if not used_second_factor(outcome.claims, settings.staff_mfa_acr_values):
        subject = f"staff:{outcome.claims.get('sub')}"
        await audit.record(
            "sign_in_failed", actor=subject, subject=subject, reason="no second factor"
        )
        message = _(
            "Staff must sign in with a second factor, such as a code or a security key. "
            "Sign in again and use it."
        )
        return _sign_in_page("/staff", message, 403)
    if not ROLES.intersection(outcome.claims.get("roles") or []):
        subject = f"staff:{outcome.claims.get('sub')}"
        await audit.record("sign_in_failed", actor=subject, subject=subject, reason="no staff role")
        message = _(
            "Your staff account has no role in this service. Ask your manager to give you one."
        )
        return _sign_in_page("/staff", message, 403)
    await staff_sign_in(request, outcome.claims, outcome.id_token)
    return Redirect(outcome.next_page, status_code=303)


@get("/", name="staff_home")
async def staff_home(staff: NamedDependency[StaffMember]) -> Template:
    return Template("staff/home.html", context={"staff": staff})


@get("/audit", name="staff_audit", dependencies={"staff": Provide(require_role("admin"))})
async def audit_view(
    staff: NamedDependency[StaffMember], db: NamedDependency[AsyncSession]
) -> Template:
    events = list(await db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(RECENT)))
    report = await verify_chain(db)
    return Template(
        "staff/audit.html", context={"staff": staff, "events": events, "report": report}
    )


@post("/sign-out", name="staff_sign_out")
async def staff_sign_out(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    audit: NamedDependency[AuditLog],
) -> Response[Any]:
    member = current_staff(request)
    record = request.session.get(STAFF) or {}
    await fresh_session(request, {})
    actor = member.actor if member else "anonymous"
    await audit.record("staff_sign_out", actor=actor, subject=actor)
    return await oidc_flow.leave(
        request.app.state.staff_oidc, record.get("id_token"), settings.public_url
    )


staff = Router(
    path="/staff",
    route_handlers=[
        staff_sign_in_page,
        start_staff_sign_in,
        finish_staff_sign_in,
        staff_home,
        audit_view,
        staff_sign_out,
    ],
    dependencies={"staff": Provide(require_role())},
    include_in_schema=False,
)
