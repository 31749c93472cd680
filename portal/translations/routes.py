"""The editors' area (staff role `editor`): every message with its coverage per language, an
edit page per message and language, and the four-eyes review: an edit is a draft until another
editor publishes it. Every step is in the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditLog
from portal.i18n import gettext as _
from portal.i18n.catalogue import plural_count, plural_examples
from portal.i18n.locale import native_name
from portal.settings import Settings
from portal.shared.digit import digit_client
from portal.staff.service import StaffMember, require_role, staff_names
from portal.translations import digit, preview
from portal.translations.checks import problems, segments
from portal.translations.messages import Compiled, Message, Messages
from portal.translations.missing import missing_counts
from portal.translations.models import MissingTranslation, Publication, TranslationEdit
from portal.translations.overlay import published_edits
from portal.translations.po import Change, export_po, read_import
from portal.translations.preview import as_sent
from portal.web.ids import RowId
from portal.web.urls import safe_next

PAGE_SIZE = 50
STATES = ("all", "untranslated", "fuzzy", "changed", "missed", "pending", "edited")


@dataclass(frozen=True)
class Row:
    message: Message
    forms: list[str]
    state: str  # translated, untranslated, fuzzy, changed (the English text changed since)
    edited: bool  # served from an editor's published change
    pending: bool  # a draft waits for review
    previous: str | None = None  # the English text the translation was made for, if changed
    missed: int = 0  # how often readers were shown it in English for want of a translation


def _messages(request: Request[Any, Any, Any]) -> Messages:
    return request.app.state.messages  # type: ignore[no-any-return]


def _language(messages: Messages, language: str) -> str:
    if language not in messages.languages:
        raise NotFoundException()
    return language


async def _rows(db: AsyncSession, messages: Messages, language: str) -> list[Row]:
    live = await published_edits(db, language)
    missed = await missing_counts(db, language)
    pending = set(
        (
            await db.scalars(
                select(TranslationEdit.key).where(
                    TranslationEdit.language == language, TranslationEdit.status == "draft"
                )
            )
        ).all()
    )
    return [
        _row(
            messages,
            language,
            message,
            live.get(message.key),
            message.key in pending,
            missed.get(message.key, 0),
        )
        for message in messages.items
    ]


def _row(
    messages: Messages,
    language: str,
    message: Message,
    edit: TranslationEdit | None,
    pending: bool,
    missed: int = 0,
) -> Row:
    """What one message says in `language` now: an editor's published text, else the
    compiled one."""
    forms, fuzzy, previous = messages.base[language].get(message.key, Compiled([""], False))
    if edit is not None:
        forms, fuzzy, previous = list(edit.forms), False, None
    if not all(form.strip() for form in forms):
        state = "untranslated"
    elif fuzzy:
        state = "changed" if previous else "fuzzy"
    else:
        state = "translated"
    return Row(message, forms, state, edit is not None, pending, previous, missed)


def _new_draft(
    language: str, message: Message | TranslationEdit, forms: list[str], author: str, note: str
) -> TranslationEdit:
    """A version for another editor to review (typed, restored or imported)."""
    return TranslationEdit(
        language=language,
        key=message.key,
        msgid=message.msgid,
        context=message.context,
        forms=forms,
        author=author,
        note=note[:500],
    )


def _coverage(rows: list[Row]) -> dict[str, Any]:
    total = len(rows) or 1
    translated = sum(1 for row in rows if row.state == "translated")
    return {
        "percent": int(100 * translated / total),
        "untranslated": sum(1 for row in rows if row.state == "untranslated"),
        "fuzzy": sum(1 for row in rows if row.state == "fuzzy"),
        "changed": sum(1 for row in rows if row.state == "changed"),
        "missed": sum(row.missed for row in rows),
        "pending": sum(1 for row in rows if row.pending),
        "edited": sum(1 for row in rows if row.edited),
    }


@get("/", name="translations")
async def overview(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    language: FromQuery[str] = "es",
    q: FromQuery[str] = "",
    show: FromQuery[str] = "all",
    page: FromQuery[int] = 1,
) -> Template:
    messages = _messages(request)
    language = _language(messages, language)
    rows = await _rows(db, messages, language)
    coverage = {language: _coverage(rows)}
    for other in messages.languages:
        if other != language:
            coverage[other] = _coverage(await _rows(db, messages, other))
    show = show if show in STATES else "all"
    query = q.strip().casefold()
    shown = [
        row
        for row in rows
        if (
            not query
            or query in row.message.msgid.casefold()
            or any(query in form.casefold() for form in row.forms)
            # "service dog-licence, version 2": a service version's texts, found by its place
            or any(query in place.casefold() for place in row.message.locations)
        )
        and (
            show == "all"
            or row.state == show
            or (show == "pending" and row.pending)
            or (show == "edited" and row.edited)
            or (show == "missed" and row.missed > 0)
        )
    ]
    if show == "missed":  # the ones readers meet most first
        shown.sort(key=lambda row: -row.missed)
    pages = max(1, -(-len(shown) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    context = {
        "staff": staff,
        "language": language,
        "languages": [(code, native_name(code)) for code in messages.languages],
        "coverage": coverage,
        "rows": shown[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        "found": len(shown),
        "q": q,
        "show": show,
        "states": STATES,
        "page": page,
        "pages": pages,
    }
    return Template("translations/index.html", context=context)


async def _edit_page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    staff: StaffMember,
    language: str,
    message: Message,
    errors: list[str] | None = None,
    typed: list[str] | None = None,
    shown: list[str] | None = None,
) -> Template:
    """The page; with `shown`, the typed forms previewed (kept for the pages opened next)."""
    history = (
        await db.scalars(
            select(TranslationEdit)
            .where(TranslationEdit.language == language, TranslationEdit.key == message.key)
            .order_by(TranslationEdit.id.desc())
        )
    ).all()
    live = await db.scalar(
        select(TranslationEdit)
        .join(Publication, Publication.edit_id == TranslationEdit.id)
        .where(Publication.language == language, Publication.key == message.key)
        .order_by(Publication.id.desc())
        .limit(1)
    )
    pending = any(edit.status == "draft" for edit in history)
    missed = await db.scalar(
        select(MissingTranslation.count).where(
            MissingTranslation.language == language, MissingTranslation.key == message.key
        )
    )
    row = _row(_messages(request), language, message, live, pending, missed or 0)
    count = plural_count(language) if message.plural else 1
    examples = plural_examples(language) if message.plural else [[]]
    context = {
        "staff": staff,
        "language": language,
        "language_name": native_name(language),
        "message": message,
        "row": row,
        "forms": (typed or row.forms + [""] * count)[:count],
        "examples": examples[:count],
        "history": history,
        "names": await staff_names(db, [who for e in history for who in (e.author, e.reviewer)]),
        "live_id": live.id if live else None,
        "errors": errors or [],
        "preview": _preview_context(request, message, shown) if shown is not None else None,
    }
    return Template("translations/edit.html", context=context, status_code=400 if errors else 200)


def _preview_context(
    request: Request[Any, Any, Any], message: Message, forms: list[str]
) -> dict[str, Any]:
    public_url = request.app.state.settings.public_url
    texts = [as_sent(form, public_url) for form in forms]
    return {
        "texts": [(text, len(text), segments(text)) for text in texts],
        "path": "/",
    }


def _message(request: Request[Any, Any, Any], key: str) -> Message:
    message = _messages(request).by_key.get(key)
    if message is None:
        raise NotFoundException()
    return message


@get("/{language:str}/{key:str}", name="translation")
async def edit_page(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    language: FromPath[str],
    key: FromPath[str],
) -> Template:
    language = _language(_messages(request), language)
    return await _edit_page(request, db, staff, language, _message(request, key))


async def _typed(
    request: Request[Any, Any, Any], language: str, message: Message
) -> tuple[list[str], list[str]]:
    """The forms the editor typed, and why they cannot be saved (empty when they can)."""
    form = await request.form()
    count = plural_count(language) if message.plural else 1
    forms = [str(form.get(f"form-{index}") or "") for index in range(count)]
    return forms, problems(message, forms, count)


@post("/{language:str}/{key:str}", name="propose_translation")
async def propose(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    language: FromPath[str],
    key: FromPath[str],
    audit: NamedDependency[AuditLog],
) -> Response[Any]:
    """Save a draft; it is served only once another editor publishes it."""
    language = _language(_messages(request), language)
    message = _message(request, key)
    forms, found = await _typed(request, language, message)
    if found:
        return await _edit_page(request, db, staff, language, message, found, forms)
    note = str((await request.form()).get("note") or "")
    db.add(_new_draft(language, message, forms, staff.actor, note))
    await db.commit()
    await audit.record(
        "translation_drafted", actor=staff.actor, subject=f"translation:{language}:{key}"
    )
    return Redirect(f"/staff/translations/{language}/{key}", status_code=303)


@post("/{language:str}/{key:str}/preview", name="preview_translation")
async def preview_typed(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    language: FromPath[str],
    key: FromPath[str],
) -> Template:
    """The typed text as it would be sent, and kept for the editor's next pages; not saved."""
    language = _language(_messages(request), language)
    message = _message(request, key)
    forms, found = await _typed(request, language, message)
    if found:
        return await _edit_page(request, db, staff, language, message, found, forms)
    preview.start(request, language, message, forms)
    return await _edit_page(request, db, staff, language, message, typed=forms, shown=forms)


@get("/previews/open", name="open_translation_preview")
async def open_preview(staff: NamedDependency[StaffMember], path: FromQuery[str] = "/") -> Redirect:
    """To a page of the portal, where the previewed text stands in for the message."""
    return Redirect(safe_next(path), status_code=303)


@post("/previews/end", name="end_translation_preview")
async def end_preview(
    request: Request[Any, Any, Any], staff: NamedDependency[StaffMember]
) -> Redirect:
    """Back to what citizens see, and to the message that was previewed."""
    shown = preview.end(request)
    if shown is None:
        return Redirect("/staff/translations", status_code=303)
    return Redirect(f"/staff/translations/{shown['language']}/{shown['key']}", status_code=303)


async def _draft(db: AsyncSession, edit_id: int) -> TranslationEdit:
    edit = await db.get(TranslationEdit, edit_id)
    if edit is None:
        raise NotFoundException()
    return edit


@post("/edits/{edit_id:int}/publish", name="publish_translation")
async def publish(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    edit_id: RowId,
    audit: NamedDependency[AuditLog],
) -> Response[Any]:
    """Four eyes: the author of a change may not publish it."""
    edit = await _draft(db, edit_id)
    back = f"/staff/translations/{edit.language}/{edit.key}"
    subject = f"translation:{edit.language}:{edit.key}"
    if edit.author == staff.actor:
        await audit.record("translation_self_publish_refused", actor=staff.actor, subject=subject)
        message = _("You cannot publish your own change: another editor must review it.")
        return Template(
            "errors/error.html",
            context={"title": _("Another editor must publish this"), "body": message},
            status_code=403,
        )
    # Only a draft, and only once: two reviewers pressing at once (or one publishing while
    # another rejects) leave one outcome.
    language, key = edit.language, edit.key
    claimed = await db.execute(
        update(TranslationEdit)
        .where(TranslationEdit.id == edit_id, TranslationEdit.status == "draft")
        .values(status="published", reviewer=staff.actor, reviewed_at=datetime.now(UTC))
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await db.rollback()
        return Redirect(back, status_code=303)
    db.add(Publication(edit_id=edit_id, language=language, key=key, published_by=staff.actor))
    await db.commit()
    await audit.record(
        "translation_published",
        actor=staff.actor,
        subject=subject,
        edit=edit.id,
        author=edit.author,
    )
    return Redirect(back, status_code=303)


@post("/edits/{edit_id:int}/reject", name="reject_translation")
async def reject(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    edit_id: RowId,
    audit: NamedDependency[AuditLog],
) -> Response[Any]:
    edit = await _draft(db, edit_id)
    language, key = edit.language, edit.key
    rejected = await db.execute(
        update(TranslationEdit)
        .where(TranslationEdit.id == edit_id, TranslationEdit.status == "draft")
        .values(status="rejected", reviewer=staff.actor, reviewed_at=datetime.now(UTC))
    )
    await db.commit()
    if rejected.rowcount == 1:  # type: ignore[attr-defined]
        await audit.record(
            "translation_rejected",
            actor=staff.actor,
            subject=f"translation:{language}:{key}",
            edit=edit_id,
        )
    return Redirect(f"/staff/translations/{language}/{key}", status_code=303)


@post("/edits/{edit_id:int}/restore", name="restore_translation")
async def restore(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    edit_id: RowId,
    audit: NamedDependency[AuditLog],
) -> Response[Any]:
    """Roll back to an earlier version: a new draft with its text, reviewed like any other."""
    earlier = await _draft(db, edit_id)
    if earlier.status != "published":  # a draft or a rejected text must go through review
        return Redirect(f"/staff/translations/{earlier.language}/{earlier.key}", status_code=303)
    note = _("Back to version %(number)s", number=earlier.id)
    db.add(_new_draft(earlier.language, earlier, list(earlier.forms), staff.actor, note))
    await db.commit()
    await audit.record(
        "translation_restore_drafted",
        actor=staff.actor,
        subject=f"translation:{earlier.language}:{earlier.key}",
        edit=earlier.id,
    )
    return Redirect(f"/staff/translations/{earlier.language}/{earlier.key}", status_code=303)


async def served_texts(db: AsyncSession, messages: Messages, language: str) -> dict[str, list[str]]:
    """What each message says in `language` now (compiled, or as an editor published it)."""
    return {row.message.key: row.forms for row in await _rows(db, messages, language)}


@get("/export/{language:str}", name="export_translations")
async def export(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    language: FromPath[str],
    settings: NamedDependency[Settings],
) -> Response[bytes]:
    messages = _messages(request)
    language = _language(messages, language)
    served = {key: edit.forms for key, edit in (await published_edits(db, language)).items()}
    content = export_po(settings.locales_dir, language, served)
    return Response(
        content,
        media_type="text/x-gettext-translation; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="frontdoor-{language}.po"'},
    )


def _import_page(
    staff: StaffMember,
    messages: Messages,
    language: str = "es",
    errors: list[str] | None = None,
    changes: list[Change] | None = None,
    status: int = 200,
) -> Template:
    context = {
        "staff": staff,
        "language": language,
        "languages": [(code, native_name(code)) for code in messages.languages],
        "errors": errors or [],
        "changes": changes,
    }
    return Template("translations/import.html", context=context, status_code=status)


@get("/import", name="import_translations_form")
async def import_form(
    request: Request[Any, Any, Any], staff: NamedDependency[StaffMember]
) -> Template:
    return _import_page(staff, _messages(request))


@post("/import", name="import_translations")
async def import_po(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    audit: NamedDependency[AuditLog],
) -> Template:
    """Every change in the file becomes a draft for another editor to review, or, if anything
    in it is wrong, nothing changes and each problem is shown with its line."""
    messages = _messages(request)
    form = await request.form()
    language = str(form.get("language") or "")
    if language not in messages.languages:
        return _import_page(staff, messages, errors=[_("Choose a language")], status=400)
    upload = form.get("file")
    data = await upload.read() if isinstance(upload, UploadFile) else b""
    if not data:
        errors = [_("Choose a PO file to import")]
        return _import_page(staff, messages, language, errors, status=400)
    served = await served_texts(db, messages, language)
    changes, errors = read_import(data, language, messages, served, plural_count(language))
    if errors:
        return _import_page(staff, messages, language, errors, status=400)
    note = _("Imported from a PO file")
    for change in changes:
        db.add(_new_draft(language, change.message, change.after, staff.actor, note))
    await db.commit()
    await audit.record(
        "translations_imported",
        actor=staff.actor,
        subject=f"translations:{language}",
        drafts=len(changes),
    )
    return _import_page(staff, messages, language, changes=changes)


def _digit_page(
    staff: StaffMember,
    messages: Messages,
    module: str = "rainmaker-pgr",
    locales: dict[str, str] | None = None,
    errors: list[str] | None = None,
    outcome: digit.Outcome | None = None,
    status: int = 200,
) -> Template:
    chosen = locales if locales is not None else {code: code for code in messages.languages}
    context = {
        "staff": staff,
        "module": module,
        "english": digit.ENGLISH,
        "languages": [
            (code, native_name(code), chosen.get(code, "")) for code in messages.languages
        ],
        "names": {code: native_name(code) for code in messages.languages},
        "errors": errors or [],
        "outcome": outcome,
        "skips": digit.SKIPS,
    }
    return Template("translations/digit.html", context=context, status_code=status)


@get("/digit", name="digit_translations_form")
async def digit_form(
    request: Request[Any, Any, Any], staff: NamedDependency[StaffMember]
) -> Template:
    return _digit_page(staff, _messages(request))


@post("/digit", name="import_digit_translations")
async def import_digit(
    request: Request[Any, Any, Any],
    staff: NamedDependency[StaffMember],
    db: NamedDependency[AsyncSession],
    audit: NamedDependency[AuditLog],
    settings: NamedDependency[Settings],
) -> Template:
    """DIGIT's messages of a module whose English is one of our texts: its other languages'
    messages become drafts for another editor to review, as a PO file's do; DIGIT down or
    answering badly: why, and nothing written."""
    messages = _messages(request)
    form = await request.form()
    module = str(form.get("module") or "").strip()
    locales = {
        code: str(form.get(f"locale-{code}") or "").strip()
        for code in messages.languages
        if str(form.get(f"locale-{code}") or "").strip()
    }
    errors = digit.checked_input(module, locales)
    if errors:
        return _digit_page(staff, messages, module, locales, errors, status=400)
    try:
        async with digit_client(settings) as client:
            english, others = await digit.read_digit(client, module, locales)
    except digit.DigitImportError as error:
        await audit.record(
            "translations_digit_import_failed",
            actor=staff.actor,
            subject=f"digit:{module}",
            reason=str(error),
        )
        return _digit_page(staff, messages, module, locales, [str(error)], status=502)
    served = {language: await served_texts(db, messages, language) for language in locales}
    waiting: dict[str, set[tuple[str, tuple[str, ...]]]] = {}
    for edit in await db.scalars(
        select(TranslationEdit).where(
            TranslationEdit.status == "draft", TranslationEdit.language.in_(list(locales))
        )
    ):
        waiting.setdefault(edit.language, set()).add((edit.key, tuple(edit.forms)))
    outcome = digit.propose(messages, module, locales, english, others, served, waiting)
    for proposal in outcome.proposals:
        note = _("Imported from DIGIT (%(module)s, %(code)s)", module=module, code=proposal.code)
        db.add(_new_draft(proposal.language, proposal.message, proposal.after, staff.actor, note))
    await db.commit()
    await audit.record(
        "translations_imported_from_digit",
        actor=staff.actor,
        subject=f"digit:{module}",
        locales=locales,
        english=outcome.english,
        matched=outcome.matched,
        drafts=len(outcome.proposals),
        skipped=outcome.skipped_total,
    )
    return _digit_page(staff, messages, module, locales, outcome=outcome)


translations = Router(
    path="/staff/translations",
    route_handlers=[
        overview,
        export,
        import_form,
        import_po,
        digit_form,
        import_digit,
        edit_page,
        propose,
        preview_typed,
        open_preview,
        end_preview,
        publish,
        reject,
        restore,
    ],
    dependencies={"staff": Provide(require_role("editor"))},
    include_in_schema=False,
)
