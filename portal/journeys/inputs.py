"""The two answers that need a backend: an address found with the geocoder, and a file kept by
the document service. A backend that fails never loses the page: the citizen is told what to do
(enter the address by hand, try the upload again)."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request
from litestar.datastructures import UploadFile
from sqlalchemy.ext.asyncio import AsyncSession

from backend_clients.http import BackendError, BackendRejected
from portal.applications.documents import keep_document
from portal.catalogue.models import FieldDef
from portal.forms.fields import (
    Form,
    Reading,
    address_answer,
    check_upload,
    clean_filename,
    first,
    read_field,
)
from portal.forms.models import Draft
from portal.i18n import gettext as _
from portal.identity.models import Citizen
from portal.shared.backends import backends_of

log = structlog.get_logger()


async def resolve_address(
    request: Request[Any, Any, Any], field: FieldDef, form: Form, draft: Draft, searching: bool
) -> Reading:
    """A search, a chosen search result, a typed address, or the one saved before."""
    geocoder = backends_of(request).geocoder
    query = first(form, f"{field.id}-query")
    if searching:
        raw: dict[str, Any] = {"query": query, "results": []}
        if len(query) < 2:
            return Reading(None, _("Enter a street name, building number or postcode"), raw)
        try:
            found = await geocoder.search(query, limit=10)
        except BackendError as error:
            log.warning("geocoder_failed", error=str(error))
            raw["lookup_failed"] = True
            return Reading(None, None, raw)
        raw["results"] = [{"id": item.id, "label": item.label} for item in found]
        return Reading(None, None, raw)
    choice = first(form, f"{field.id}-choice")
    if choice:
        try:
            address = await geocoder.address(choice)
        except BackendRejected:
            return Reading(None, _("Select an address from the list"), {"query": query})
        except BackendError:
            message = _("We could not check that address. Try again, or enter it yourself.")
            return Reading(None, message, {"query": query})
        return Reading(address_answer(address), None, {"query": query})
    typed = read_field(field, form)
    existing = draft.answers.get(field.id)
    if typed.value is None and typed.error and existing and first(form, f"{field.id}-keep"):
        return Reading(existing, None, typed.raw)
    return typed


async def upload_one(
    request: Request[Any, Any, Any],
    field: FieldDef,
    form: Form,
    citizen: Citizen,
    db: AsyncSession,
) -> Reading:
    """The file chosen in the form, checked (real type from its bytes, size) and kept in the
    document service; no value and no error when none was chosen."""
    upload = next((item for item in form.get(field.id, []) if isinstance(item, UploadFile)), None)
    if upload is None or not upload.filename:
        return Reading(None)
    content = await upload.read()
    filename = clean_filename(upload.filename)
    problem = check_upload(field, filename, content)
    if problem:
        return Reading(None, problem)
    try:
        document = await keep_document(
            backends_of(request).documents, db, citizen.id, filename, content
        )
    except BackendError as error:
        log.warning("document_upload_failed", error=str(error))
        return Reading(None, _("The file could not be uploaded. Try again."))
    value = {
        "document": document.public_id,
        "filename": filename,
        "content_type": document.content_type,
        "size": document.size,
    }
    return Reading(value)


def required_file(field: FieldDef) -> str:
    """What to say when a document is needed and none was given."""
    return _(field.errors.required) if field.errors.required else _("Select a file")


async def store_upload(
    request: Request[Any, Any, Any],
    field: FieldDef,
    form: Form,
    draft: Draft,
    citizen: Citizen,
    db: AsyncSession,
) -> Reading:
    """One document: the new file, else the one given before (kept unless replaced)."""
    reading = await upload_one(request, field, form, citizen, db)
    if reading.value is not None or reading.error:
        return reading
    existing = draft.answers.get(field.id)
    if existing:
        return Reading(existing)
    if not field.required:
        return Reading(None)
    return Reading(None, required_file(field))
