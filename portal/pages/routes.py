"""Home, accessibility statement, privacy notice and cookies."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, Router, get
from litestar.di import NamedDependency
from litestar.response import Template

from portal.catalogue import catalogue_of
from portal.settings import Settings
from portal.web.cookies import cookie_names

STATEMENT_PREPARED = date(2026, 11, 23)


@get("/", name="home")
async def home(request: Request[Any, Any, Any]) -> Template:
    catalogue = catalogue_of(request)
    popular = [entry for entry in catalogue.entries() if entry.popular]
    context = {"services": popular, "topics": list(catalogue.topics.values())}
    return Template("pages/home.html", context=context)


@get("/accessibility", name="accessibility")
async def accessibility() -> Template:
    return Template("pages/accessibility.html", context={"prepared": STATEMENT_PREPARED})


@get("/privacy", name="privacy")
async def privacy(settings: NamedDependency[Settings]) -> Template:
    """The notice states how long each thing is kept from the settings the worker deletes by
    (portal/retention/), so the two cannot disagree."""
    periods = {
        "draft_days": settings.draft_retention_days,
        "warning_days": settings.draft_warning_days,
        "code_hours": settings.sign_in_code_retention_hours,
        "web_chat_days": settings.web_chat_retention_days,
        "session_minutes": settings.session_idle_seconds // 60,
    }
    return Template("pages/privacy.html", context={"periods": periods})


@get("/cookies", name="cookies")
async def cookies(settings: NamedDependency[Settings]) -> Template:
    named = cookie_names(settings.cookies_secure)
    names = {
        "language": named.language,
        "session": named.session,
        "csrf": named.csrf,
        "session_minutes": settings.session_idle_seconds // 60,
    }
    return Template("pages/cookies.html", context={"cookies": names})


# HTML pages are for people; the OpenAPI document describes the JSON API only.
pages = Router(
    path="/", route_handlers=[home, accessibility, privacy, cookies], include_in_schema=False
)
