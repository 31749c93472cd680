"""The names of the cookies the portal sets (listed for citizens on the cookies page).

Over https every name takes the `__Host-` prefix: a browser then keeps the cookie only if it is
Secure, has Path=/ and no Domain, so neither a sibling subdomain nor anyone on plain http can
set or overwrite it (planting a session or a CSRF cookie).
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.datastructures import Cookie

from portal.i18n.locale import LANGUAGE_COOKIE

SESSION_COOKIE = "frontdoor_session"
CSRF_COOKIE = "frontdoor_csrf"
HOST_PREFIX = "__Host-"
ONE_YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class CookieNames:
    session: str
    csrf: str
    language: str


def cookie_names(secure: bool) -> CookieNames:
    """The names in use: prefixed when the portal is served over https (`secure`)."""
    prefix = HOST_PREFIX if secure else ""
    return CookieNames(
        session=prefix + SESSION_COOKIE,
        csrf=prefix + CSRF_COOKIE,
        language=prefix + LANGUAGE_COOKIE,
    )


def language_cookie(language: str, secure: bool) -> Cookie:
    """Remembers the language chosen, for a year."""
    return Cookie(
        key=cookie_names(secure).language,
        value=language,
        max_age=ONE_YEAR,
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/",
    )
