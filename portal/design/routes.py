"""The designers' area (staff role `designer`): every service with its state and versions, the
definition editor with every problem at once and its line, the outline, and four eyes: one
designer submits a version for review, another publishes it. Every step is in the audit log
(portal.design.store records it)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from portal.catalogue import catalogue_of
from portal.design import store
from portal.design.checking import Problem, check
from portal.design.master_data import MasterDataError, fields_from, refresh
from portal.design.models import ServiceVersion
from portal.design.outline import outline
from portal.design.preview import end_preview, start_preview
from portal.i18n import gettext as _
from portal.i18n.locale import languages, native_name
from portal.settings import Settings
from portal.shared.digit import digit_client
from portal.staff.service import StaffMember, require_role, staff_names
from portal.web.ids import RowId

# A new service from nothing: the smallest definition that passes, for the designer to grow.
BLANK = """id: {id}
topic: help
title: Name of the service
summary: One sentence saying what the citizen can do.
duration: How long it takes
cost: What it costs
declaration: I confirm that the information I have given is correct.
what_happens_next: What happens after the citizen sends the application.
steps:
  - id: first-question
    fields:
      - id: first_answer
        type: text
        label: The first question
deliver_to:
  - department: tax
"""


class SourceForm(BaseModel):
    source: str = ""
    action: str = "save"  # save | submit


class NewServiceForm(BaseModel):
    new_id: str = ""
    clone_from: str = ""  # empty: start from a blank definition


class ImportForm(BaseModel):
    source: str = ""


class FallbackForm(BaseModel):
    languages: list[str] = []


Form = Body(media_type=RequestEncodingType.URL_ENCODED)


async def _version(db: AsyncSession, service_id: str, number: int) -> ServiceVersion:
    found = await store.version(db, service_id, number)
    if found is None:
        raise NotFoundException()
    return found


def _audit(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.audit


@get("/", name="design_overview")
async def overview(
    db: NamedDependency[AsyncSession], staff: NamedDependency[StaffMember]
) -> Template:
    rows = await store.overview(db)
    names = await staff_names(db, [row.updated_by for row in rows])
    return Template(
        "design/index.html", context={"rows": rows, "names": names, "errors": {}, "staff": staff}
    )


@post("/", name="design_create")
async def create_service(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffMember],
    data: Annotated[NewServiceForm, Form],
) -> Response[Any]:
    """A new service, as a clone of one or from the blank definition: its version 1, a draft."""
    new_id = data.new_id.strip()
    audit = _audit(request)
    try:
        if not store.valid_id(new_id):
            raise store.DesignError(
                _("Enter an id of lowercase letters, digits and hyphens, starting with a letter")
            )
        if data.clone_from:
            version = await store.clone(db, data.clone_from, new_id, staff.actor, audit=audit)
        else:
            version = await store.create(db, BLANK.format(id=new_id), staff.actor, audit=audit)
    except store.DesignError as error:
        rows = await store.overview(db)
        names = await staff_names(db, [row.updated_by for row in rows])
        context = {
            "rows": rows,
            "names": names,
            "errors": {"new_id": str(error)},
            "form": data,
            "staff": staff,
        }
        return Template("design/index.html", context=context, status_code=400)
    return Redirect(_editor(version), status_code=303)


@get("/import", name="design_import_form")
async def import_form(staff: NamedDependency[StaffMember]) -> Template:
    return Template("design/import.html", context={"errors": [], "source": "", "staff": staff})


@post("/import", name="design_import")
async def import_definition(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffMember],
    data: Annotated[ImportForm, Form],
) -> Response[Any]:
    """A definition kept elsewhere (git): a new service, or the next draft of one."""
    try:
        version = await store.import_yaml(db, data.source, staff.actor, audit=_audit(request))
    except store.DesignError as error:
        context = {"errors": [str(error)], "source": data.source, "staff": staff}
        return Template("design/import.html", context=context, status_code=400)
    return Redirect(_editor(version), status_code=303)


def _editor(version: ServiceVersion) -> str:
    return f"/staff/services/{version.service_id}/versions/{version.number}"


@get("/{service_id:str}", name="design_service")
async def service_page(
    service_id: FromPath[str],
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffMember],
) -> Template:
    record = await store.record_of(db, service_id)
    if record is None:
        raise NotFoundException()
    versions = await store.versions(db, service_id)
    history = await store.history(db, service_id)
    actors = [v.author for v in versions] + [v.published_by or "" for v in versions]
    names = await staff_names(db, [*actors, *(event.actor for event in history)])
    context = {
        "record": record,
        "service_id": service_id,
        "versions": versions,
        "history": history,
        "names": names,
        "state": store.service_state(record, versions),
        "from_digit": bool(versions and fields_from(versions[0].source)),
        "staff": staff,
    }
    return Template("design/service.html", context=context)


async def _master_data_context(
    db: AsyncSession, service_id: str, staff: StaffMember
) -> dict[str, Any]:
    record = await store.record_of(db, service_id)
    if record is None:
        raise NotFoundException()
    versions = await store.versions(db, service_id)
    return {
        "service_id": service_id,
        "fields": fields_from(versions[0].source) if versions else [],
        "state": store.service_state(record, versions),
        "refreshed": None,
        "error": None,
        "staff": staff,
    }


@get("/{service_id:str}/master-data", name="design_master_data")
async def master_data(
    service_id: FromPath[str],
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffMember],
) -> Template:
    """The questions that take their options from DIGIT, and the button that refreshes them."""
    context = await _master_data_context(db, service_id, staff)
    return Template("design/master_data.html", context=context)


@post("/{service_id:str}/master-data", name="design_refresh_master_data")
async def refresh_master_data(
    request: Request[Any, Any, Any],
    service_id: FromPath[str],
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffMember],
    settings: NamedDependency[Settings],
) -> Template:
    """DIGIT's options written into a draft (reviewed and published like any other), with what
    changed; DIGIT down or answering badly: why, and nothing written."""
    context = await _master_data_context(db, service_id, staff)
    if context["state"] == "retired":
        context["error"] = _("This service is retired: it cannot have new versions")
        return Template("design/master_data.html", context=context, status_code=409)
    if not context["fields"]:
        return Template("design/master_data.html", context=context, status_code=400)
    try:
        async with digit_client(settings) as client:
            done = await refresh(db, service_id, staff.actor, client, audit=_audit(request))
    except (MasterDataError, store.DesignError) as error:
        context["error"] = str(error)
        return Template("design/master_data.html", context=context, status_code=502)
    context["refreshed"] = done
    return Template("design/master_data.html", context=context)


@post("/{service_id:str}/versions", name="design_new_version")
async def new_version(
    request: Request[Any, Any, Any],
    service_id: FromPath[str],
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffMember],
) -> Redirect:
    try:
        version = await store.new_draft(db, service_id, staff.actor, audit=_audit(request))
    except store.DesignError:
        raise NotFoundException() from None
    return Redirect(_editor(version), status_code=303)


@post("/{service_id:str}/versions/{number:int}/restore", name="design_restore")
async def restore(
    request: Request[Any, Any, Any],
    service_id: FromPath[str],
    number: RowId,
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffMember],
) -> Redirect:
    """Rolling back: an earlier version's text becomes a draft, reviewed like any other."""
    await _version(db, service_id, number)
    version = await store.restore(db, service_id, number, staff.actor, audit=_audit(request))
    return Redirect(_editor(version), status_code=303)


def _editor_page(
    request: Request[Any, Any, Any],
    staff: StaffMember,
    version: ServiceVersion,
    source: str,
    problems: tuple[Problem, ...],
    refused: list[str] | None = None,
    status_code: int = 200,
    saved: bool = False,
) -> Template:
    catalogue = catalogue_of(request)
    checked = check(source, catalogue)
    parts = outline(checked.service, source) if checked.service else []
    context = {
        "version": version,
        "source": source,
        "problems": problems,
        "refused": refused or [],
        "outline": parts,
        "lines": source.splitlines(),
        "editable": version.state in store.OPEN,
        "own": staff.actor in (version.author, version.submitted_by, version.updated_by),
        "languages": [(code, native_name(code)) for code in languages() if code != "en"],
        "saved": saved,
        "staff": staff,
    }
    return Template("design/editor.html", context=context, status_code=status_code)


@get("/{service_id:str}/versions/{number:int}", name="design_editor")
async def editor(
    request: Request[Any, Any, Any],
    service_id: FromPath[str],
    number: RowId,
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffMember],
) -> Template:
    version = await _version(db, service_id, number)
    problems = check(version.source, catalogue_of(request)).problems
    return _editor_page(request, staff, version, version.source, problems)


@post("/{service_id:str}/versions/{number:int}", name="design_save")
async def save(
    request: Request[Any, Any, Any],
    service_id: FromPath[str],
    number: RowId,
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffMember],
    data: Annotated[SourceForm, Form],
) -> Response[Any]:
    """Save the text as typed, even with problems (nothing typed is lost); submitting for
    review is refused while there is any."""
    version = await _version(db, service_id, number)
    source = data.source.replace("\r\n", "\n")
    catalogue = catalogue_of(request)
    try:
        result = await store.save(db, version, source, staff.actor, catalogue)
        if data.action == "submit" and not result.problems:
            result = await store.submit_for_review(
                db, version, staff.actor, catalogue, audit=_audit(request)
            )
    except store.DesignError as error:
        problems = check(source, catalogue).problems
        page = _editor_page(request, staff, version, source, problems, [str(error)], 400)
        return page
    if result.problems:
        return _editor_page(request, staff, version, source, result.problems, status_code=400)
    return Redirect(f"{_editor(version)}?saved=1", status_code=303)


@post("/{service_id:str}/versions/{number:int}/check", name="design_check")
async def check_typed(
    request: Request[Any, Any, Any],
    service_id: FromPath[str],
    number: RowId,
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffMember],
    data: Annotated[SourceForm, Form],
) -> Template:
    """htmx: the problems of the text as it is being typed (nothing is saved)."""
    await _version(db, service_id, number)
    problems = check(data.source.replace("\r\n", "\n"), catalogue_of(request)).problems
    return Template("design/problems.html", context={"problems": problems, "live": True})


@post("/{service_id:str}/versions/{number:int}/publish", name="design_publish")
async def publish(
    request: Request[Any, Any, Any],
    service_id: FromPath[str],
    number: RowId,
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffMember],
) -> Response[Any]:
    """Four eyes: only a designer who did not write or submit it makes it live."""
    version = await _version(db, service_id, number)
    catalogue = catalogue_of(request)
    refused = await store.publish(db, version, staff.actor, catalogue, audit=_audit(request))
    if refused:
        problems = check(version.source, catalogue).problems
        return _editor_page(request, staff, version, version.source, problems, refused, 400)
    return Redirect(f"/staff/services/{service_id}", status_code=303)


@post("/{service_id:str}/versions/{number:int}/fallback", name="design_fallback")
async def fallback(
    request: Request[Any, Any, Any],
    service_id: FromPath[str],
    number: RowId,
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffMember],
    data: Annotated[FallbackForm, Form],
) -> Response[Any]:
    """The languages this version may be shown in English in, until translated."""
    version = await _version(db, service_id, number)
    chosen = [code for code in data.languages if code in languages() and code != "en"]
    try:
        await store.set_fallback(db, version, chosen, staff.actor, audit=_audit(request))
    except store.DesignError as error:
        problems = check(version.source, catalogue_of(request)).problems
        return _editor_page(request, staff, version, version.source, problems, [str(error)], 400)
    return Redirect(_editor(version), status_code=303)


@get("/{service_id:str}/versions/{number:int}/export", name="design_export")
async def export(
    service_id: FromPath[str],
    number: RowId,
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffMember],
) -> Response[str]:
    """The definition exactly as written, to keep in git."""
    version = await _version(db, service_id, number)
    name = f"{service_id}-v{number}.yaml"
    return Response(
        store.export_yaml(version),
        media_type="application/yaml; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@get("/{service_id:str}/retire", name="design_confirm_retire")
async def confirm_retire(
    service_id: FromPath[str],
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffMember],
) -> Template:
    if await store.record_of(db, service_id) is None:
        raise NotFoundException()
    return Template("design/retire.html", context={"service_id": service_id, "staff": staff})


@post("/{service_id:str}/retire", name="design_retire")
async def retire(
    request: Request[Any, Any, Any],
    service_id: FromPath[str],
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffMember],
) -> Redirect:
    """Off the catalogue and search, no new drafts; every draft and application goes on."""
    if await store.record_of(db, service_id) is None:
        raise NotFoundException()
    await store.retire(db, service_id, staff.actor, audit=_audit(request))
    return Redirect(f"/staff/services/{service_id}", status_code=303)


design = Router(
    path="/staff/services",
    route_handlers=[
        overview,
        create_service,
        import_form,
        import_definition,
        service_page,
        master_data,
        refresh_master_data,
        new_version,
        restore,
        editor,
        save,
        check_typed,
        publish,
        fallback,
        export,
        confirm_retire,
        retire,
        start_preview,
        end_preview,
    ],
    dependencies={"staff": Provide(require_role("designer"))},
    include_in_schema=False,
)
