"""The two halves of an OpenID Connect sign-in, shared by citizens' and staff's sign-in.

`start` keeps state, nonce and PKCE verifier in the (server-side) session and returns where to
send the browser; `finish` checks what the browser brings back and returns the ID token's claims,
or a reason to show the person. Refusals are audited.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

import structlog
from litestar import Request
from litestar.response import Redirect

from backend_clients.http import BackendError, BackendUnavailable
from backend_clients.oidc import OIDCClient
from portal.audit import AuditLog
from portal.i18n import lazy_gettext as _l

log = structlog.get_logger(component="identity")

UNAVAILABLE = _l("Signing in is not available at the moment. Try again later.")
EXPIRED = _l("Your sign-in expired. Start again.")
CANCELLED = _l("You did not finish signing in. You can try again.")
REFUSED = _l("We could not sign you in. Start again.")


@dataclass(frozen=True)
class SignInFailed:
    message: str
    status: int


@dataclass(frozen=True)
class SignedIn:
    claims: dict[str, Any]
    id_token: str
    next_page: str


async def start(
    request: Request[Any, Any, Any], client: OIDCClient, redirect_uri: str, key: str, next_page: str
) -> str | SignInFailed:
    try:
        authorization = await client.authorization_request(redirect_uri)
    except BackendError:
        log.warning("identity_provider_unavailable", issuer=client.oidc.issuer)
        return SignInFailed(str(UNAVAILABLE), 503)
    pending = {
        "state": authorization.state,
        "nonce": authorization.nonce,
        "verifier": authorization.code_verifier,
        "next": next_page,
    }
    request.set_session({**request.session, key: pending})
    return authorization.url


async def finish(
    request: Request[Any, Any, Any], client: OIDCClient, redirect_uri: str, key: str, actor: str
) -> SignedIn | SignInFailed:
    audit: AuditLog = request.app.state.audit
    pending: dict[str, str] = request.session.get(key) or {}
    query = request.query_params
    given = str(query.get("state") or "")
    if not pending or not hmac.compare_digest(given.encode(), pending["state"].encode()):
        await audit.record(
            "sign_in_failed", actor=actor, reason="state mismatch or no sign-in started"
        )
        return SignInFailed(str(EXPIRED), 400)
    request.set_session({name: value for name, value in request.session.items() if name != key})
    if query.get("error"):
        await audit.record("sign_in_failed", actor=actor, reason=f"provider: {query.get('error')}")
        return SignInFailed(str(CANCELLED), 200)
    try:
        tokens = await client.exchange_code(
            str(query.get("code") or ""), pending["verifier"], redirect_uri
        )
        claims = await client.verify_id_token(tokens.id_token, pending["nonce"])
    except BackendUnavailable:
        return SignInFailed(str(UNAVAILABLE), 503)
    except BackendError as error:
        log.warning("sign_in_refused", reason=str(error))
        await audit.record("sign_in_failed", actor=actor, reason=str(error)[:300])
        return SignInFailed(str(REFUSED), 400)
    return SignedIn(claims, tokens.id_token, pending["next"])


async def leave(client: OIDCClient, id_token: str | None, public_url: str) -> Redirect:
    """After signing out here: on to the provider's logout (RP-initiated), then /signed-out.

    Without an ID token (a code sign-in) or when the provider cannot be reached, straight to
    /signed-out; the provider's own session then ends by itself.
    """
    if id_token:
        try:
            logout = await client.logout_url(id_token, f"{public_url}/signed-out")
        except BackendError:
            logout = None
        if logout:
            return Redirect(logout, status_code=303)
    return Redirect("/signed-out", status_code=303)
