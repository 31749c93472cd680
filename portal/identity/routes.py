"""Sign in with the national identity service, the account page, and signing out."""

from __future__ import annotations

import hmac
from typing import Any

import structlog
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend_clients.http import BackendError, BackendUnavailable
from backend_clients.oidc import OIDCClient
from portal.audit import AuditLog
from portal.i18n import gettext as _
from portal.identity.models import Citizen
from portal.identity.service import (
    PENDING,
    current_citizen,
    require_citizen,
    sign_in,
    sign_out,
)
from portal.settings import Settings
from portal.web.urls import safe_next

log = structlog.get_logger(component="identity")


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
    next: FromQuery[str] = "/account",
) -> Response[Any]:
    """Send the browser to the identity provider, keeping state, nonce and PKCE verifier here."""
    oidc: OIDCClient = request.app.state.citizen_oidc
    try:
        authorization = await oidc.authorization_request(f"{settings.public_url}/sign-in/callback")
    except BackendError:
        log.warning("identity_provider_unavailable")
        message = _("Signing in is not available at the moment. Try again later.")
        return _sign_in_page(safe_next(next), message, status=503)
    request.set_session(
        {
            **request.session,
            PENDING: {
                "state": authorization.state,
                "nonce": authorization.nonce,
                "verifier": authorization.code_verifier,
                "next": safe_next(next),
            },
        }
    )
    return Redirect(authorization.url, status_code=303)


@get("/sign-in/callback", name="sign_in_callback")
async def finish_national_sign_in(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """Check the provider's answer; on success, a new signed-in session."""
    audit: AuditLog = request.app.state.audit
    pending = request.session.get(PENDING) or {}
    query = request.query_params
    next_page = pending.get("next", "/account")
    given_state = str(query.get("state") or "")
    if not pending or not hmac.compare_digest(given_state.encode(), str(pending["state"]).encode()):
        await audit.record(
            "sign_in_failed", actor="anonymous", reason="state mismatch or no sign-in started"
        )
        return _sign_in_page(next_page, _("Your sign-in expired. Start again."), status=400)
    request.set_session({key: value for key, value in request.session.items() if key != PENDING})
    if query.get("error"):
        await audit.record(
            "sign_in_failed", actor="anonymous", reason=f"provider: {query.get('error')}"
        )
        return _sign_in_page(next_page, _("You did not finish signing in. You can try again."))
    oidc: OIDCClient = request.app.state.citizen_oidc
    try:
        tokens = await oidc.exchange_code(
            str(query.get("code") or ""),
            pending["verifier"],
            f"{settings.public_url}/sign-in/callback",
        )
        claims = await oidc.verify_id_token(tokens.id_token, pending["nonce"])
    except BackendUnavailable:
        message = _("Signing in is not available at the moment. Try again later.")
        return _sign_in_page(next_page, message, status=503)
    except BackendError as error:
        log.warning("sign_in_refused", reason=str(error))
        await audit.record("sign_in_failed", actor="anonymous", reason=str(error)[:300])
        return _sign_in_page(next_page, _("We could not sign you in. Start again."), status=400)
    await sign_in(request, db, claims, tokens.id_token)
    return Redirect(next_page, status_code=303)


@get("/account", name="account")
async def account(citizen: NamedDependency[Citizen]) -> Template:
    return Template("identity/account.html", context={"citizen": citizen})


async def _sign_out(
    request: Request[Any, Any, Any], db: AsyncSession, settings: Settings, everywhere: bool
) -> Response[Any]:
    citizen = await current_citizen(request, db)
    id_token = await sign_out(request, db, citizen, everywhere)
    back = f"{settings.public_url}/signed-out"
    if id_token:
        oidc: OIDCClient = request.app.state.citizen_oidc
        try:
            logout = await oidc.logout_url(id_token, back)
        except BackendError:
            logout = None  # signed out here; the provider's own session will expire by itself
        if logout:
            return Redirect(logout, status_code=303)
    return Redirect("/signed-out", status_code=303)


@post("/sign-out", name="sign_out")
async def sign_out_here(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    return await _sign_out(request, db, settings, everywhere=False)


@post("/sign-out/everywhere", name="sign_out_everywhere")
async def sign_out_everywhere(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    return await _sign_out(request, db, settings, everywhere=True)


@get("/signed-out", name="signed_out")
async def signed_out() -> Template:
    return Template("identity/signed_out.html")


identity = Router(
    path="/",
    route_handlers=[
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
