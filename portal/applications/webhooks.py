"""Departments push status changes here, signed with the shared secret (CONTRACTS.md §1).

A bad or stale signature gets 401 and changes nothing; a repeated event is recorded once.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend_clients.departments import HEADER, StatusWebhook, verify
from portal.applications.models import DepartmentRequest
from portal.applications.tracking import record
from portal.catalogue import catalogue_of
from portal.contracts.department import event_news
from portal.settings import Settings

log = structlog.get_logger()


@post("/webhooks/departments/{department:str}", name="department_webhook", status_code=200)
async def department_webhook(
    request: Request[Any, Any, Any],
    department: FromPath[str],
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
) -> Response[dict[str, Any]]:
    """Record one status event from a department."""
    body = await request.body()
    secret = settings.webhook_secret.get_secret_value().encode()
    header = request.headers.get(HEADER, "")
    if not verify(secret, header, body, time.time(), tolerance=settings.webhook_tolerance_seconds):
        log.warning("webhook_refused", department=department, reason="signature")
        return Response({"error": "bad signature"}, status_code=401)
    try:
        event = StatusWebhook.model_validate_json(body)
    except ValidationError:
        return Response({"error": "not a status event"}, status_code=422)
    if event.department != department:
        return Response({"error": "wrong department"}, status_code=422)
    department_request = await db.scalar(
        select(DepartmentRequest).where(
            DepartmentRequest.public_id == event.client_reference,
            DepartmentRequest.department == department,
        )
    )
    if department_request is None:
        return Response({"error": "unknown case"}, status_code=404)
    if department_request.case_id is None:
        department_request.case_id = event.case_id  # the push overtook the create answer
    elif department_request.case_id != event.case_id:
        return Response({"error": "not this case"}, status_code=422)
    certifies = catalogue_of(request).certifies(department)
    added = await record(db, department_request, event_news([event], department), certifies)
    return Response({"recorded": added})
