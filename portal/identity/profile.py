"""The citizen's own details: see and change them, ask for deletion (the download of
everything is portal/mydata, which reads every feature's tables).

Every route works on the signed-in citizen from the session; no URL names a citizen, so no one
can reach another person's details by changing an address.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditLog
from portal.i18n import gettext as _
from portal.i18n.locale import languages
from portal.identity.codes import parse_destination
from portal.identity.models import Citizen
from portal.identity.service import sign_out
from portal.settings import Settings
from portal.web.cookies import language_cookie

CHANNELS = ("sms", "whatsapp", "email")
FIELDS = ("name", "email", "phone", "address", "language", "channel")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ProfileForm(BaseModel):
    name: str = Field(default="", max_length=400)
    email: str = Field(default="", max_length=400)
    phone: str = Field(default="", max_length=100)
    address: str = Field(default="", max_length=1000)
    language: str = Field(default="", max_length=8)
    channel: str = Field(default="", max_length=16)
    consent: str = Field(default="", max_length=8)


def _values(citizen: Citizen) -> dict[str, Any]:
    return {
        "name": citizen.name,
        "email": citizen.email or "",
        "phone": citizen.phone or "",
        "address": citizen.address or "",
        "language": citizen.language,
        "channel": citizen.preferred_channel or "",
        "consent": "yes" if citizen.reuse_consent else "",
    }


def _check(form: ProfileForm, region: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean values and, per field, what is wrong (in the citizen's language)."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {"name": form.name.strip(), "address": form.address.strip() or None}
    if not clean["name"]:
        errors["name"] = _("Enter your name")
    elif len(clean["name"]) > 200:
        errors["name"] = _("Name must be 200 characters or fewer")
    email = form.email.strip().lower()
    if email and not _EMAIL.match(email):
        errors["email"] = _("Enter an email address in the correct format, like name@example.org")
    clean["email"] = email or None
    phone = parse_destination(form.phone, region) if form.phone.strip() else None
    if form.phone.strip() and phone is None:
        errors["phone"] = _("Enter a phone number, like +34 600 111 222")
    clean["phone"] = phone.address if phone else None
    if clean["address"] and len(clean["address"]) > 500:
        errors["address"] = _("Address must be 500 characters or fewer")
    if form.language not in languages():
        errors["language"] = _("Select the language we should use")
    clean["language"] = form.language
    channel = form.channel or None
    if channel not in (None, *CHANNELS):
        errors["channel"] = _("Select how we should send you updates")
    elif channel in {"sms", "whatsapp"} and not clean["phone"] and "phone" not in errors:
        errors["channel"] = _("Enter a phone number to get updates by text message or WhatsApp")
    elif channel == "email" and not clean["email"] and "email" not in errors:
        errors["channel"] = _("Enter an email address to get updates by email")
    clean["channel"] = channel
    clean["consent"] = form.consent == "yes"
    return clean, errors


@get("/account/profile", name="profile")
async def profile_form(citizen: NamedDependency[Citizen]) -> Template:
    return Template("identity/profile.html", context={"values": _values(citizen), "errors": {}})


@post("/account/profile", name="save_profile")
async def save_profile(
    request: Request[Any, Any, Any],
    citizen: NamedDependency[Citizen],
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
    audit: NamedDependency[AuditLog],
    data: Annotated[ProfileForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    clean, errors = _check(data, settings.phone_region)
    if errors:
        context = {"values": data.model_dump(), "errors": errors}
        return Template("identity/profile.html", context=context, status_code=400)
    before = _values(citizen)
    citizen.name, citizen.email, citizen.phone = clean["name"], clean["email"], clean["phone"]
    citizen.address, citizen.language = clean["address"], clean["language"]
    citizen.preferred_channel, citizen.reuse_consent = clean["channel"], clean["consent"]
    await db.commit()
    changed = sorted(name for name, value in _values(citizen).items() if before[name] != value)
    actor = f"citizen:{citizen.id}"
    await audit.record("profile_changed", actor=actor, subject=actor, fields=changed)
    # The language chosen for updates is also the one the site speaks from now on.
    cookie = language_cookie(citizen.language, settings.cookies_secure)
    return Redirect("/account", status_code=303, cookies=[cookie])


@get("/account/delete", name="delete_account")
async def confirm_deletion(citizen: NamedDependency[Citizen]) -> Template:
    return Template("identity/delete.html", context={"citizen": citizen})


@post("/account/delete", name="request_deletion")
async def request_deletion(
    request: Request[Any, Any, Any],
    citizen: NamedDependency[Citizen],
    db: NamedDependency[AsyncSession],
    audit: NamedDependency[AuditLog],
) -> Response[Any]:
    """Record the request and sign out everywhere; the records team carries it out."""
    citizen.deletion_requested_at = datetime.now(UTC)
    await db.commit()
    actor = f"citizen:{citizen.id}"
    await audit.record("deletion_requested", actor=actor, subject=actor)
    await sign_out(request, db, audit, citizen, everywhere=True)
    return Redirect("/account/deletion-requested", status_code=303)


@get("/account/deletion-requested", name="deletion_requested")
async def deletion_requested() -> Template:
    return Template("identity/deletion_requested.html")


profile_routes = [
    profile_form,
    save_profile,
    confirm_deletion,
    request_deletion,
    deletion_requested,
]
