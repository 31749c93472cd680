"""Drafts: starting one (prefilled from the citizen's details), finding it for its owner only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.catalogue.loader import Catalogue
from portal.catalogue.models import Service
from portal.forms.models import Draft
from portal.identity.models import Citizen
from portal.identity.service import citizen_and_own, require_citizen
from portal.shared.acting import Acting, acting, record_step


async def applicant(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Citizen:
    """Dependency: whose journeys these are: the citizen signed in, or the one the signed-in
    agent acts for with their consent."""
    if (act := acting(request)) is not None:
        citizen = await db.get(Citizen, act.citizen_id)
        if citizen is not None:
            return citizen
    return await require_citizen(request, db)


async def owned_draft(
    request: Request[Any, Any, Any], db: AsyncSession, public_id: str
) -> tuple[Citizen, Draft]:
    """The signed-in citizen and their draft still in progress, read in one query; anyone
    else's, or a sent one, is 'not found' (a 404 says nothing about whether it exists).

    An agent acting for a citizen reaches that citizen's drafts only; every change they send
    marks the draft as assisted and is recorded as "agent X for citizen Y"."""
    act = acting(request)
    if act is None:
        return await citizen_and_own(
            request, db, Draft, Draft.public_id == public_id, Draft.submitted_at.is_(None)
        )
    draft = await db.scalar(
        select(Draft).where(
            Draft.public_id == public_id,
            Draft.citizen_id == act.citizen_id,
            Draft.submitted_at.is_(None),
        )
    )
    citizen = await db.get(Citizen, act.citizen_id)
    if draft is None or citizen is None:
        raise NotFoundException()
    if request.method == "POST" and not request.url.path.endswith("/check-field"):
        assisted(draft, act)
        await record_step(request, act, "assisted_change", draft=public_id, page=request.url.path)
    return citizen, draft


def assisted(draft: Draft, act: Acting) -> None:
    """Mark the draft as filled in by this agent (saved with the step)."""
    draft.assisted_by, draft.assisted_name = act.member.actor, act.member.name


def service_of(catalogue: Catalogue, draft: Draft) -> Service:
    """The version of the service the draft started with (published since or not, retired or
    not): its pages, answers and departments stay the ones the citizen began."""
    service = catalogue.version(draft.service_id, draft.service_version)
    if service is None:  # a definition removed while drafts of it remained
        raise NotFoundException()
    return service


def _profile_value(citizen: Citizen, key: str) -> Any:
    if key == "address":
        return {"label": citizen.address, "manual": True, "line1": citizen.address}
    return getattr(citizen, key)


def prefill(service: Service, citizen: Citizen) -> tuple[dict[str, Any], list[str]]:
    """Answers we already know (tell us once), only when the citizen agreed to reuse them."""
    if not citizen.reuse_consent:
        return {}, []
    answers: dict[str, Any] = {}
    for step in service.steps:
        if step.repeat:
            continue
        for field in step.fields:
            if field.prefill and getattr(citizen, field.prefill):
                answers[field.id] = _profile_value(citizen, field.prefill)
    return answers, list(answers)


async def open_draft(
    db: AsyncSession, citizen: Citizen, service: Service, version: int | None = None
) -> Draft:
    """The draft the citizen left for this service, or a new one on `version` (the one served)."""
    draft = await db.scalar(
        select(Draft)
        .where(
            Draft.citizen_id == citizen.id,
            Draft.service_id == service.id,
            Draft.submitted_at.is_(None),
        )
        .order_by(Draft.updated_at.desc())
        .limit(1)
    )
    if draft is None:
        answers, prefilled = prefill(service, citizen)
        draft = Draft(
            citizen_id=citizen.id,
            service_id=service.id,
            service_version=version,
            answers=answers,
            prefilled=prefilled,
        )
        db.add(draft)
        await db.commit()
    return draft


async def save_answers(db: AsyncSession, draft: Draft, changes: dict[str, Any]) -> None:
    """Merge one step's answers into the draft and commit (save after every step)."""
    draft.answers = {**draft.answers, **changes}
    # A changed detail is the citizen's answer now, not one taken from their account.
    draft.prefilled = [key for key in draft.prefilled if key not in changes]
    draft.updated_at = datetime.now(UTC)
    await db.commit()
