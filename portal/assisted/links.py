"""A link an agent sends so the citizen finishes or pays themselves (started on the phone,
finished on the web). The link is signed and expires; it only says where to go: the citizen
still signs in, and a link for someone else leads nowhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend_clients.http import BackendError
from backend_clients.mail import MailClient
from backend_clients.twilio import TwilioClient
from portal.applications.models import Application
from portal.assisted.found import FoundCitizen, PurposeRequired, found_citizen, search_first
from portal.audit import AuditLog
from portal.catalogue import catalogue_of
from portal.forms.models import Draft
from portal.i18n import gettext as _
from portal.i18n.locale import current_locale, use_locale
from portal.identity.models import Citizen
from portal.identity.service import require_citizen
from portal.settings import Settings
from portal.shared.deps import RateLimitCounters
from portal.staff.service import StaffMember, require_role
from portal.web.limits import within_limit

LINK_DAYS = 3
PER_CITIZEN_PER_HOUR = 5  # links to one citizen, by all agents: a message is not spam


def _signature(secret: str, body: str) -> str:
    digest = hmac.new(secret.encode(), f"continue:{body}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def make_token(secret: str, citizen: str, target: str, expires: float) -> str:
    """`target`: "draft:<public id>" or "application:<reference>"."""
    payload = json.dumps({"c": citizen, "t": target, "e": int(expires)}, separators=(",", ":"))
    body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{body}.{_signature(secret, body)}"


def read_token(secret: str, token: str, now: float | None = None) -> dict[str, Any] | None:
    """The link's content if it is ours and has not expired, else None."""
    body, _dot, signature = token.partition(".")
    if not hmac.compare_digest(signature.encode(), _signature(secret, body).encode()):
        return None
    try:
        padded = body + "=" * (-len(body) % 4)
        content: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError:
        return None
    if float(content.get("e", 0)) < (now or time.time()):
        return None
    return content


async def _target(
    request: Request[Any, Any, Any], db: AsyncSession, citizen: Citizen, target: str
) -> tuple[str, str] | None:
    """(path, what it is in words) of a draft or application of this citizen's."""
    kind, _colon, key = target.partition(":")
    services = catalogue_of(request).services
    if kind == "draft":
        draft = await db.scalar(
            select(Draft).where(
                Draft.public_id == key,
                Draft.citizen_id == citizen.id,
                Draft.submitted_at.is_(None),
            )
        )
        if draft is not None and draft.service_id in services:
            return f"/services/{draft.service_id}/apply", _(services[draft.service_id].title)
    if kind == "application":
        application = await db.scalar(
            select(Application).where(
                Application.reference == key, Application.citizen_id == citizen.id
            )
        )
        if application is not None:
            service = catalogue_of(request).version(
                application.service_id, application.service_version
            )
            title = _(service.title) if service else application.service_id
            return f"/applications/{application.reference}", f"{title} {application.reference}"
    return None


@post("/staff/citizens/{public_id:str}/link", name="assisted_send_link")
async def send_link(
    request: Request[Any, Any, Any],
    found: NamedDependency[FoundCitizen],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
    counters: NamedDependency[RateLimitCounters],
    twilio: NamedDependency[TwilioClient],
    mail: NamedDependency[MailClient],
    audit: NamedDependency[AuditLog],
) -> Response[Any]:
    """Send the citizen a link to a draft of theirs (to finish it) or an application (to pay
    its fee), by text message or email, in their language."""
    citizen = found.citizen
    public_id = citizen.public_id
    form = await request.form()
    target, channel = str(form.get("target") or ""), str(form.get("channel") or "")
    # Back where the agent was: acting for them (a draft), or the application (a fee to pay).
    back = f"/staff/citizens/{public_id}"
    if str(form.get("back")) == "act":
        back += "/act"
    elif str(form.get("back")) == "application" and target.startswith("application:"):
        back += "/applications/" + quote(target.removeprefix("application:"), safe="")
    address = {"sms": citizen.phone, "email": citizen.email}.get(channel)
    # Counted atomically, so agents sending at the same moment cannot pass the limit together.
    limit_key = f"assisted-links:{citizen.public_id}"
    if not await within_limit(counters, limit_key, PER_CITIZEN_PER_HOUR, 3600):
        return Redirect(f"{back}?link=limit", status_code=303)
    agent_locale = current_locale()
    use_locale(citizen.language)  # the message is in the citizen's language
    try:
        destination = await _target(request, db, citizen, target)
        if destination is None or not address:
            await counters.take_back(limit_key)  # nothing was sent
            return Redirect(f"{back}?link=refused", status_code=303)
        expires = time.time() + LINK_DAYS * 86400
        token = make_token(settings.secret(), citizen.public_id, target, expires)
        text = _(
            "%(name)s from the city's call centre sent you this link to continue %(what)s. "
            "Sign in to use it. It works for %(days)s days: %(link)s",
            name=staff.name,
            what=destination[1],
            days=LINK_DAYS,
            link=f"{settings.public_url}/continue/{token}",
        )
        subject = _("Continue %(what)s", what=destination[1])
    finally:
        use_locale(agent_locale)
    try:
        if channel == "sms":
            await twilio.send_message(to=address, from_=settings.twilio_from_number, body=text)
        else:
            await mail.send(to=address, subject=subject, text=text)
    except BackendError:
        await counters.take_back(limit_key)  # nothing was sent
        return Redirect(f"{back}?link=failed", status_code=303)
    await audit.record(
        "assisted_link_sent",
        actor=staff.actor,
        subject=citizen.public_id,
        agent_name=staff.name,
        target=target,
        channel=channel,
    )
    return Redirect(f"{back}?link=sent", status_code=303)


@get("/continue/{token:str}", name="continue_link")
async def follow_link(
    request: Request[Any, Any, Any],
    token: FromPath[str],
    citizen: NamedDependency[Citizen],
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """Where an agent's link leads, once the citizen has signed in (sign-in comes first: the
    link alone opens nothing)."""
    content = read_token(settings.secret(), token)
    if content is None or content.get("c") != citizen.public_id:
        return Template("assisted/link_invalid.html", status_code=410)
    found = await _target(request, db, citizen, str(content.get("t") or ""))
    if found is None:  # sent already, or deleted: their applications list has it
        return Redirect("/applications", status_code=303)
    return Redirect(found[0], status_code=303)


links_for_agents = Router(
    path="/",
    route_handlers=[send_link],
    dependencies={"staff": Provide(require_role("agent")), "found": Provide(found_citizen)},
    exception_handlers={PurposeRequired: search_first},
    include_in_schema=False,
)

links_for_citizens = Router(
    path="/",
    route_handlers=[follow_link],
    dependencies={"citizen": Provide(require_citizen)},
    include_in_schema=False,
)
