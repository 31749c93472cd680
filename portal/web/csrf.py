"""Forms are accepted only from our own pages, with the token of the session they were sent in.

Litestar's CSRF middleware checks a signed token against a cookie (double submit), which is
only as good as that cookie: planted from elsewhere, with a token of the planter's own, it let
any form through. Ours, in its place (after the session middleware, so the session is loaded):
- a browser with a session must send the token its session holds: the token is recorded in the
  session when the session starts, and a token from another session, cookie and all, is
  refused. Before there is a session (feedback, a bill look-up, asking for a sign-in code) the
  cookie is the reference, as before;
- every sign-in and sign-out issues a new token (`new_token`, called by `fresh_session`): one
  seen before signing in is worth nothing after;
- a state-changing request the browser says came from another site (`Origin` other than ours,
  or `Sec-Fetch-Site` other than same-origin or none) is refused, whatever its token.
Webhooks and the bot's API are excluded as before: they are not forms and carry signatures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware._utils import should_bypass_middleware
from litestar.middleware.csrf import CSRFMiddleware, generate_csrf_token
from litestar.utils.scope.state import ScopeState

if TYPE_CHECKING:
    from litestar import Request
    from litestar.config.csrf import CSRFConfig
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

SESSION_KEY = "csrf"
_SAME_SITE = frozenset({"same-origin", "none"})  # "none": typed or bookmarked by the person


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, as browsers send it in Origin."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def new_token(request: Request[Any, Any, Any]) -> None:
    """Replace this browser's token from this response on (pages rendered next carry it)."""
    config: CSRFConfig = request.app.state.csrf_config
    ScopeState.from_scope(request.scope).csrf_token = generate_csrf_token(config.secret)


class SessionCSRF(CSRFMiddleware):
    """See the module docstring. `public_url` is the origin our pages are served from."""

    def __init__(self, app: ASGIApp, config: CSRFConfig, public_url: str) -> None:
        super().__init__(app, config)
        self.origin = origin_of(public_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or should_bypass_middleware(
            scope=scope,
            scopes=self.scopes,
            exclude_opt_key=self.config.exclude_from_csrf_key,
            exclude_path_pattern=self.exclude,
        ):
            await self.app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = scope["litestar_app"].request_class(scope, receive)
        cookie = request.cookies.get(self.config.cookie_name)
        session = scope.get("session")
        kept = session.get(SESSION_KEY) if isinstance(session, dict) else None
        current = kept or (cookie if cookie and self._decode_csrf_token(cookie) else None)
        if request.method not in self.config.safe_methods:
            if self._from_another_site(request):
                raise PermissionDeniedException("CSRF: sent from another site")
            given = await self._token_sent(request)
            if not (given and current and self._csrf_tokens_match(given, current)):
                raise PermissionDeniedException("CSRF token verification failed")
        state = ScopeState.from_scope(scope)
        state.csrf_token = current or generate_csrf_token(self.config.secret)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                token = str(state.csrf_token)
                self._keep_in_session(scope, token)
                if token != cookie:
                    self._set_cookie(message, token)
            await send(message)

        await self.app(scope, receive, send_wrapper)

    def _from_another_site(self, request: Request[Any, Any, Any]) -> bool:
        site = request.headers.get("sec-fetch-site")
        if site is not None and site not in _SAME_SITE:
            return True
        origin = request.headers.get("origin")
        if origin is None:  # older browsers and other clients: the token decides
            return False
        return origin not in {self.origin, origin_of(str(request.base_url))}

    async def _token_sent(self, request: Request[Any, Any, Any]) -> str | None:
        token = request.headers.get(self.config.header_name)
        content_type, _ = request.content_type
        if not token and content_type in {
            RequestEncodingType.URL_ENCODED,
            RequestEncodingType.MULTI_PART,
        }:
            token = (await request.form()).get("_csrf_token")
        return str(token) if token else None

    @staticmethod
    def _keep_in_session(scope: Scope, token: str) -> None:
        """Record the token in a session that holds anything else; a session holding nothing
        else is empty (and ends)."""
        session = scope.get("session")
        if not isinstance(session, dict):
            return
        if not any(key != SESSION_KEY for key in session):
            session.clear()
        elif session.get(SESSION_KEY) != token:
            session[SESSION_KEY] = token

    def _set_cookie(self, message: Message, token: str) -> None:
        cookie = Cookie(
            key=self.config.cookie_name,
            value=token,
            path=self.config.cookie_path,
            secure=self.config.cookie_secure,
            httponly=self.config.cookie_httponly,
            samesite=self.config.cookie_samesite,
            domain=self.config.cookie_domain,
        )
        MutableScopeHeaders.from_message(message).add("set-cookie", cookie.to_header(header=""))
