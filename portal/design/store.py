"""What the designers' area does with services and their versions (the routes call these).

Every change commits; the refusals a designer must see come back as problems (texts in the
page's language), never as half-done work. Actors are staff actors ("staff:<sub>").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.audit import AuditLog
from portal.audit.models import AuditEvent
from portal.catalogue.loader import Catalogue
from portal.design.checking import CheckResult, Problem, check, problem_text
from portal.design.models import DesignedService, ServiceVersion
from portal.design.translations import untranslated
from portal.i18n import gettext as _
from portal.i18n import ngettext
from portal.i18n.formatting import format_number
from portal.i18n.locale import languages, native_name

OPEN = ("draft", "in_review")  # versions still being written or reviewed


class DesignError(ValueError):
    """A change the store refuses; the message is for the designer (already translated)."""


@dataclass(frozen=True)
class ServiceRow:
    """One line of the designers' list of services."""

    id: str
    title: str
    state: str  # draft | in_review | live | retired
    live_version: int | None
    newest_version: int
    newest_state: str
    updated_at: datetime
    updated_by: str
    retired_at: datetime | None = None
    retired_by: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _audit(db: AsyncSession, audit: AuditLog | None) -> AuditLog:
    """The app's audit log, or one on the same database (each entry in its own transaction)."""
    if audit is not None:
        return audit
    return AuditLog(async_sessionmaker(db.bind, expire_on_commit=False))


def service_state(record: DesignedService, versions: list[ServiceVersion]) -> str:
    if record.retired_at is not None:
        return "retired"
    if any(version.state == "published" for version in versions):
        return "live"
    newest = max(versions, key=lambda version: version.number, default=None)
    return "in_review" if newest is not None and newest.state == "in_review" else "draft"


def aware(moment: datetime | None) -> datetime:
    """A stored time with its zone (SQLite gives it back without); None: the earliest."""
    if moment is None:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def live_of(versions: list[ServiceVersion]) -> ServiceVersion | None:
    """The version served: the one published last."""
    published = [version for version in versions if version.state == "published"]
    if not published:
        return None
    return max(published, key=lambda version: (aware(version.published_at), version.number))


async def _versions(db: AsyncSession, service_id: str | None = None) -> list[ServiceVersion]:
    query = select(ServiceVersion).order_by(ServiceVersion.service_id, ServiceVersion.number)
    if service_id is not None:
        query = query.where(ServiceVersion.service_id == service_id)
    return list(await db.scalars(query))


async def overview(db: AsyncSession) -> list[ServiceRow]:
    """Every service with its state, the version served and the newest, newest change first."""
    records = {record.id: record for record in await db.scalars(select(DesignedService))}
    grouped: dict[str, list[ServiceVersion]] = {}
    for version in await _versions(db):
        grouped.setdefault(version.service_id, []).append(version)
    rows = []
    for service_id, versions in grouped.items():
        record = records.get(service_id)
        if record is None:
            continue
        newest = versions[-1]
        live = live_of(versions)
        changed = max(versions, key=lambda version: aware(version.updated_at))
        rows.append(
            ServiceRow(
                id=service_id,
                title=(live or newest).title or service_id,
                state=service_state(record, versions),
                live_version=live.number if live else None,
                newest_version=newest.number,
                newest_state=newest.state,
                updated_at=record.retired_at or changed.updated_at,
                updated_by=record.retired_by or changed.updated_by,
                retired_at=record.retired_at,
                retired_by=record.retired_by,
            )
        )
    rows.sort(key=lambda row: row.title.casefold())
    return rows


async def record_of(db: AsyncSession, service_id: str) -> DesignedService | None:
    return await db.get(DesignedService, service_id)


async def versions(db: AsyncSession, service_id: str) -> list[ServiceVersion]:
    """A service's versions, newest first."""
    return list(reversed(await _versions(db, service_id)))


async def version(db: AsyncSession, service_id: str, number: int) -> ServiceVersion | None:
    found: ServiceVersion | None = await db.scalar(
        select(ServiceVersion).where(
            ServiceVersion.service_id == service_id, ServiceVersion.number == number
        )
    )
    return found


def _id_in(source: str) -> str:
    """The id a definition gives itself, read even when the rest has problems."""
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError:
        data = None
    service_id = data.get("id") if isinstance(data, dict) else None
    if not isinstance(service_id, str) or not valid_id(service_id):
        raise DesignError(
            _(
                "The definition needs an id on its own line, like “id: dog-licence”: lowercase "
                "letters, digits and hyphens, starting with a letter"
            )
        )
    return service_id


def valid_id(service_id: str) -> bool:
    import re

    return re.fullmatch(r"[a-z][a-z0-9-]{0,62}", service_id) is not None


def _title_in(source: str) -> str:
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError:
        return ""
    title = data.get("title") if isinstance(data, dict) else None
    return title[:2000] if isinstance(title, str) else ""


async def _open_version(db: AsyncSession, service_id: str) -> ServiceVersion | None:
    found: ServiceVersion | None = await db.scalar(
        select(ServiceVersion)
        .where(ServiceVersion.service_id == service_id, ServiceVersion.state.in_(OPEN))
        .order_by(ServiceVersion.number.desc())
        .limit(1)
    )
    return found


async def _next_number(db: AsyncSession, service_id: str) -> int:
    numbers = await db.scalars(
        select(ServiceVersion.number).where(ServiceVersion.service_id == service_id)
    )
    return max(numbers, default=0) + 1


def _new_version(
    service_id: str, number: int, source: str, author: str, origin: str, based_on: str | None
) -> ServiceVersion:
    now = _now()
    return ServiceVersion(
        service_id=service_id,
        number=number,
        source=source,
        title=_title_in(source),
        state="draft",
        origin=origin,
        based_on=based_on,
        fallback_languages=[],
        author=author,
        created_at=now,
        updated_by=author,
        updated_at=now,
    )


async def create(
    db: AsyncSession,
    source: str,
    author: str,
    origin: str = "designer",
    *,
    based_on: str | None = None,
    catalogue: Catalogue | None = None,
    audit: AuditLog | None = None,
) -> ServiceVersion:
    """A new service: version 1, a draft. Refused when the id is taken (by a service, or by a
    page of the catalogue that is not a journey)."""
    service_id = _id_in(source)
    taken = await db.get(DesignedService, service_id) is not None or (
        catalogue is not None and service_id in catalogue.links
    )
    if taken:
        raise DesignError(
            _(
                "There is already a service called %(id)s: give the new one another id",
                id=service_id,
            )
        )
    created = _new_version(service_id, 1, source, author, origin, based_on)
    try:
        db.add(DesignedService(id=service_id, created_by=author, created_at=_now()))
        await db.flush()
        db.add(created)
        await db.commit()
    except IntegrityError:  # another designer made it a moment ago
        await db.rollback()
        raise DesignError(
            _(
                "There is already a service called %(id)s: give the new one another id",
                id=service_id,
            )
        ) from None
    await _audit(db, audit).record(
        "service_created",
        actor=author,
        subject=f"service:{service_id}",
        origin=origin,
        based_on=based_on,
    )
    return created


def with_id(source: str, new_id: str) -> str:
    """The definition with its top-level id replaced, every other character as written."""
    node = yaml.compose(source)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "id" and isinstance(value, yaml.ScalarNode):
                start, end = value.start_mark.index, value.end_mark.index
                return source[:start] + new_id + source[end:]
    raise DesignError(_("The definition has no id to change"))


async def clone(
    db: AsyncSession, service_id: str, new_id: str, author: str, *, audit: AuditLog | None = None
) -> ServiceVersion:
    """A new service's draft: a copy of the newest version of `service_id` under `new_id`
    (title and texts unchanged, for the designer to edit)."""
    if not valid_id(new_id):
        raise DesignError(
            _("Enter an id of lowercase letters, digits and hyphens, starting with a letter")
        )
    every = await _versions(db, service_id)
    if not every:
        raise DesignError(_("There is no service called %(id)s", id=service_id))
    newest = every[-1]
    return await create(
        db,
        with_id(newest.source, new_id),
        author,
        "designer",
        based_on=f"{service_id} v{newest.number}",
        audit=audit,
    )


async def _refuse_retired(db: AsyncSession, service_id: str) -> None:
    record = await db.get(DesignedService, service_id)
    if record is None:
        raise DesignError(_("There is no service called %(id)s", id=service_id))
    if record.retired_at is not None:
        raise DesignError(_("This service is retired: it cannot have new versions"))


async def new_draft(
    db: AsyncSession, service_id: str, author: str, *, audit: AuditLog | None = None
) -> ServiceVersion:
    """The next version as a draft copy of the newest; the open draft (or version in review)
    when there is one already: one at a time."""
    await _refuse_retired(db, service_id)
    # One read for both questions: two designers who both find no open version then ask for
    # the same next number, and the second is given the first's draft (the unique number).
    every = await _versions(db, service_id)
    opened = [version for version in every if version.state in OPEN]
    if opened:
        return opened[-1]
    newest = every[-1]
    return await _add_draft(
        db, service_id, newest.source, author, "designer", newest, audit, newest.number + 1
    )


async def _add_draft(
    db: AsyncSession,
    service_id: str,
    source: str,
    author: str,
    origin: str,
    copied: ServiceVersion | None,
    audit: AuditLog | None,
    number: int | None = None,
) -> ServiceVersion:
    number = number or await _next_number(db, service_id)
    based_on = f"{service_id} v{copied.number}" if copied else None
    draft = _new_version(service_id, number, source, author, origin, based_on)
    db.add(draft)
    try:
        await db.commit()
    except IntegrityError:  # another designer opened the next version a moment ago: that one
        await db.rollback()
        existing = await _open_version(db, service_id)
        if existing is None:
            raise
        return existing
    await _audit(db, audit).record(
        "service_version_created",
        actor=author,
        subject=f"service:{service_id}",
        version=number,
        origin=origin,
        based_on=based_on,
    )
    return draft


def _checked(version: ServiceVersion, source: str, catalogue: Catalogue | None) -> CheckResult:
    result = check(source, catalogue)
    problems = tuple(result.problems)
    try:
        same = _id_in(source) == version.service_id
    except DesignError:
        same = False
    if not same:
        problems += (
            Problem(
                None,
                "id",
                _(
                    "The id must stay %(id)s: to make another service, clone this one",
                    id=version.service_id,
                ),
            ),
        )
    if problems == tuple(result.problems):
        return result
    return CheckResult(None, problems)


async def save(
    db: AsyncSession,
    version: ServiceVersion,
    source: str,
    author: str,
    catalogue: Catalogue | None,
) -> CheckResult:
    """Keep the designer's text even with problems (never publishes); the problems come back.
    A version in review that changes goes back to draft: its review was of another text."""
    if version.state not in OPEN:
        raise DesignError(_("Only a draft can be changed: start a new version instead"))
    result = _checked(version, source, catalogue)
    if source != version.source:
        version.source = source
        version.title = _title_in(source) or version.title
        version.state = "draft"
        version.submitted_by = version.submitted_at = None
        version.updated_by, version.updated_at = author, _now()
        await db.commit()
    return result


async def submit_for_review(
    db: AsyncSession,
    version: ServiceVersion,
    author: str,
    catalogue: Catalogue | None,
    *,
    audit: AuditLog | None = None,
) -> CheckResult:
    """Ask another designer to publish it; refused (its problems returned) unless valid."""
    if version.state != "draft":
        raise DesignError(_("Only a draft can be submitted for review"))
    result = _checked(version, version.source, catalogue)
    if result.problems:
        return result
    await _refuse_retired(db, version.service_id)
    version.state = "in_review"
    version.submitted_by, version.submitted_at = author, _now()
    version.updated_at = version.submitted_at
    await db.commit()
    await _audit(db, audit).record(
        "service_submitted",
        actor=author,
        subject=f"service:{version.service_id}",
        version=version.number,
    )
    return result


async def publish(
    db: AsyncSession,
    version: ServiceVersion,
    reviewer: str,
    catalogue: Catalogue | None,
    *,
    audit: AuditLog | None = None,
) -> list[str]:
    """Make a reviewed version the one served (every worker within seconds). Refused, with
    what to do: by its own author or submitter (four eyes, audited), unless in review,
    with any problem, or while a served language lacks a text and is not an English fallback."""
    log = _audit(db, audit)
    subject = f"service:{version.service_id}"
    if version.state != "in_review":
        return [_("Submit the version for review first: only a version in review is published")]
    if reviewer in {version.author, version.submitted_by, version.updated_by}:
        await log.record(
            "service_publish_refused",
            actor=reviewer,
            subject=subject,
            version=version.number,
            reason="self_publish",
        )
        return [_("Another designer must publish it: you wrote or submitted this version")]
    record = await db.get(DesignedService, version.service_id)
    if record is None or record.retired_at is not None:
        return [_("This service is retired: it cannot have new versions")]
    result = _checked(version, version.source, catalogue)
    if result.problems:
        return [problem_text(problem) for problem in result.problems]
    missing = await untranslated(db, version.source)
    problems = [
        ngettext(
            "%(language)s lacks %(count)s text of this version: have it translated in "
            "Translations, or mark %(language)s to be shown in English",
            "%(language)s lacks %(count)s texts of this version: have them translated in "
            "Translations, or mark %(language)s to be shown in English",
            len(texts),
            language=native_name(language),
            count=format_number(len(texts)),
        )
        for language, texts in missing.items()
        if texts and language not in (version.fallback_languages or [])
    ]
    if problems:
        return problems
    now = _now()
    version.state = "published"
    version.published_by, version.published_at = reviewer, now
    version.updated_at = now
    await db.commit()
    await log.record(
        "service_published",
        actor=reviewer,
        subject=subject,
        version=version.number,
        author=version.author,
        submitted_by=version.submitted_by,
        fallback_languages=list(version.fallback_languages or []),
    )
    return []


async def restore(
    db: AsyncSession,
    service_id: str,
    number: int,
    author: str,
    *,
    audit: AuditLog | None = None,
) -> ServiceVersion:
    """Rolling back: version `number`'s text as the draft, to be reviewed and published like
    any other (an open draft takes the earlier text; nothing else is lost: it stays a version)."""
    await _refuse_retired(db, service_id)
    earlier = await version(db, service_id, number)
    if earlier is None:
        raise DesignError(_("There is no version %(number)s of this service", number=number))
    existing = await _open_version(db, service_id)
    if existing is None:
        return await _add_draft(db, service_id, earlier.source, author, "designer", earlier, audit)
    existing.source, existing.title = earlier.source, earlier.title
    existing.state, existing.based_on = "draft", f"{service_id} v{number}"
    existing.submitted_by = existing.submitted_at = None
    existing.updated_by, existing.updated_at = author, _now()
    await db.commit()
    await _audit(db, audit).record(
        "service_version_restored",
        actor=author,
        subject=f"service:{service_id}",
        version=existing.number,
        restored=number,
    )
    return existing


async def set_fallback(
    db: AsyncSession,
    version: ServiceVersion,
    languages_: list[str],
    author: str,
    *,
    audit: AuditLog | None = None,
) -> None:
    """The served languages this version may show in English until translated."""
    if version.state not in OPEN:
        raise DesignError(_("Only a draft can be changed: start a new version instead"))
    served = [language for language in languages() if language != "en"]
    chosen = [language for language in served if language in set(languages_)]
    version.fallback_languages = chosen
    version.updated_by, version.updated_at = author, _now()
    await db.commit()
    await _audit(db, audit).record(
        "service_fallback_set",
        actor=author,
        subject=f"service:{version.service_id}",
        version=version.number,
        languages=chosen,
    )


async def retire(
    db: AsyncSession, service_id: str, actor: str, *, audit: AuditLog | None = None
) -> None:
    """Hide it from the catalogue, search and new drafts; drafts and applications made with it
    go on with their version."""
    record = await db.get(DesignedService, service_id)
    if record is None:
        raise DesignError(_("There is no service called %(id)s", id=service_id))
    if record.retired_at is not None:
        return
    record.retired_by, record.retired_at = actor, _now()
    await db.commit()
    await _audit(db, audit).record("service_retired", actor=actor, subject=f"service:{service_id}")


async def history(db: AsyncSession, service_id: str, limit: int = 200) -> list[AuditEvent]:
    """Who changed what and when, newest first: the audit trail's entries for the service
    (created, new version, imported, submitted, published, refused, fallback, restored, retired).
    Staff names for the actors: portal.staff.service.staff_names."""
    return list(
        await db.scalars(
            select(AuditEvent)
            .where(AuditEvent.subject == f"service:{service_id}")
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )


def export_yaml(version: ServiceVersion) -> str:
    """The definition exactly as written (for git, or another city)."""
    return version.source


async def import_yaml(
    db: AsyncSession, source: str, author: str, *, audit: AuditLog | None = None
) -> ServiceVersion:
    """A new service, or the next draft of an existing one (the open draft takes the text);
    the text is kept byte for byte, so exporting it gives back the file imported."""
    service_id = _id_in(source)
    if await db.get(DesignedService, service_id) is None:
        return await create(db, source, author, "import", audit=audit)
    await _refuse_retired(db, service_id)
    existing = await _open_version(db, service_id)
    if existing is None:
        return await _add_draft(db, service_id, source, author, "import", None, audit)
    existing.source, existing.title = source, _title_in(source) or existing.title
    existing.state, existing.origin = "draft", "import"
    existing.submitted_by = existing.submitted_at = None
    existing.updated_by, existing.updated_at = author, _now()
    await db.commit()
    await _audit(db, audit).record(
        "service_imported", actor=author, subject=f"service:{service_id}", version=existing.number
    )
    return existing


async def draft_with(
    db: AsyncSession,
    service_id: str,
    source: str,
    author: str,
    origin: str,
    *,
    audit: AuditLog | None = None,
) -> ServiceVersion:
    """A text made from the newest version (say DIGIT's options written into it) as a draft:
    the next version, or the open one takes it (one at a time) and goes back to draft."""
    await _refuse_retired(db, service_id)
    every = await _versions(db, service_id)
    existing = next((v for v in reversed(every) if v.state in OPEN), None)
    if existing is None:
        newest = every[-1]
        return await _add_draft(db, service_id, source, author, origin, newest, audit)
    existing.source, existing.title = source, _title_in(source) or existing.title
    existing.state = "draft"
    existing.submitted_by = existing.submitted_at = None
    existing.updated_by, existing.updated_at = author, _now()
    await db.commit()
    return existing


def describe(problems: Any) -> list[str]:
    """Problems as lines for a page."""
    return [problem_text(problem) for problem in problems]
