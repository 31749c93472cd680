"""The journey pages: one question per page, Back links, check your answers, send.

Every form posts and redirects (post-redirect-get), so a journey works without JavaScript; with
it, htmx swaps the page body in place and checks a field when the citizen leaves it.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.applications.models import Application
from portal.applications.submit import submit_draft
from portal.catalogue import catalogue_of
from portal.catalogue.models import FieldDef, Service, Step
from portal.catalogue.routes import retired_page
from portal.database.engine import READ_ONLY
from portal.design.preview import is_preview, would_send
from portal.forms import engine
from portal.forms.fields import Form, Reading, first, read_field
from portal.forms.models import Draft
from portal.i18n import gettext as _
from portal.i18n import ngettext
from portal.i18n.formatting import format_number
from portal.identity.models import Citizen
from portal.journeys.drafts import (
    applicant,
    assisted,
    open_draft,
    owned_draft,
    save_answers,
    service_of,
)
from portal.journeys.inputs import required_file, resolve_address, store_upload, upload_one
from portal.journeys.pages import check_page, field_fragment, group_page, step_page, stop_page
from portal.payments.routes import pay_for_draft
from portal.payments.upfront import check_notice, live_payment, paid_payment
from portal.settings import Settings
from portal.shared.acting import ACTS_FOR_CITIZEN, acting, record_step
from portal.web.ids import RowId


async def _form(request: Request[Any, Any, Any]) -> Form:
    data = await request.form()
    return {key: data.getall(key) for key in data}


def _to(draft: Draft, step_id: str, back_to_check: bool = False) -> Redirect:
    suffix = "?change=1" if back_to_check and step_id not in (engine.CHECK, engine.STOP) else ""
    return Redirect(f"/drafts/{draft.public_id}/{step_id}{suffix}", status_code=303)


@get("/services/{service_id:str}/apply", name="apply")
async def apply(
    request: Request[Any, Any, Any],
    service_id: FromPath[str],
    citizen: NamedDependency[Citizen],
    db: NamedDependency[AsyncSession],
) -> Redirect | Template:
    """Start the service, or carry on with the draft already started (save and resume)."""
    catalogue = catalogue_of(request)
    service = catalogue.services.get(service_id)
    if service is None and service_id in catalogue.retired:
        return retired_page(catalogue, service_id)
    if service is None:
        raise NotFoundException()
    draft = await open_draft(db, citizen, service, catalogue.number_of(service_id))
    service = service_of(catalogue, draft)  # one started earlier goes on with its version
    if (act := acting(request)) is not None:  # an agent starting or resuming it for them
        assisted(draft, act)
        await db.commit()
        await record_step(
            request, act, "assisted_change", draft=draft.public_id, service=service_id
        )
    first_step = engine.next_to_answer(service, draft.answers)
    if first_step == engine.CHECK or engine.step_before(service, draft.answers, first_step):
        # Resuming: continue where they stopped; a new draft skips what we already know.
        return _to(draft, first_step)
    return _to(draft, engine.step_after(service, draft.answers, "", set(draft.prefilled)))


async def _read_step(
    request: Request[Any, Any, Any],
    step: Step,
    form: Form,
    draft: Draft,
    citizen: Citizen,
    db: AsyncSession,
    settings: Settings,
    searching: bool,
) -> dict[str, Reading]:
    readings: dict[str, Reading] = {}
    for field in step.fields:
        if field.type == "file":
            readings[field.id] = await store_upload(request, field, form, draft, citizen, db)
        elif field.type == "address":
            readings[field.id] = await resolve_address(request, field, form, draft, searching)
        else:
            readings[field.id] = read_field(field, form, region=settings.phone_region)
    return readings


def _searching(step: Step, form: Form) -> bool:
    """'Find address' was pressed. Enter in a hand-typed address also lands on that first
    button: with no search words and an address typed, the citizen meant Continue."""
    if first(form, "action") != "find":
        return False
    return not any(
        not first(form, f"{field.id}-query") and first(form, f"{field.id}-line1")
        for field in step.fields
        if field.type == "address"
    )


@get("/drafts/{draft_id:str}/{step_id:str}", name="journey_step", opt=READ_ONLY)
async def show_step(
    request: Request[Any, Any, Any],
    draft_id: FromPath[str],
    step_id: FromPath[str],
    db: NamedDependency[AsyncSession],
    change: FromQuery[bool] = False,
) -> Response[Any]:
    _citizen, draft = await owned_draft(request, db, draft_id)
    service = service_of(catalogue_of(request), draft)
    if step_id == engine.STOP:
        stopping = engine.stopping_step(service, draft.answers)
        if stopping is None:  # the answer was changed: the journey goes on
            return _to(draft, engine.next_to_answer(service, draft.answers))
        return stop_page(request, service, draft, stopping)
    if step_id == engine.CHECK:
        missing = engine.next_to_answer(service, draft.answers)
        if missing != engine.CHECK:  # nothing is checked before everything is answered
            return _to(draft, missing)
        notice = await check_notice(db, draft, request.query_params.get("payment"))
        return check_page(request, service, draft, citizen=_citizen, notice=notice)
    step = engine.find_step(service, step_id)
    visible = {s.id for s in engine.visible_steps(service, draft.answers)}
    if step is None or step.id not in visible:
        return _to(draft, engine.next_to_answer(service, draft.answers))
    if engine.is_beyond_stop(service, draft.answers, step.id):
        return _to(draft, engine.STOP)
    if step.repeat:
        items = draft.answers.get(step.id) or []
        if not items:
            return Redirect(f"/drafts/{draft.public_id}/{step.id}/1", status_code=303)
        return group_page(request, service, draft, step, change=change)
    return step_page(request, service, draft, step, change=change)


@post("/drafts/{draft_id:str}/{step_id:str}", name="journey_save")
async def save_step(
    request: Request[Any, Any, Any],
    draft_id: FromPath[str],
    step_id: FromPath[str],
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
    change: FromQuery[bool] = False,
) -> Response[Any]:
    citizen, draft = await owned_draft(request, db, draft_id)
    service = service_of(catalogue_of(request), draft)
    step = engine.find_step(service, step_id)
    if step is None:
        raise NotFoundException()
    if engine.is_beyond_stop(service, draft.answers, step.id):
        return _to(draft, engine.STOP)  # the journey ended before this step
    form = await _form(request)
    if step.repeat:
        return await _save_group_choice(request, service, draft, step, form, change)
    if step.fields[0].many_files:
        return await _save_files(request, service, draft, step, form, citizen, db, change)
    searching = _searching(step, form)
    readings = await _read_step(request, step, form, draft, citizen, db, settings, searching)
    errors = {field.id: readings[field.id].error for field in step.fields}
    if searching or any(errors.values()):
        return step_page(
            request, service, draft, step, readings=readings, change=change, searching=searching
        )
    await save_answers(db, draft, {key: reading.value for key, reading in readings.items()})
    return _onwards(service, draft, step, change)


def _onwards(service: Service, draft: Draft, step: Step, change: bool) -> Redirect:
    """After a step is saved: back to the check page when changing an answer, else on."""
    if change:
        return _to(draft, engine.next_to_answer(service, draft.answers), back_to_check=True)
    return _to(draft, engine.step_after(service, draft.answers, step.id, set(draft.prefilled)))


async def _save_files(
    request: Request[Any, Any, Any],
    service: Service,
    draft: Draft,
    step: Step,
    form: Form,
    citizen: Citizen,
    db: AsyncSession,
    change: bool,
) -> Response[Any]:
    """Several documents, one at a time: 'Upload file' adds the chosen one and stays on the
    page (with the list of files so far); 'Continue' adds one if chosen and goes on."""
    field = step.fields[0]
    files = list(draft.answers.get(field.id) or [])
    uploading = first(form, "action") == "upload"

    def again(error: str) -> Response[Any]:
        readings = {field.id: Reading(files, error)}
        return step_page(request, service, draft, step, readings=readings, change=change)

    chosen = any(isinstance(item, UploadFile) and item.filename for item in form.get(field.id, []))
    if chosen and len(files) >= field.max_files:
        return again(_too_many_files(field.max_files))
    reading = await upload_one(request, field, form, citizen, db)
    if reading.error:
        return again(reading.error)
    if reading.value is not None:
        files.append(reading.value)
        await save_answers(db, draft, {field.id: files})
    if uploading:
        if reading.value is None:
            return again(_("Select a file"))
        return _to(draft, step.id, back_to_check=change)
    if not files and field.required:
        return again(required_file(field))
    await save_answers(db, draft, {field.id: files})
    return _onwards(service, draft, step, change)


def _too_many_files(limit: int) -> str:
    return ngettext(
        "You can upload %(count)s file at most. Remove one to add another.",
        "You can upload %(count)s files at most. Remove one to add another.",
        limit,
        count=format_number(limit),
    )


@post(
    "/drafts/{draft_id:str}/{step_id:str}/files/{document:str}/remove", name="journey_file_remove"
)
async def remove_file(
    request: Request[Any, Any, Any],
    draft_id: FromPath[str],
    step_id: FromPath[str],
    document: FromPath[str],
    db: NamedDependency[AsyncSession],
    change: FromQuery[bool] = False,
) -> Redirect:
    """Take one of several documents off the list (the others stay)."""
    _citizen, draft = await owned_draft(request, db, draft_id)
    service = service_of(catalogue_of(request), draft)
    step = engine.find_step(service, step_id)
    if step is None or not step.fields[0].many_files:
        raise NotFoundException()
    if engine.is_beyond_stop(service, draft.answers, step.id):
        return _to(draft, engine.STOP)
    field = step.fields[0]
    files = list(draft.answers.get(field.id) or [])
    kept = [item for item in files if item.get("document") != document]
    if len(kept) != len(files):  # a second click on the same Remove changes nothing
        await save_answers(db, draft, {field.id: kept})
    return _to(draft, step.id, back_to_check=change)


async def _save_group_choice(
    request: Request[Any, Any, Any],
    service: Service,
    draft: Draft,
    step: Step,
    form: Form,
    change: bool,
) -> Response[Any]:
    """The 'add another?' question under the list of items."""
    assert step.repeat is not None
    items = draft.answers.get(step.id) or []
    answer = first(form, "add_another")
    if answer not in ("yes", "no"):
        return group_page(request, service, draft, step, change=change, missing_choice=True)
    if answer == "yes" and len(items) < step.repeat.max_items:
        suffix = "?change=1" if change else ""
        target = f"/drafts/{draft.public_id}/{step.id}/{len(items) + 1}{suffix}"
        return Redirect(target, status_code=303)
    if change:
        return _to(draft, engine.next_to_answer(service, draft.answers), back_to_check=True)
    return _to(draft, engine.step_after(service, draft.answers, step.id, set(draft.prefilled)))


def _group(
    request: Request[Any, Any, Any], draft: Draft, step_id: str, item: int, adding: bool = True
) -> tuple[Service, Step, list[dict[str, Any]]]:
    """The repeated step, and its items so far; 404 unless `item` is one of them (or, when
    `adding`, the next one within the limit)."""
    service = service_of(catalogue_of(request), draft)
    step = engine.find_step(service, step_id)
    if step is None or step.repeat is None:
        raise NotFoundException()
    items = list(draft.answers.get(step.id) or [])
    last = min(len(items) + 1, step.repeat.max_items) if adding else len(items)
    if not 1 <= item <= last:
        raise NotFoundException()
    return service, step, items


@get("/drafts/{draft_id:str}/{step_id:str}/{item:int}", name="journey_item", opt=READ_ONLY)
async def show_item(
    request: Request[Any, Any, Any],
    draft_id: FromPath[str],
    step_id: FromPath[str],
    item: RowId,
    db: NamedDependency[AsyncSession],
    change: FromQuery[bool] = False,
) -> Response[Any]:
    _citizen, draft = await owned_draft(request, db, draft_id)
    service, step, _items = _group(request, draft, step_id, item)
    if engine.is_beyond_stop(service, draft.answers, step.id):
        return _to(draft, engine.STOP)
    return step_page(request, service, draft, step, item=item, change=change)


@post("/drafts/{draft_id:str}/{step_id:str}/{item:int}", name="journey_item_save")
async def save_item(
    request: Request[Any, Any, Any],
    draft_id: FromPath[str],
    step_id: FromPath[str],
    item: RowId,
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
    change: FromQuery[bool] = False,
) -> Response[Any]:
    _citizen, draft = await owned_draft(request, db, draft_id)
    service, step, items = _group(request, draft, step_id, item)
    if engine.is_beyond_stop(service, draft.answers, step.id):
        return _to(draft, engine.STOP)
    form = await _form(request)
    readings = {f.id: read_field(f, form, region=settings.phone_region) for f in step.fields}
    if any(reading.error for reading in readings.values()):
        return step_page(request, service, draft, step, readings=readings, item=item, change=change)
    values = {key: reading.value for key, reading in readings.items()}
    if item > len(items):
        items.append(values)
    else:
        items[item - 1] = values
    await save_answers(db, draft, {step.id: items})
    suffix = "?change=1" if change else ""
    return Redirect(f"/drafts/{draft.public_id}/{step.id}{suffix}", status_code=303)


@post("/drafts/{draft_id:str}/{step_id:str}/{item:int}/remove", name="journey_item_remove")
async def remove_item(
    request: Request[Any, Any, Any],
    draft_id: FromPath[str],
    step_id: FromPath[str],
    item: RowId,
    db: NamedDependency[AsyncSession],
    change: FromQuery[bool] = False,
) -> Redirect:
    _citizen, draft = await owned_draft(request, db, draft_id)
    _, step, items = _group(request, draft, step_id, item, adding=False)
    del items[item - 1]
    await save_answers(db, draft, {step.id: items})
    suffix = "?change=1" if change else ""
    return Redirect(f"/drafts/{draft.public_id}/{step.id}{suffix}", status_code=303)


@post("/drafts/{draft_id:str}/check-field", name="journey_check_field")
async def check_field(
    request: Request[Any, Any, Any],
    draft_id: FromPath[str],
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """htmx: check one typed answer when the citizen leaves the field (nothing is saved).

    A right answer where no error shows needs no change: 204, and htmx swaps nothing, so the
    page does not move while the citizen reaches for Continue."""
    _citizen, draft = await owned_draft(request, db, draft_id)
    service = service_of(catalogue_of(request), draft)
    form = await _form(request)
    field: FieldDef | None = service.fields().get(first(form, "field"))
    if field is None or field.type not in ("text", "textarea", "email", "phone", "number", "money"):
        raise NotFoundException()
    reading = read_field(field, form, region=settings.phone_region)
    if not first(form, field.id):
        reading.error = None  # an empty field is flagged when the page is sent, not on leaving
    if reading.error is None and not first(form, "shown"):
        return Response(content=None, status_code=204)
    return field_fragment(request, service, draft, field, reading)


@get("/drafts/{draft_id:str}/delete", name="journey_confirm_delete", opt=READ_ONLY)
async def confirm_delete(
    request: Request[Any, Any, Any],
    draft_id: FromPath[str],
    db: NamedDependency[AsyncSession],
) -> Template:
    """Ask before throwing answers away: a link followed by mistake (or by a prefetch) deletes
    nothing; only the form's POST does."""
    _citizen, draft = await owned_draft(request, db, draft_id)
    service = service_of(catalogue_of(request), draft)
    return Template("journeys/delete.html", context={"draft": draft, "service": service})


@post("/drafts/{draft_id:str}/delete", name="journey_delete")
async def delete_draft(
    request: Request[Any, Any, Any],
    draft_id: FromPath[str],
    db: NamedDependency[AsyncSession],
) -> Redirect:
    """Throw away answers not sent yet, once the citizen has confirmed it."""
    _citizen, draft = await owned_draft(request, db, draft_id)
    if live := await live_payment(db, draft) or await paid_payment(db, draft):
        # Its fee is being paid or was paid: the draft is sent, never thrown away.
        return Redirect(f"/payments/{live.public_id}", status_code=303)
    await db.delete(draft)
    await db.commit()
    return Redirect("/applications", status_code=303)


@post("/drafts/{draft_id:str}/submit", name="journey_submit")
async def submit(
    request: Request[Any, Any, Any],
    draft_id: FromPath[str],
    citizen: NamedDependency[Citizen],
    db: NamedDependency[AsyncSession],
) -> Response[Any]:
    """Send the application. A second click, a refresh or a resubmit finds the same one."""
    try:
        _citizen, draft = await owned_draft(request, db, draft_id)
    except NotFoundException:
        return _sent(request, citizen, await _already_sent(db, citizen, draft_id))
    service = service_of(catalogue_of(request), draft)
    missing = engine.next_to_answer(service, draft.answers)
    if missing != engine.CHECK:
        return _to(draft, missing)
    if is_preview(citizen):  # a designer's preview: show what would be sent, send nothing
        return would_send(request, service, draft)
    if service.fee is not None:
        if acting(request) is not None:  # the citizen pays themselves (an agent sends a link)
            return _to(draft, engine.CHECK)
        return await pay_for_draft(
            request, db, citizen, service, draft, lambda ref: _sent(request, citizen, ref)
        )
    reference = await submit_draft(request, db, citizen, service, draft)
    return _sent(request, citizen, reference)


def _sent(request: Request[Any, Any, Any], citizen: Citizen, reference: str) -> Redirect:
    """The confirmation: the citizen's own, or, for an agent, back on the staff side (the
    citizen's pages stay theirs)."""
    if acting(request) is not None:
        target = f"/staff/citizens/{citizen.public_id}/act?sent={reference}"
        return Redirect(target, status_code=303)
    return Redirect(f"/applications/{reference}/confirmation", status_code=303)


async def _already_sent(db: AsyncSession, citizen: Citizen, draft_id: str) -> str:
    reference = await db.scalar(
        select(Application.reference)
        .join(Draft, Draft.id == Application.draft_id)
        .where(Draft.public_id == draft_id, Application.citizen_id == citizen.id)
    )
    if reference is None:
        raise NotFoundException()
    return reference


journeys = Router(
    path="/",
    route_handlers=[
        apply,
        show_step,
        save_step,
        show_item,
        save_item,
        remove_item,
        remove_file,
        check_field,
        confirm_delete,
        delete_draft,
        submit,
    ],
    dependencies={"citizen": Provide(applicant)},
    opt={ACTS_FOR_CITIZEN: True},  # an agent acting for the citizen sees the banner here
    include_in_schema=False,
)
