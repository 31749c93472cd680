"""Error pages: localized, in the site's layout, never a stack trace.

The request id is shown on server errors so that a citizen can quote it to the call centre and
staff can find the log line.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from portal.i18n import current_locale, text_direction
from portal.i18n import lazy_gettext as _l
from portal.web.context import current_request_id
from portal.web.ids import names_nothing

log = structlog.get_logger(component="errors")

# status -> (title, explanation); the title is also the page's <h1>.
MESSAGES: dict[int, tuple[Any, Any]] = {
    400: (
        _l("Sorry, we could not understand that request"),
        _l("Go back to the previous page and try again."),
    ),
    403: (
        _l("You cannot see this page"),
        _l("If you think you should be able to, sign in or contact us."),
    ),
    404: (
        _l("Page not found"),
        _l(
            "If you typed the web address, check it is correct. If you pasted the web address, "
            "check you copied the entire address."
        ),
    ),
    405: (
        _l("Sorry, that did not work"),
        _l("Go back to the previous page and try again."),
    ),
    413: (
        _l("What you sent is too large"),
        _l("Go back and send a smaller file or a shorter answer."),
    ),
    429: (
        _l("Too many attempts"),
        _l("Wait a few minutes, then try again."),
    ),
    500: (
        _l("Sorry, there is a problem with the service"),
        _l("Try again later. What you entered has not been lost if you had saved it."),
    ),
    503: (
        _l("Sorry, the service is unavailable"),
        _l("Try again later."),
    ),
}
CSRF_MESSAGE = (
    _l("Your form could not be sent"),
    _l("For your security, forms expire. Go back, reload the page and try again."),
)


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


class SignInRequired(HTTPException):
    """A page that needs a signed-in person; answered with a redirect to `sign_in_path`."""

    status_code = 401
    sign_in_path = "/sign-in"


def to_sign_in(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Sign in, then come back to the page that was asked for."""
    path = exc.sign_in_path if isinstance(exc, SignInRequired) else "/sign-in"
    target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return Redirect(f"{path}?next={target}", status_code=303)


def error_response(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Turn any exception into a localized error page (or a small JSON body for API callers)."""
    if isinstance(exc, HTTPException):
        status = 404 if names_nothing(exc) else exc.status_code
        detail = str(exc.detail or "")
    else:
        status = HTTP_500_INTERNAL_SERVER_ERROR
        detail = ""
        log.error("unhandled_error", path=request.url.path, exc_info=exc)
    title, body = MESSAGES.get(status, MESSAGES[500 if status >= 500 else 400])
    if status == 403 and "CSRF" in detail:
        title, body = CSRF_MESSAGE
    headers = dict(getattr(exc, "headers", None) or {})
    if _wants_json(request):
        content = {"status_code": status, "detail": str(title), "request_id": current_request_id()}
        return Response(
            content=content, status_code=status, media_type=MediaType.JSON, headers=headers
        )
    template = "errors/error.html"
    if request.headers.get("hx-request") == "true":
        # htmx swaps the message into the element the citizen acted on (see htmx-config).
        template = "partials/error_inline.html"
        headers["HX-Reswap"] = "innerHTML"
    context = {
        "title": str(title),
        "body": str(body),
        "request_id": current_request_id() if status >= 500 else None,
    }
    engine = request.app.template_engine
    try:
        if engine is None:
            raise LookupError("no template engine")
        html = engine.get_template(template).render(**context, request=request)
    except Exception as error:
        log.error("error_page_failed", template=template, exc_info=error)
        html = _plain_page(context)
    return Response(content=html, status_code=status, media_type=MediaType.HTML, headers=headers)


def _plain_page(context: dict[str, Any]) -> str:
    """The error page without templates, for when they are what failed."""
    language = current_locale()
    parts = [escape(context["title"]), escape(context["body"]), escape(context["request_id"] or "")]
    return (
        f'<!DOCTYPE html><html lang="{language}" dir="{text_direction(language)}"><head>'
        f'<meta charset="utf-8"><title>{parts[0]}</title></head><body><main>'
        f"<h1>{parts[0]}</h1><p>{parts[1]}</p><p>{parts[2]}</p></main></body></html>"
    )
