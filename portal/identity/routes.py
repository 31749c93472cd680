"""Sign in with the national identity service, the account page, and signing out."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend_clients.oidc import OIDCClient
from portal.audit import AuditLog
from portal.identity import oidc_flow
from portal.identity.code_routes import code_routes
from portal.identity.models import Citizen
from portal.identity.profile import profile_routes
from portal.identity.service import (
    PENDING,
    current_citizen,
    require_citizen,
    sign_in,
    sign_out,
)
from portal.settings import Settings
from portal.web.urls import safe_next


def _sign_in_page(next_page: str, error: str | None = None, status: int = 200) -> Template:
    return Template(
        "identity/sign_in.html", context={"next": next_page, "error": error}, status_code=status
    )


@get("/sign-in", name="sign_in")
async def sign_in_page(next: FromQuery[str] = "/account") -> Template:
    return _sign_in_page(safe_next(next))


@get("/sign-in/national", name="sign_in_national")
async def start_national_sign_in(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    citizen_oidc: NamedDependency[OIDCClient],
    next: FromQuery[str] = "/account",
) -> Response[Any]:
    """Send the browser to the identity provider."""
    target = await oidc_flow.start(
        request, citizen_oidc, _callback(settings), PENDING, safe_next(next)
    )
    if isinstance(target, oidc_flow.SignInFailed):
        return _sign_in_page(safe_next(next), target.message, target.status)
    return Redirect(target, status_code=303)


@get("/sign-in/callback", name="sign_in_callback")
async def finish_national_sign_in(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
    audit: NamedDependency[AuditLog],
    citizen_oidc: NamedDependency[OIDCClient],
) -> Response[Any]:
    """Check the provider's answer; on success, a new signed-in session."""
    outcome = await oidc_flow.finish(
        request, citizen_oidc, _callback(settings), PENDING, "anonymous"
    )
    if isinstance(outcome, oidc_flow.SignInFailed):
        return _sign_in_page("/account", outcome.message, outcome.status)
    await sign_in(request, db, audit, outcome.claims, outcome.id_token)
    return Redirect(outcome.next_page, status_code=303)


def _callback(settings: Settings) -> str:
    return f"{settings.public_url}/sign-in/callback"


@get("/account", name="account")
async def account(citizen: NamedDependency[Citizen]) -> Template:
    return Template("identity/account.html", context={"citizen": citizen})


async def _sign_out(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    settings: Settings,
    audit: AuditLog,
    citizen_oidc: OIDCClient,
    everywhere: bool,
) -> Response[Any]:
    citizen = await current_citizen(request, db)
    id_token = await sign_out(request, db, audit, citizen, everywhere)
    return await oidc_flow.leave(citizen_oidc, id_token, settings.public_url)


@post("/sign-out", name="sign_out")
async def sign_out_here(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
    audit: NamedDependency[AuditLog],
    citizen_oidc: NamedDependency[OIDCClient],
) -> Response[Any]:
    return await _sign_out(request, db, settings, audit, citizen_oidc, everywhere=False)


@post("/sign-out/everywhere", name="sign_out_everywhere")
async def sign_out_everywhere(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
    audit: NamedDependency[AuditLog],
    citizen_oidc: NamedDependency[OIDCClient],
) -> Response[Any]:
    return await _sign_out(request, db, settings, audit, citizen_oidc, everywhere=True)


@get("/signed-out", name="signed_out")
async def signed_out() -> Template:
    return Template("identity/signed_out.html")


identity = Router(
    path="/",
    route_handlers=[
        *code_routes,
        *profile_routes,
        sign_in_page,
        start_national_sign_in,
        finish_national_sign_in,
        account,
        sign_out_here,
        sign_out_everywhere,
        signed_out,
    ],
    dependencies={"citizen": Provide(require_citizen)},
    include_in_schema=False,
)
