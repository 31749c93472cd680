"""`python -m portal worker`: delivers the outbox and asks quiet departments for news."""

from __future__ import annotations

import asyncio
import signal

import httpx
import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker

from backend_clients.http import ClientConfig
from backend_clients.mail import MailClient, SmtpConfig
from backend_clients.twilio import TwilioClient
from portal.applications.delivery import ApplicationWork
from portal.audit import AuditLog
from portal.catalogue.loader import load_catalogue
from portal.conversations.wiring import conversations, rasa_client
from portal.database import make_engine
from portal.database.counters import DatabaseCounters
from portal.design.live import LiveCatalogue
from portal.i18n.catalogue import load_catalogues
from portal.i18n.formatting import configure_dates
from portal.identity.codes import SignInCodes
from portal.logs import configure_logging
from portal.observability.exporter import start_worker_exporter
from portal.observability.metrics import outbox_finished
from portal.observability.tracing import start_tracing, trace_engine
from portal.outbox.models import OutboxMessage
from portal.outbox.worker import Handler, Outbox
from portal.payments.work import PaymentWork
from portal.retention.schedule import Retention
from portal.retention.warnings import DraftWarnings
from portal.settings import Settings
from portal.shared.backends import make_backends
from portal.translations.overlay import CatalogueOverlay
from portal.web.limits import RedisCounters, redis_client

log = structlog.get_logger()


def application_work(settings: Settings) -> tuple[ApplicationWork, Outbox]:
    """The worker's parts, also used by tests to run it in-process."""
    load_catalogues(settings.locales_dir, settings.languages)
    configure_dates(settings.date_locales, settings.time_zone)
    catalogue = load_catalogue(settings.catalogue_dir)
    # Each delivery holds a connection while it waits for its backend; renewals need a few more.
    engine = make_engine(settings.database_url, settings.worker_concurrency + 4)
    trace_engine(engine)
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    timeout = httpx.Timeout(settings.backend_timeout_seconds, connect=2.0)
    work = ApplicationWork(
        sessionmaker=sessionmaker,
        backends=make_backends(settings, catalogue),
        catalogue=catalogue,
        settings=settings,
        twilio=TwilioClient(
            ClientConfig(
                base_url=settings.twilio_api_url,
                timeout=timeout,
                auth=(settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value()),
            ),
            account_sid=settings.twilio_account_sid,
        ),
        mail=MailClient(
            SmtpConfig(
                settings.smtp_host, settings.smtp_port, timeout=settings.backend_timeout_seconds
            )
        ),
    )
    work.overlay = CatalogueOverlay(sessionmaker, settings.catalogue_check_seconds)
    # Services come from the database as designers publish them: checked before every message.
    work.live = LiveCatalogue(catalogue, sessionmaker, settings.catalogue_check_seconds)
    payments = PaymentWork(sessionmaker, work.backends, catalogue)

    def current(handler: Handler) -> Handler:
        async def handle(message: OutboxMessage) -> None:
            work.catalogue = payments.catalogue = await work.live.refresh()
            await handler(message)

        return handle

    handlers = {
        kind: current(h)
        for kind, h in {
            **work.handlers(),
            **payments.handlers(),
            **DraftWarnings(work).handlers(),
        }.items()
    }
    handlers |= _conversations(work, settings)  # need no catalogue
    failures = {kind: current(h) for kind, h in work.failure_handlers().items()}
    outbox = Outbox(
        sessionmaker,
        handlers,
        failures,
        concurrency=settings.worker_concurrency,
        per_backend=settings.worker_per_backend,
        on_finish=outbox_finished,
    )
    return work, outbox


def _conversations(work: ApplicationWork, settings: Settings) -> dict[str, Handler]:
    """Chat turns and replies a portal could not finish (it died, or the bot or Twilio could
    not be reached), answered and sent as the portal would."""
    engine = work.sessionmaker.kw["bind"]
    redis = redis_client(settings.redis_url) if settings.redis_url else None
    counters = RedisCounters(redis) if redis else DatabaseCounters(engine)
    audit = AuditLog(work.sessionmaker)
    codes = SignInCodes(
        work.sessionmaker,
        settings.secret(),
        work.twilio,
        settings.twilio_from_number,
        work.mail,
        audit,
        counters,
    )
    work.bot = rasa_client(settings)
    _, handlers = conversations(work.sessionmaker, settings, work.bot, audit, codes, work.twilio)
    return handlers


async def periodic(work: ApplicationWork, retention: Retention | None = None) -> None:
    """Now and then: ask quiet departments for news and the gateway about unfinished payments,
    and (when its period has passed, whatever else failed) delete what is kept only a while."""
    try:
        if work.live is not None:
            work.catalogue = await work.live.refresh()
        await work.check_cases()
        await PaymentWork(work.sessionmaker, work.backends, work.catalogue).reconcile()
    finally:
        if retention is not None:
            await retention.run_when_due()


async def close(work: ApplicationWork) -> None:
    await work.backends.aclose()
    await work.twilio.aclose()
    if work.bot is not None:
        await work.bot.aclose()
    engine = work.sessionmaker.kw["bind"]
    await engine.dispose()


async def run_worker(settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_json)
    start_tracing("frontdoor-worker")  # when OTEL_* ask for it; before the engine is made
    start_worker_exporter(settings)
    work, outbox = application_work(settings)
    retention = Retention(work.sessionmaker, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    log.info("worker_started")
    try:
        await outbox.run(
            stop,
            idle_seconds=settings.worker_idle_seconds,
            periodic=lambda: periodic(work, retention),
            period_seconds=min(settings.case_check_seconds, 10.0),
        )
    finally:
        await close(work)
        log.info("worker_stopped")
