"""Retention: the worker's purge warns a draft's owner once, deletes the draft only after the
warning period and only if left unchanged, and deletes expired sign-in codes, ended sessions,
old web chats and old bot models, never what is still in use. The privacy notice states the
periods from the settings."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import Sandbox, run_async
from portal.applications.models import Application
from portal.applications.references import new_reference
from portal.conversations.models import ChatMessage, Conversation, Handoff
from portal.database import make_engine
from portal.database.store import StoredValue
from portal.design.seed import seed
from portal.forms.models import Draft
from portal.identity.models import Citizen, SignInCode
from portal.outbox.models import OutboxMessage
from portal.payments.models import Payment
from portal.retention.purge import purge
from portal.retention.schedule import Retention
from portal.settings import Settings
from tests.conftest import PortalFactory
from tests.journey_support import run_worker
from tests.support import visible_text

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str, tmp_path: Path) -> Settings:
    settings = make_settings(database_url=database_url, bot_models_dir=tmp_path / "models")

    async def services() -> None:  # as the portal does at start: the worker serves these
        engine = make_engine(database_url)
        try:
            await seed(async_sessionmaker(engine), settings.catalogue_dir)
        finally:
            await engine.dispose()

    run_async(services())
    return settings


def _run(settings: Settings, work: Callable[[AsyncSession], Any]) -> Any:
    async def go() -> Any:
        engine = make_engine(settings.database_url)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as db:
                return await work(db)
        finally:
            await engine.dispose()

    return run_async(go())


def _purge(settings: Settings, now: datetime) -> dict[str, int]:
    async def go() -> dict[str, int]:
        engine = make_engine(settings.database_url)
        try:
            return await purge(async_sessionmaker(engine, expire_on_commit=False), settings, now)
        finally:
            await engine.dispose()

    return dict(run_async(go()))


def _citizen(settings: Settings, language: str = "es") -> tuple[int, str]:
    email = f"{uuid.uuid4().hex[:10]}@example.org"

    async def add(db: AsyncSession) -> int:
        citizen = Citizen(
            issuer="test",
            subject=uuid.uuid4().hex,
            name="Ana",
            email=email,
            language=language,
            preferred_channel="email",
        )
        db.add(citizen)
        await db.commit()
        return citizen.id

    return _run(settings, add), email


def _draft(settings: Settings, citizen_id: int, idle: timedelta, **values: Any) -> str:
    async def add(db: AsyncSession) -> str:
        draft = Draft(
            citizen_id=citizen_id,
            service_id="dog-licence",
            answers={"dog_name": "Toby"},
            updated_at=NOW - idle,
            **values,
        )
        db.add(draft)
        await db.commit()
        return draft.public_id

    return str(_run(settings, add))


def _get_draft(settings: Settings, public_id: str) -> Draft | None:
    async def get(db: AsyncSession) -> Draft | None:
        found: Draft | None = await db.scalar(select(Draft).where(Draft.public_id == public_id))
        return found

    return _run(settings, get)


def _touch(settings: Settings, public_id: str, moment: datetime) -> None:
    async def touch(db: AsyncSession) -> None:
        draft = await db.scalar(select(Draft).where(Draft.public_id == public_id))
        assert draft is not None
        draft.updated_at = moment
        await db.commit()

    _run(settings, touch)


def _warnings(settings: Settings, public_id: str) -> list[OutboxMessage]:
    async def read(db: AsyncSession) -> list[OutboxMessage]:
        rows = await db.scalars(
            select(OutboxMessage).where(OutboxMessage.key.startswith(f"draft-warning-{public_id}-"))
        )
        return list(rows.all())

    return _run(settings, read)


# Defaults: deleted after 90 days unchanged, warned 14 days before.
WARN_AT = timedelta(days=90 - 14)


def test_an_old_draft_is_warned_once_then_deleted_after_the_warning_period(
    settings: Settings, sandbox: Sandbox
) -> None:
    citizen_id, email = _citizen(settings, "es")
    public_id = _draft(settings, citizen_id, WARN_AT + timedelta(hours=1))

    first = _purge(settings, NOW)
    assert first["drafts_warned"] >= 1
    draft = _get_draft(settings, public_id)
    assert draft is not None and draft.deletion_warned_at is not None
    _purge(settings, NOW + timedelta(hours=1))
    assert _get_draft(settings, public_id) is not None
    assert len(_warnings(settings, public_id)) == 1, "warned exactly once"

    # The worker sends it, in the citizen's language, with the service, the day and the link.
    run_worker(settings)
    [mail] = sandbox.mail(to=email)
    text = mail["text"]
    assert "Obtener la licencia de perro" in text
    assert "15 de marzo de 2027" in text, text  # the warning period after the warning
    assert f"{settings.public_url}/drafts/{public_id}/check" in text
    assert "15 de marzo de 2027" in mail["subject"]

    # One day short of the warning period: still there; after it: deleted, and counted.
    _purge(settings, NOW + 13 * DAY)
    assert _get_draft(settings, public_id) is not None
    counts = _purge(settings, NOW + 14 * DAY + timedelta(hours=1))
    assert _get_draft(settings, public_id) is None
    assert counts["drafts"] >= 1


def test_a_long_forgotten_draft_is_not_deleted_before_its_owner_was_warned(
    settings: Settings,
) -> None:
    citizen_id, _ = _citizen(settings)
    public_id = _draft(settings, citizen_id, 400 * DAY)
    _purge(settings, NOW)
    assert _get_draft(settings, public_id) is not None, "warned first, not deleted"
    assert len(_warnings(settings, public_id)) == 1


def test_a_recent_draft_is_left_alone(settings: Settings) -> None:
    citizen_id, _ = _citizen(settings)
    public_id = _draft(settings, citizen_id, WARN_AT - timedelta(hours=1))
    _purge(settings, NOW)
    draft = _get_draft(settings, public_id)
    assert draft is not None and draft.deletion_warned_at is None
    assert _warnings(settings, public_id) == []


def test_a_draft_changed_after_its_warning_is_kept_and_warned_again_later(
    settings: Settings,
) -> None:
    citizen_id, _ = _citizen(settings)
    public_id = _draft(settings, citizen_id, WARN_AT + timedelta(hours=1))
    _purge(settings, NOW)
    _touch(settings, public_id, NOW + DAY)  # the citizen carries on with it

    _purge(settings, NOW + 20 * DAY)
    draft = _get_draft(settings, public_id)
    assert draft is not None, "changed since the warning: kept"
    assert len(_warnings(settings, public_id)) == 1, "not idle long enough for a new warning"

    later = NOW + DAY + WARN_AT + timedelta(hours=1)
    _purge(settings, later)
    assert len(_warnings(settings, public_id)) == 2, "left alone again: warned again"
    _purge(settings, later + 13 * DAY)
    assert _get_draft(settings, public_id) is not None
    _purge(settings, later + 14 * DAY)
    assert _get_draft(settings, public_id) is None


def test_sent_drafts_and_drafts_being_paid_for_are_never_deleted(settings: Settings) -> None:
    citizen_id, _ = _citizen(settings)
    sent = _draft(settings, citizen_id, 400 * DAY, submitted_at=NOW - 399 * DAY)
    paid = _draft(settings, citizen_id, 400 * DAY)

    async def add(db: AsyncSession) -> None:
        draft = await db.scalar(select(Draft).where(Draft.public_id == sent))
        assert draft is not None
        db.add(
            Application(
                reference=new_reference(),
                citizen_id=citizen_id,
                draft_id=draft.id,
                service_id="dog-licence",
                answers={},
                language="es",
            )
        )
        db.add(
            Payment(
                purpose=f"draft:{paid}",
                kind="fee",
                reference=new_reference(),
                description="Dog licence",
                amount_minor=2500,
                currency="EUR",
                language="es",
                status="success",
            )
        )
        await db.commit()

    _run(settings, add)
    for moment in (NOW, NOW + 30 * DAY, NOW + 400 * DAY):
        _purge(settings, moment)
    assert _get_draft(settings, sent) is not None
    assert _get_draft(settings, paid) is not None
    assert _warnings(settings, sent) == [] and _warnings(settings, paid) == []


def test_two_workers_purging_at_once_warn_once(settings: Settings) -> None:
    citizen_id, _ = _citizen(settings)
    public_ids = [_draft(settings, citizen_id, WARN_AT + DAY) for _ in range(5)]

    async def both() -> None:
        engines = [make_engine(settings.database_url) for _ in range(2)]
        try:
            await asyncio.gather(
                *(
                    purge(async_sessionmaker(e, expire_on_commit=False), settings, NOW)
                    for e in engines
                )
            )
        finally:
            for engine in engines:
                await engine.dispose()

    run_async(both())
    assert [len(_warnings(settings, p)) for p in public_ids] == [1] * 5


def test_expired_sign_in_codes_are_deleted_and_live_ones_kept(settings: Settings) -> None:
    destination = f"{uuid.uuid4().hex[:8]}@example.org"
    expiries = {
        "long expired": NOW - 25 * timedelta(hours=1),
        "just expired": NOW - timedelta(hours=1),
        "live": NOW + timedelta(minutes=5),
    }

    async def add(db: AsyncSession) -> None:
        for expires_at in expiries.values():
            db.add(
                SignInCode(
                    channel="email",
                    destination=destination,
                    code_hash="0" * 64,
                    created_at=expires_at - timedelta(minutes=10),
                    expires_at=expires_at,
                )
            )
        await db.commit()

    _run(settings, add)
    counts = _purge(settings, NOW)
    assert counts["sign_in_codes"] >= 1

    async def left(db: AsyncSession) -> list[datetime]:
        rows = await db.scalars(
            select(SignInCode.expires_at).where(SignInCode.destination == destination)
        )
        return sorted(rows.all())

    remaining = _run(settings, left)
    assert len(remaining) == 2  # just expired (within 24 hours) and live


def test_ended_sessions_in_the_database_are_deleted(settings: Settings) -> None:
    old, live = f"sessions:{uuid.uuid4().hex}", f"sessions:{uuid.uuid4().hex}"

    async def add(db: AsyncSession) -> None:
        db.add(StoredValue(key=old, value=b"{}", expires_at=NOW - timedelta(minutes=1)))
        db.add(StoredValue(key=live, value=b"{}", expires_at=NOW + timedelta(minutes=29)))
        await db.commit()

    _run(settings, add)
    assert _purge(settings, NOW)["sessions"] >= 1

    async def keys(db: AsyncSession) -> set[str]:
        rows = await db.scalars(select(StoredValue.key).where(StoredValue.key.in_([old, live])))
        return set(rows.all())

    assert _run(settings, keys) == {live}


def _conversation(
    settings: Settings, channel: str, last_message_age: timedelta, status: str = "bot"
) -> int:
    async def add(db: AsyncSession) -> int:
        conversation = Conversation(
            key=uuid.uuid4().hex,
            channel=channel,
            address=uuid.uuid4().hex[:20],
            language="en",
            status=status,
            created_at=NOW - last_message_age - DAY,
        )
        db.add(conversation)
        await db.flush()
        for age, direction in ((last_message_age + DAY, "in"), (last_message_age, "out")):
            db.add(
                ChatMessage(
                    conversation_id=conversation.id,
                    direction=direction,
                    author="citizen" if direction == "in" else "bot",
                    body="hello",
                    created_at=NOW - age,
                )
            )
        db.add(
            Handoff(
                conversation_id=conversation.id,
                reason="asked",
                requested_at=NOW - last_message_age - DAY,
                ended_at=None if status != "bot" else NOW - last_message_age,
            )
        )
        await db.commit()
        return conversation.id

    return int(_run(settings, add))


def test_old_web_chats_are_deleted_and_recent_or_open_ones_kept(settings: Settings) -> None:
    old = _conversation(settings, "web", 31 * DAY)
    recent = _conversation(settings, "web", 29 * DAY)
    with_an_agent = _conversation(settings, "web", 60 * DAY, status="agent")
    by_sms = _conversation(settings, "sms", 60 * DAY)

    counts = _purge(settings, NOW)
    assert counts["web_chats"] >= 1

    async def left(db: AsyncSession) -> tuple[set[int], int]:
        ids = [old, recent, with_an_agent, by_sms]
        found = set(
            (await db.scalars(select(Conversation.id).where(Conversation.id.in_(ids)))).all()
        )
        messages = len(
            (
                await db.scalars(select(ChatMessage.id).where(ChatMessage.conversation_id == old))
            ).all()
        )
        return found, messages

    found, old_messages = _run(settings, left)
    assert found == {recent, with_an_agent, by_sms}
    assert old_messages == 0


def test_bot_models_beyond_the_newest_are_deleted(settings: Settings) -> None:
    folder = settings.bot_models_dir
    folder.mkdir(parents=True)
    names = [f"model-{n}.tar.gz" for n in range(5)]
    for age, name in enumerate(reversed(names)):  # model-4 newest
        path = folder / name
        path.write_bytes(b"model")
        moment = NOW.timestamp() - age * 3600
        os.utime(path, (moment, moment))
    (folder / "notes.txt").write_text("not a model")

    assert _purge(settings, NOW)["bot_models"] == 2
    assert sorted(p.name for p in folder.iterdir()) == [
        "model-2.tar.gz",
        "model-3.tar.gz",
        "model-4.tar.gz",
        "notes.txt",
    ]


def test_the_worker_purges_once_per_period_and_survives_a_failure(
    make_settings: Callable[..., Settings], settings: Settings, tmp_path: Path
) -> None:
    async def go() -> tuple[Any, Any, Any]:
        engine = make_engine(settings.database_url)
        try:
            retention = Retention(async_sessionmaker(engine), settings)
            first = await retention.run_when_due()
            second = await retention.run_when_due()  # within the hour
            broken = make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/none/x.db")
            unmigrated = make_engine(broken.database_url)
            failed = await Retention(async_sessionmaker(unmigrated), broken).run_when_due()
            await unmigrated.dispose()
            return first, second, failed
        finally:
            await engine.dispose()

    first, second, failed = run_async(go())
    assert isinstance(first, dict) and "drafts" in first
    assert second is None
    assert failed is None  # logged, not raised


def test_the_warning_must_come_before_the_deletion(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValueError, match="FRONTDOOR_DRAFT_WARNING_DAYS"):
        make_settings(draft_retention_days=10, draft_warning_days=10)


def test_the_privacy_notice_states_each_period_from_the_settings(
    portal_factory: PortalFactory,
) -> None:
    portal = portal_factory(
        draft_retention_days=45,
        draft_warning_days=10,
        sign_in_code_retention_hours=36,
        web_chat_retention_days=20,
        session_idle_seconds=1200,
    )
    english = visible_text(portal.get("/privacy").text)
    for sentence in (
        "deleted once they have not been changed for 45 days",
        "At least 10 days before, we tell you by email or text message",
        "Sign-in codes are deleted 36 hours after they expire",
        "ends after 20 minutes without activity",
        "web chat are deleted 20 days after their last message",
    ):
        assert sentence in english, sentence
    spanish = visible_text(portal.get("/privacy", headers={"accept-language": "es"}).text)
    assert "llevan 45 días sin cambios" in spanish
    assert "Al menos 10 días antes" in spanish
    assert "36 horas después de caducar" in spanish
    arabic = visible_text(portal.get("/privacy", headers={"accept-language": "ar"}).text)
    assert "مدة احتفاظنا بها" in arabic
    assert "٤٥" in arabic or "45" in arabic
