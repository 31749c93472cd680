"""The language switcher: a plain link per language that remembers the choice in a cookie."""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from portal.i18n.locale import languages
from portal.settings import Settings
from portal.web.cookies import language_cookie
from portal.web.urls import safe_next


@get("/language/{language:str}", name="language", include_in_schema=False)
async def switch_language(
    language: FromPath[str], settings: NamedDependency[Settings], next: FromQuery[str] = "/"
) -> Response[None]:
    """Remember `language` and send the citizen back to the page they were on."""
    if language not in languages():
        raise NotFoundException()
    cookie = language_cookie(language, settings.cookies_secure)
    return Redirect(path=safe_next(next), status_code=303, cookies=[cookie])
