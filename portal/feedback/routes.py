"""POST /feedback: with htmx the answer swaps in place; without JavaScript, post-redirect-get.
Each network address may answer only so often (FRONTDOOR_FEEDBACK_PER_MINUTE), so nobody can
fill the table or skew the counts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from portal.feedback.models import PageFeedback
from portal.i18n import current_locale
from portal.i18n import gettext as _
from portal.settings import Settings
from portal.shared.deps import RateLimitCounters
from portal.web.context import current_client_ip
from portal.web.limits import within_limit
from portal.web.urls import safe_next

SESSION_KEY = "feedback_pages"
REMEMBERED = 50


class FeedbackForm(BaseModel):
    path: str = Field(max_length=500)
    useful: Literal["yes", "no"]


def answered(request: Request[Any, Any, Any], path: str) -> bool:
    """Whether this browser already answered for `path` (so we thank instead of asking again)."""
    session = request.scope.get("session")
    return isinstance(session, dict) and path in session.get(SESSION_KEY, [])


def _limited(request: HTMXRequest, path: str) -> Template:
    """Too many answers from this address: nothing is stored, and the reader is told why."""
    message = _("You have sent a lot of answers. Wait a minute, then try again.")
    if request.htmx:
        context = {"page_path": path, "limited": message}
        return Template("partials/feedback.html", context=context, status_code=429)
    context = {"page_path": path, "message": message}
    return Template("feedback/limited.html", context=context, status_code=429)


@post("/feedback", name="feedback", include_in_schema=False)
async def give_feedback(
    request: HTMXRequest,
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
    counters: NamedDependency[RateLimitCounters],
    data: Annotated[FeedbackForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template | Redirect:
    path = safe_next(data.path)
    if not await within_limit(
        counters,
        f"feedback:{current_client_ip() or '-'}",
        settings.feedback_per_minute,
    ):
        return _limited(request, path)
    db.add(PageFeedback(path=path, useful=data.useful == "yes", language=current_locale()))
    await db.commit()
    pages = [page for page in request.session.get(SESSION_KEY, []) if page != path]
    request.set_session({**request.session, SESSION_KEY: [*pages, path][-REMEMBERED:]})
    if request.htmx:
        return Template("partials/feedback.html", context={"page_path": path, "thanked": True})
    return Redirect(path=f"{path}#feedback", status_code=303)
