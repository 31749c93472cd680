"""Assembles the portal: `create_app(settings)` is the only place the app is put together.

Tests build the app with their own settings; `portal.asgi:app_factory` builds it from the
environment for the ASGI server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import structlog
from litestar import Litestar, Request
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.htmx import HTMXPlugin
from litestar.stores.base import Store
from litestar.stores.redis import RedisStore
from litestar.template.config import TemplateConfig
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from backend_clients.http import ClientConfig
from backend_clients.mail import MailClient, SmtpConfig
from backend_clients.oidc import OIDCClient, OIDCConfig
from backend_clients.twilio import TwilioClient
from portal.applications.routes import applications
from portal.applications.webhooks import department_webhook
from portal.assisted.links import links_for_agents, links_for_citizens
from portal.assisted.routes import access, activity, assisted
from portal.audit import AuditLog
from portal.catalogue.loader import load_catalogue
from portal.catalogue.routes import catalogue_routes
from portal.conversations.bot_api import nlg, run_action
from portal.conversations.deps import DEPENDENCIES as conversations_dependencies
from portal.conversations.inbox import inbox_routes
from portal.conversations.language import warm_up
from portal.conversations.twilio_webhook import twilio_webhook
from portal.conversations.web_chat import web_chat
from portal.conversations.wiring import conversations, rasa_client
from portal.database import make_engine, provide_session
from portal.database.counters import DatabaseCounters
from portal.database.engine import read_only_sessions
from portal.database.store import DatabaseStore
from portal.design.live import LiveCatalogue
from portal.design.notice import english_fallback
from portal.design.routes import design
from portal.design.seed import seed
from portal.feedback.routes import answered, give_feedback
from portal.health.deps import DEPENDENCIES as health_dependencies
from portal.health.readiness import Probe, Readiness
from portal.health.routes import healthz, healthz_head, readyz
from portal.i18n.catalogue import load_catalogues, plural_texts
from portal.i18n.formatting import configure_dates
from portal.identity.codes import SignInCodes
from portal.identity.deps import DEPENDENCIES as identity_dependencies
from portal.identity.routes import identity
from portal.identity.service import signed_in
from portal.journeys.routes import journeys
from portal.logs import configure_logging
from portal.mydata.routes import mydata
from portal.observability.middleware import Observed
from portal.observability.tracing import start_tracing, trace_engine, traced
from portal.offices.routes import offices
from portal.operations.routes import operations
from portal.pages.routes import pages
from portal.payments.admin import payments_admin
from portal.payments.bills import bills
from portal.payments.deps import DEPENDENCIES as payments_dependencies
from portal.payments.routes import payments
from portal.payments.webhooks import payment_webhook
from portal.settings import Settings
from portal.shared.acting import PREVIEW, acting, acting_here
from portal.shared.backends import make_backends
from portal.shared.deps import DEPENDENCIES as shared_dependencies
from portal.staff.routes import staff
from portal.staff.service import current_staff, staff_areas
from portal.translations import preview
from portal.translations.messages import load_messages, with_versions
from portal.translations.missing import MissingCounts
from portal.translations.overlay import CatalogueOverlay
from portal.translations.routes import translations
from portal.web.context import RequestContext, backend_headers
from portal.web.cookies import cookie_names
from portal.web.csrf import SessionCSRF
from portal.web.errors import SignInRequired, error_response, to_sign_in
from portal.web.ids import refuse_control_characters
from portal.web.language import switch_language
from portal.web.limits import Counters, RedisCounters, redis_client
from portal.web.sessions import SessionConfig
from portal.web.static import StaticFiles, static_file
from portal.web.templating import build_environment, template_engine

# Routes that neither read nor write sessions or forms: no cookie on them (static files are
# cached publicly for a year, so a Set-Cookie there could hand one visitor's cookie to another).
NO_COOKIES = ["^/static/", "^/healthz$", "^/readyz$", "^/schema", "^/webhooks/", "^/bot/"]


def _shared_state(settings: Settings, engine: AsyncEngine) -> tuple[Store, Counters]:
    """Redis when configured, else the database: either way every replica shares sessions and
    rate-limit counts. One Redis client (and pool) serves both."""
    if settings.redis_url:
        redis = redis_client(settings.redis_url)
        return RedisStore(redis, namespace="frontdoor-sessions"), RedisCounters(redis)
    return DatabaseStore(engine), DatabaseCounters(engine)


async def _services_from_database(app: Litestar, settings: Settings) -> None:
    """The repository's service files join the database's services (every worker may do it at
    once), then the catalogue is served from there."""
    try:
        await seed(app.state.sessionmaker, settings.catalogue_dir)
    except Exception:  # no migrated database: the repository's files alone, as before
        structlog.get_logger().warning("services_not_seeded", exc_info=True)
    app.state.live = LiveCatalogue(
        app.state.catalogue, app.state.reader, settings.catalogue_check_seconds
    )
    app.state.base_messages = app.state.messages
    await _current_services(app, force=True)


async def _current_services(app: Litestar, *, force: bool = False) -> None:
    """This worker's catalogue as designers last published it (a small query a second); the
    editors' list of messages gains each version's texts when they change."""
    live: LiveCatalogue = app.state.live
    seen = live.generation
    app.state.catalogue = await live.refresh(force=force)
    if live.generation != seen:
        app.state.messages = with_versions(app.state.base_messages, live.sources)


def _designing(request: Request[Any, Any, Any]) -> bool:
    """A designer reads what they just saved, whichever worker saved it: their pages and their
    preview check the versions on every request, not once a second (a preview started on
    another worker a moment after the save found no such version and went back to the outline)."""
    if request.url.path.startswith("/staff/services"):
        return True
    session = request.scope.get("session")
    return isinstance(session, dict) and PREVIEW in session


def create_app(settings: Settings) -> Litestar:
    """Build the portal for `settings`."""
    configure_logging(settings.log_level, settings.log_json)
    start_tracing("frontdoor-portal")  # when OTEL_* ask for it; before the engine is made
    load_catalogues(settings.locales_dir, settings.languages)
    configure_dates(settings.date_locales, settings.time_zone)
    catalogue = load_catalogue(settings.catalogue_dir)
    static = StaticFiles(settings.static_dir)
    environment = build_environment(settings, static)
    environment.globals["feedback_answered"] = answered
    environment.globals["signed_in"] = signed_in
    environment.globals["acting_for"] = acting
    environment.globals["acting_here"] = acting_here
    environment.globals["staff_member"] = current_staff
    environment.globals["staff_areas"] = staff_areas
    environment.globals["plural_texts"] = plural_texts
    environment.globals["english_fallback"] = english_fallback
    timeout = httpx.Timeout(settings.backend_timeout_seconds, connect=2.0)

    engine = make_engine(settings.database_url)
    trace_engine(engine)
    session_store, counters = _shared_state(settings, engine)

    def oidc_client(issuer: str, client_id: str, client_secret: str) -> OIDCClient:
        return OIDCClient(
            ClientConfig(base_url=issuer, timeout=timeout, headers=backend_headers),
            OIDCConfig(issuer=issuer, client_id=client_id, client_secret=client_secret),
        )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.db_engine = engine
        app.state.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        app.state.reader = read_only_sessions(engine)
        app.state.counters = counters
        app.state.audit = AuditLog(app.state.sessionmaker)
        app.state.overlay = CatalogueOverlay(app.state.reader, settings.catalogue_check_seconds)
        await _services_from_database(app, settings)
        app.state.missing = MissingCounts(
            app.state.sessionmaker,
            set(app.state.messages.by_key),
            settings.missing_translations_save_seconds,
        )
        app.state.backends = make_backends(settings, catalogue)
        app.state.twilio = TwilioClient(
            ClientConfig(
                base_url=settings.twilio_api_url,
                timeout=timeout,
                headers=backend_headers,
                auth=(settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value()),
            ),
            account_sid=settings.twilio_account_sid,
        )
        app.state.bot = rasa_client(settings, backend_headers)
        await anyio.to_thread.run_sync(warm_up)
        app.state.citizen_oidc = oidc_client(
            settings.citizen_oidc_issuer,
            settings.citizen_oidc_client_id,
            settings.citizen_oidc_client_secret.get_secret_value(),
        )
        app.state.staff_oidc = oidc_client(
            settings.staff_oidc_issuer,
            settings.staff_oidc_client_id,
            settings.staff_oidc_client_secret.get_secret_value(),
        )
        app.state.mail = MailClient(
            SmtpConfig(
                settings.smtp_host, settings.smtp_port, timeout=settings.backend_timeout_seconds
            )
        )

        async def database() -> None:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))

        app.state.sign_in_codes = SignInCodes(
            app.state.sessionmaker,
            settings.secret(),
            app.state.twilio,
            settings.twilio_from_number,
            app.state.mail,
            app.state.audit,
            counters,
        )
        app.state.gateway, _ = conversations(
            app.state.sessionmaker,
            settings,
            app.state.bot,
            app.state.audit,
            app.state.sign_in_codes,
            app.state.twilio,
        )
        required: dict[str, Probe] = {"database": database}
        if isinstance(counters, RedisCounters):
            required["redis"] = counters.redis.ping
        app.state.readiness = Readiness(
            required,
            max_age=settings.readiness_cache_seconds,
            backends={"messaging": app.state.twilio.fetch_account, "mail": app.state.mail.ping},
        )
        try:
            yield
        finally:
            await app.state.readiness.aclose()
            await app.state.twilio.aclose()
            await app.state.bot.aclose()
            await app.state.citizen_oidc.aclose()
            await app.state.staff_oidc.aclose()
            await app.state.backends.aclose()
            await counters.aclose()
            await engine.dispose()

    names = cookie_names(settings.cookies_secure)
    session_config = SessionConfig(
        key=names.session,
        store="sessions",
        max_age=settings.session_idle_seconds,
        renew_on_access=True,
        secure=settings.cookies_secure,
        httponly=True,
        samesite="lax",
        exclude=NO_COOKIES,
    )
    # Inside the session middleware: the token is checked against the session's.
    csrf_config = CSRFConfig(
        secret=settings.secret(),
        cookie_name=names.csrf,
        cookie_secure=settings.cookies_secure,
        cookie_httponly=True,
        cookie_samesite="lax",
        header_name="x-csrftoken",
        exclude=NO_COOKIES,
    )
    csrf = DefineMiddleware(SessionCSRF, config=csrf_config, public_url=settings.public_url)

    async def current_catalogue(request: Request[Any, Any, Any]) -> None:
        """Every page is served with what editors have published (checked now and then);
        static files and probes have no text to translate."""
        await refuse_control_characters(request)
        if not request.url.path.startswith(("/static/", "/healthz", "/readyz")):
            await request.app.state.overlay.refresh()
            await _current_services(request.app, force=_designing(request))
            await request.app.state.missing.save()
            preview.apply(request)  # an editor's draft, on the pages they open to see it

    app = Litestar(
        before_request=current_catalogue,
        route_handlers=[
            pages,
            identity,
            mydata,
            catalogue_routes,
            journeys,
            applications,
            department_webhook,
            payments,
            bills,
            payment_webhook,
            twilio_webhook,
            nlg,
            run_action,
            inbox_routes,
            assisted,
            access,
            activity,
            links_for_agents,
            links_for_citizens,
            web_chat,
            payments_admin,
            operations,
            offices,
            translations,
            design,
            staff,
            switch_language,
            give_feedback,
            healthz,
            healthz_head,
            readyz,
            static_file,
        ],
        dependencies={
            "settings": Provide(lambda: settings, sync_to_thread=False, use_cache=True),
            "db": Provide(provide_session),
            **shared_dependencies,
            **payments_dependencies,
            **conversations_dependencies,
            **identity_dependencies,
            **health_dependencies,
        },
        lifespan=[lifespan],
        template_config=TemplateConfig(instance=template_engine(environment)),
        plugins=[HTMXPlugin()],
        stores={"sessions": session_store},
        middleware=[session_config.middleware, csrf],
        compression_config=CompressionConfig(
            backend="gzip", minimum_size=512, gzip_compress_level=6, exclude=["/static"]
        ),
        exception_handlers={SignInRequired: to_sign_in, Exception: error_response},
        openapi_config=OpenAPIConfig(
            title="Front Door portal API",
            version="0.1.0",
            path="/schema",
            # The JSON document only: the UI plugins load scripts from CDNs, which the CSP forbids.
            render_plugins=[JsonRenderPlugin()],
        ),
        request_max_body_size=settings.max_body_bytes,
        logging_config=None,
        debug=False,
    )
    app.state.settings = settings
    app.state.catalogue = catalogue
    app.state.messages = load_messages(settings.locales_dir)
    app.state.static = static
    app.state.session_config = session_config
    app.state.csrf_config = csrf_config
    # Outermost: every request, matched route or not, gets an id, a locale and security headers.
    # Around it, the request's span (when tracing is on) and its metrics, by route template.
    app.asgi_handler = traced(Observed(RequestContext(app.asgi_handler, settings)))
    return app
