"""Home, accessibility statement, privacy notice and cookies."""

from __future__ import annotations

from datetime import date

from litestar import get
from litestar.response import Template

from portal.i18n import lazy_gettext as _l

# Until the service catalogue lands, the home page introduces the flagship services.
FLAGSHIP_SERVICES = (
    {
        "title": _l("Open a business"),
        "description": _l(
            "One application for your trade licence, tax registration and, when your business "
            "needs them, environmental clearance and employer registration."
        ),
    },
    {
        "title": _l("Report a problem in the street"),
        "description": _l(
            "Tell us about a pothole, a broken street light, a missed bin or graffiti."
        ),
    },
    {
        "title": _l("Pay a bill or a fine"),
        "description": _l(
            "Pay with the reference on your bill or notice. You do not need an account."
        ),
    },
)
STATEMENT_PREPARED = date(2026, 11, 23)


@get("/", name="home")
async def home() -> Template:
    return Template("pages/home.html", context={"services": FLAGSHIP_SERVICES})


@get("/accessibility", name="accessibility")
async def accessibility() -> Template:
    return Template("pages/accessibility.html", context={"prepared": STATEMENT_PREPARED})


@get("/privacy", name="privacy")
async def privacy() -> Template:
    return Template("pages/privacy.html")


@get("/cookies", name="cookies")
async def cookies() -> Template:
    return Template("pages/cookies.html")
