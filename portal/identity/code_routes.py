"""Sign in with a one-time code sent by SMS or email."""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditLog
from portal.i18n import current_locale
from portal.i18n import gettext as _
from portal.identity.codes import (
    CODE_MINUTES,
    CodeNotSent,
    Destination,
    SignInCodes,
    TooManyAttempts,
    parse_destination,
)
from portal.identity.service import sign_in
from portal.settings import Settings
from portal.web.context import current_client_ip
from portal.web.urls import safe_next

PENDING = "code_pending"
ISSUER = "urn:frontdoor:one-time-code"
_SIX_DIGITS = re.compile(r"^\d{6}$")


class ContactForm(BaseModel):
    contact: str = Field(default="", max_length=400)


class CodeForm(BaseModel):
    code: str = Field(default="", max_length=40)


def _request_page(
    value: str = "", error: str | None = None, status: int = 200, next_page: str = "/account"
) -> Template:
    context = {"value": value, "error": error, "next": next_page}
    return Template("identity/code_request.html", context=context, status_code=status)


def _check_page(
    destination: Destination, next_page: str, error: str | None = None, status: int = 200
) -> Template:
    context = {
        "shown": destination.shown,
        "channel": destination.channel,
        "error": error,
        "next": next_page,
        "minutes": CODE_MINUTES,
    }
    return Template("identity/code_check.html", context=context, status_code=status)


def _pending(request: Request[Any, Any, Any]) -> tuple[Destination, str] | None:
    pending = request.session.get(PENDING)
    if not pending:
        return None
    return Destination(pending["channel"], pending["address"]), pending["next"]


@get("/sign-in/code", name="sign_in_code")
async def ask_for_contact(next: FromQuery[str] = "/account") -> Template:
    return _request_page(next_page=safe_next(next))


@post("/sign-in/code", name="send_sign_in_code")
async def send_code(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    sign_in_codes: NamedDependency[SignInCodes],
    data: Annotated[ContactForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    next: FromQuery[str] = "/account",
) -> Response[Any]:
    next_page = safe_next(next)
    destination = parse_destination(data.contact, settings.phone_region)
    if destination is None:
        message = _(
            "Enter a mobile phone number, like +34 600 111 222, "
            "or an email address, like name@example.org"
        )
        return _request_page(data.contact, message, 400, next_page)
    try:
        await sign_in_codes.send(destination, current_client_ip())
    except TooManyAttempts as limit:
        message = _(
            "You have asked for too many codes. Wait %(minutes)s minutes, then try again.",
            minutes=limit.minutes,
        )
        return _request_page(data.contact, message, 429, next_page)
    except CodeNotSent:
        return _request_page(
            data.contact, _("We could not send the code. Try again later."), 503, next_page
        )
    pending = {"channel": destination.channel, "address": destination.address, "next": next_page}
    request.set_session({**request.session, PENDING: pending})
    return Redirect("/sign-in/code/check", status_code=303)


@get("/sign-in/code/check", name="check_sign_in_code")
async def ask_for_code(request: Request[Any, Any, Any]) -> Response[Any]:
    pending = _pending(request)
    if pending is None:
        return Redirect("/sign-in/code", status_code=303)
    return _check_page(*pending)


@post("/sign-in/code/check", name="use_sign_in_code")
async def use_code(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncSession],
    audit: NamedDependency[AuditLog],
    sign_in_codes: NamedDependency[SignInCodes],
    data: Annotated[CodeForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    pending = _pending(request)
    if pending is None:
        return Redirect("/sign-in/code", status_code=303)
    destination, next_page = pending
    code = re.sub(r"[\s-]", "", data.code)
    if not _SIX_DIGITS.match(code):
        return _check_page(destination, next_page, _("Enter the 6-digit code we sent you"), 400)
    try:
        accepted = await sign_in_codes.check(destination, code, current_client_ip())
    except TooManyAttempts as limit:
        message = _(
            "Too many wrong codes. Wait %(minutes)s minutes, then ask for a new code.",
            minutes=limit.minutes,
        )
        return _check_page(destination, next_page, message, 429)
    if not accepted:
        message = _("That code is not right, or it has expired. Check it, or ask for a new code.")
        return _check_page(destination, next_page, message, 400)
    contact = "phone_number" if destination.channel == "sms" else "email"
    claims = {
        "iss": ISSUER,
        "sub": f"{destination.channel}:{destination.address}",
        contact: destination.address,
        "locale": current_locale(),
    }
    request.set_session({key: value for key, value in request.session.items() if key != PENDING})
    await sign_in(request, db, audit, claims, id_token="", method="one_time_code")
    return Redirect(next_page, status_code=303)


code_routes = [ask_for_contact, send_code, ask_for_code, use_code]
