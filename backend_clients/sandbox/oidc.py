"""OpenID Connect providers for citizens (/oidc/citizen) and staff (/oidc/staff).

Authorization code flow with PKCE (S256 required), discovery, JWKS, RS256 ID tokens, userinfo
and RP-initiated logout. The login page lists the test users instead of asking for a password.
`PUT /_sandbox/oidc/{issuer}/tamper` makes the next ID tokens wrong on purpose (bad_signature,
wrong_audience, expired, wrong_nonce) so the portal's refusals can be tested.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey
from litestar import Controller, Request, Response, get, post, put
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from pydantic import BaseModel

from backend_clients.sandbox.oidc_users import CLIENTS, USERS

CODE_SECONDS = 60
TOKEN_SECONDS = 300
Tamper = Literal["bad_signature", "wrong_audience", "expired", "wrong_nonce"]


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    user: str
    nonce: str | None
    challenge: str
    scope: str
    expires: float


@dataclass
class Issuer:
    name: str
    key: RSAKey
    wrong_key: RSAKey
    codes: dict[str, Grant] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # access token -> user
    tamper: Tamper | None = None


def make_issuers() -> dict[str, Issuer]:
    def key(kid: str) -> RSAKey:
        return RSAKey.generate_key(
            2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"}, private=True
        )

    return {name: Issuer(name, key(f"{name}-1"), key(f"{name}-1")) for name in USERS}


def _local(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme in {"http", "https"} and parts.hostname in {"127.0.0.1", "localhost"}


def _error(status: int, error: str, description: str) -> Response[dict[str, str]]:
    return Response({"error": error, "error_description": description}, status_code=status)


def _page(title: str, body: str) -> Response[str]:
    document = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
    return Response(document, media_type="text/html")


class TamperSwitch(BaseModel):
    mode: Tamper | None = None


class OIDCController(Controller):
    path = "/oidc/{issuer_name:str}"
    include_in_schema = False

    @staticmethod
    def _issuer(request: Request[Any, Any, Any], name: str) -> Issuer:
        issuers: dict[str, Issuer] = request.app.state.oidc
        if name not in issuers:
            raise NotFoundException()
        return issuers[name]

    @staticmethod
    def _base(request: Request[Any, Any, Any], name: str) -> str:
        return f"{request.base_url}".rstrip("/") + f"/oidc/{name}"

    @get("/.well-known/openid-configuration")
    async def discovery(
        self, request: Request[Any, Any, Any], issuer_name: FromPath[str]
    ) -> dict[str, Any]:
        self._issuer(request, issuer_name)
        base = self._base(request, issuer_name)
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks",
            "end_session_endpoint": f"{base}/logout",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "profile", "email", "phone"],
            "claims_supported": [
                "sub",
                "name",
                "email",
                "phone_number",
                "locale",
                "roles",
                "acr",
                "amr",
            ],
        }

    @get("/jwks")
    async def jwks(
        self, request: Request[Any, Any, Any], issuer_name: FromPath[str]
    ) -> dict[str, Any]:
        return {"keys": [self._issuer(request, issuer_name).key.as_dict(private=False)]}

    @get("/authorize")
    async def authorize_page(
        self, request: Request[Any, Any, Any], issuer_name: FromPath[str]
    ) -> Response[Any]:
        issuer = self._issuer(request, issuer_name)
        query = dict(request.query_params)
        problem = self._check_request(issuer, query)
        if problem:
            return _page("Sign-in request refused", f"<p>{html.escape(problem)}</p>")
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in query.items()
        )
        buttons = "".join(
            f'<li><button type="submit" name="user" value="{login}">{html.escape(user["name"])}'
            f" ({login})</button></li>"
            for login, user in USERS[issuer.name].items()
        )
        body = (
            f"<p>Sandbox {issuer.name} identity provider: choose a test user.</p>"
            f'<form method="post">{hidden}<ul>{buttons}</ul>'
            '<button type="submit" name="user" value="">Cancel</button></form>'
        )
        return _page("Sign in (sandbox)", body)

    @staticmethod
    def _check_request(issuer: Issuer, query: dict[str, str]) -> str | None:
        if query.get("response_type") != "code":
            return "response_type must be code"
        if query.get("client_id") not in CLIENTS[issuer.name]:
            return "unknown client_id"
        if not _local(query.get("redirect_uri", "")):
            return "redirect_uri is not registered"
        if "openid" not in query.get("scope", "").split():
            return "scope must include openid"
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return "PKCE with S256 is required"
        return None

    @post("/authorize", status_code=302)
    async def authorize(
        self, request: Request[Any, Any, Any], issuer_name: FromPath[str]
    ) -> Response[Any]:
        issuer = self._issuer(request, issuer_name)
        form = {key: str(value) for key, value in (await request.form()).items()}
        problem = self._check_request(issuer, form)
        if problem:
            return _page("Sign-in request refused", f"<p>{html.escape(problem)}</p>")
        redirect = form["redirect_uri"]
        state = {"state": form["state"]} if form.get("state") else {}
        if form.get("user") not in USERS[issuer.name]:
            return Redirect(
                f"{redirect}?{urlencode({'error': 'access_denied', **state})}", status_code=302
            )
        code = secrets.token_urlsafe(24)
        issuer.codes[code] = Grant(
            client_id=form["client_id"],
            redirect_uri=redirect,
            user=form["user"],
            nonce=form.get("nonce"),
            challenge=form["code_challenge"],
            scope=form.get("scope", "openid"),
            expires=time.time() + CODE_SECONDS,
        )
        return Redirect(f"{redirect}?{urlencode({'code': code, **state})}", status_code=302)

    @staticmethod
    def _client(
        request: Request[Any, Any, Any], form: dict[str, str], issuer: Issuer
    ) -> str | None:
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        expected = CLIENTS[issuer.name].get(client_id)
        if expected is None or not hmac.compare_digest(secret.encode(), expected.encode()):
            return None
        return client_id

    @post("/token", status_code=200)
    async def token(
        self, request: Request[Any, Any, Any], issuer_name: FromPath[str]
    ) -> Response[Any]:
        issuer = self._issuer(request, issuer_name)
        form = {key: str(value) for key, value in (await request.form()).items()}
        client_id = self._client(request, form, issuer)
        if client_id is None:
            return _error(401, "invalid_client", "client authentication failed")
        if form.get("grant_type") != "authorization_code":
            return _error(400, "unsupported_grant_type", "only authorization_code")
        grant = issuer.codes.pop(form.get("code", ""), None)  # single use
        if grant is None or grant.expires < time.time() or grant.client_id != client_id:
            return _error(400, "invalid_grant", "unknown, used or expired code")
        if form.get("redirect_uri") != grant.redirect_uri:
            return _error(
                400, "invalid_grant", "redirect_uri differs from the authorization request"
            )
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if not hmac.compare_digest(challenge, grant.challenge):
            return _error(400, "invalid_grant", "PKCE verification failed")
        access_token = secrets.token_urlsafe(32)
        issuer.tokens[access_token] = grant.user
        id_token = self._id_token(request, issuer, grant, client_id)
        return Response(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": TOKEN_SECONDS,
                "id_token": id_token,
                "scope": grant.scope,
            },
            headers={"cache-control": "no-store"},
        )

    def _id_token(
        self, request: Request[Any, Any, Any], issuer: Issuer, grant: Grant, client_id: str
    ) -> str:
        now = int(time.time())
        user = USERS[issuer.name][grant.user]
        claims: dict[str, Any] = {
            "iss": self._base(request, issuer.name),
            "aud": client_id,
            "iat": now,
            "exp": now + TOKEN_SECONDS,
            "auth_time": now,
            **user,
        }
        if grant.nonce:
            claims["nonce"] = grant.nonce
        key = issuer.key
        if issuer.tamper == "bad_signature":
            key = issuer.wrong_key
        elif issuer.tamper == "wrong_audience":
            claims["aud"] = "someone-else"
        elif issuer.tamper == "expired":
            claims["iat"], claims["exp"] = now - 3600, now - 1800
        elif issuer.tamper == "wrong_nonce":
            claims["nonce"] = "not-the-nonce-you-sent"
        return jwt.encode({"alg": "RS256", "kid": issuer.key.kid}, claims, key)

    @get("/userinfo")
    async def userinfo(
        self, request: Request[Any, Any, Any], issuer_name: FromPath[str]
    ) -> Response[Any]:
        issuer = self._issuer(request, issuer_name)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        login = issuer.tokens.get(token)
        if login is None:
            return _error(401, "invalid_token", "unknown access token")
        return Response(USERS[issuer.name][login])

    @get("/logout")
    async def logout(
        self, request: Request[Any, Any, Any], issuer_name: FromPath[str]
    ) -> Response[Any]:
        """RP-initiated logout: the provider's own session ends, then back to the portal."""
        self._issuer(request, issuer_name)
        back = request.query_params.get("post_logout_redirect_uri")
        state = request.query_params.get("state")
        if back and _local(back):
            suffix = f"?{urlencode({'state': state})}" if state else ""
            return Redirect(back + suffix, status_code=302)
        return _page("Signed out (sandbox)", "<p>You are signed out of the sandbox provider.</p>")


@put("/_sandbox/oidc/{issuer_name:str}/tamper", sync_to_thread=False)
def set_tamper(
    request: Request[Any, Any, Any], issuer_name: FromPath[str], data: TamperSwitch
) -> dict[str, Any]:
    issuers: dict[str, Issuer] = request.app.state.oidc
    if issuer_name not in issuers:
        raise NotFoundException()
    issuers[issuer_name].tamper = data.mode
    return {"issuer": issuer_name, "mode": data.mode}
