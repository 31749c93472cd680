"""Home, accessibility statement, privacy notice and cookies."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, Router, get
from litestar.di import NamedDependency
from litestar.response import Template

from portal.catalogue import catalogue_of
from portal.i18n import lazy_gettext as _l
from portal.i18n.locale import LANGUAGE_COOKIE
from portal.settings import Settings
from portal.web.cookies import CSRF_COOKIE, SESSION_COOKIE

# Services not in the catalogue yet, announced on the home page.
# Services that are not journeys of the catalogue, with where they start.
OTHER_SERVICES = (
    {
        "href": "/pay-a-bill",
        "title": _l("Pay a bill or a fine"),
        "description": _l(
            "Pay with the reference on your bill or notice. You do not need an account."
        ),
    },
)
STATEMENT_PREPARED = date(2026, 11, 23)


@get("/", name="home")
async def home(request: Request[Any, Any, Any]) -> Template:
    services = list(catalogue_of(request).services.values())
    context = {"services": services, "other_services": OTHER_SERVICES}
    return Template("pages/home.html", context=context)


@get("/accessibility", name="accessibility")
async def accessibility() -> Template:
    return Template("pages/accessibility.html", context={"prepared": STATEMENT_PREPARED})


@get("/privacy", name="privacy")
async def privacy() -> Template:
    return Template("pages/privacy.html")


@get("/cookies", name="cookies")
async def cookies(settings: NamedDependency[Settings]) -> Template:
    names = {
        "language": LANGUAGE_COOKIE,
        "session": SESSION_COOKIE,
        "csrf": CSRF_COOKIE,
        "session_minutes": settings.session_idle_seconds // 60,
    }
    return Template("pages/cookies.html", context={"cookies": names})


# HTML pages are for people; the OpenAPI document describes the JSON API only.
pages = Router(
    path="/", route_handlers=[home, accessibility, privacy, cookies], include_in_schema=False
)
