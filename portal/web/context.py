"""The outermost layer of every request, matched route or not.

It gives each request an id (taken from X-Request-ID when a proxy set a sane one), binds it to
the logs and to outgoing backend calls, chooses the locale, adds the security headers and writes
one access-log line. It wraps Litestar's own handler so that 404 pages get all of this too.
"""

from __future__ import annotations

import ipaddress
import re
import time
import uuid
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import structlog
from litestar.enums import ScopeType

from portal.i18n.locale import cookie_value, locale_for_request, use_locale
from portal.web.cookies import cookie_names

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from portal.settings import Settings

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
client_ip_var: ContextVar[str | None] = ContextVar("client_ip", default=None)
HTML_CACHING = [(b"vary", b"Accept-Language, Cookie"), (b"cache-control", b"private, no-cache")]
NO_STORE = (b"cache-control", b"no-store")
# Areas whose every answer is about someone, even before their session cookie exists.
PERSONAL_PATHS = (
    "/account",
    "/applications",
    "/drafts",
    "/payments",
    "/pay-a-bill",
    "/chat",
    "/staff",
    "/sign-in",
    "/sign-out",
    "/continue",
    "/act",
)
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
log = structlog.get_logger(component="access")


def current_request_id() -> str:
    """The id of the request being served ("-" outside a request)."""
    return request_id_var.get()


def current_client_ip() -> str | None:
    """The address the request came from (see FRONTDOOR_TRUSTED_PROXIES)."""
    return client_ip_var.get()


def backend_headers() -> dict[str, str]:
    """Headers every outgoing backend call carries, so one id follows a request everywhere."""
    return {"X-Request-ID": current_request_id()}


def security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    """Headers for every response: no inline scripts, no framing, no MIME sniffing.

    form-action also governs where a form's redirect may lead: signing out redirects to the
    identity provider's logout page, so its origin is allowed.
    """
    providers = sorted(
        {
            f"{part.scheme}://{part.netloc}"
            for part in map(urlsplit, (settings.citizen_oidc_issuer, settings.staff_oidc_issuer))
        }
    )
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; "
        f"form-action 'self' {' '.join(providers)}; "
        "frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
    )
    headers = [
        (b"content-security-policy", policy.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"x-frame-options", b"DENY"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(self), payment=()"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if settings.hsts_seconds:
        value = f"max-age={settings.hsts_seconds}; includeSubDomains"
        headers.append((b"strict-transport-security", value.encode()))
    return headers


def client_address(peer: str | None, forwarded_for: str, proxies: tuple[Any, ...]) -> str | None:
    """The citizen's address: the peer, or, when the peer is a trusted proxy, the nearest
    address in X-Forwarded-For that is not one (addresses further left can be forged)."""

    def trusted(address: str | None) -> bool:
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        return any(ip in network for network in proxies)

    if not proxies or not trusted(peer):
        return peer
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        if not trusted(hop):
            return hop
    return peer


class RequestContext:
    """Pure ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.headers = security_headers(settings)
        self.proxies = settings.trusted_proxies
        self.cookies = cookie_names(settings.cookies_secure)

    def _personal(self, path: str, cookie_header: str) -> bool:
        """Whether the answer may show someone's data: in a personal area, or to a browser with
        a session (signed in, or holding a payment or a chat). Static files are everyone's."""
        if path.startswith("/static/"):
            return False
        return path.startswith(PERSONAL_PATHS) or bool(
            cookie_value(cookie_header, self.cookies.session)
        )

    def _starts_session(self, headers: list[tuple[bytes, bytes]]) -> bool:
        session = self.cookies.session.encode() + b"="
        return any(name == b"set-cookie" and value.startswith(session) for name, value in headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        raw = dict(scope["headers"])
        incoming = raw.get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        request_id_var.set(request_id)
        client = scope.get("client")
        forwarded = raw.get(b"x-forwarded-for", b"").decode("latin-1")
        client_ip_var.set(client_address(client[0] if client else None, forwarded, self.proxies))
        # HTTP/2 may split cookies over several headers.
        cookies = b"; ".join(value for name, value in scope["headers"] if name == b"cookie")
        personal = self._personal(scope["path"], cookies.decode("latin-1"))
        locale = locale_for_request(
            cookie_header=cookies.decode("latin-1"),
            accept_language=raw.get(b"accept-language", b"").decode("latin-1"),
            cookie_name=self.cookies.language,
        )
        use_locale(locale)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.extend(self.headers)
                if personal or self._starts_session(headers):
                    # Someone's data (a signed-in page, a payment, a chat): kept nowhere, not
                    # even in the browser's history cache once they have gone.
                    headers = [(name, value) for name, value in headers if name != NO_STORE[0]]
                    headers.extend([HTML_CACHING[0], NO_STORE])
                elif any(
                    name == b"content-type" and value.startswith(b"text/html")
                    for name, value in headers
                ):
                    # Pages depend on language and cookies and carry a CSRF token: never shared.
                    headers.extend(HTML_CACHING)
                headers.append((b"x-request-id", request_id.encode()))
                headers.append((b"content-language", locale.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
