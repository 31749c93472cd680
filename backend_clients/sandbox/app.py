"""The sandbox's web app: /healthz, /_sandbox (faults, request log, case controls), /twilio,
/mail, /oidc, /departments, /gis, /documents, /open311, /payments, /bills, /digit and /legacy."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

from litestar import Litestar, Request, delete, get, put
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from pydantic import BaseModel, Field

from backend_clients.sandbox.bills import BillsController, BillsSandboxController, BillsState
from backend_clients.sandbox.departments import (
    DepartmentController,
    DepartmentSandboxController,
    DepartmentsState,
)
from backend_clients.sandbox.digit import DigitController, DigitSandboxController, DigitState
from backend_clients.sandbox.documents import DocumentController, DocumentStore
from backend_clients.sandbox.faults import Fault, FaultMiddleware, SandboxState
from backend_clients.sandbox.gis import GisController
from backend_clients.sandbox.legacy import LegacyController, LegacySandboxController, LegacyState
from backend_clients.sandbox.mail import MailController, MailState, start_smtp
from backend_clients.sandbox.oidc import OIDCController, make_issuers, set_tamper
from backend_clients.sandbox.open311 import Open311Controller, Open311State, advance_report
from backend_clients.sandbox.payments import (
    PaymentsController,
    PaymentsSandboxController,
    PaymentsState,
)
from backend_clients.sandbox.twilio import TwilioController, TwilioState

# The same documented local defaults as the portal's (README); set the variables to change both.
DEFAULT_ACCOUNT_SID = "AC00000000000000000000000000000000"
DEFAULT_AUTH_TOKEN = "sandbox-auth-token"  # noqa: S105 - documented local default
DEFAULT_WEBHOOK_SECRET = "sandbox-webhook-secret"  # noqa: S105 - documented local default
DEFAULT_OPEN311_API_KEY = "sandbox-open311-key"
DEFAULT_CASE_STEP_SECONDS = 20.0
DEFAULT_PAYMENTS_API_KEY = "sandbox-payments-api-key"
DEFAULT_PAYMENTS_WEBHOOK_SECRET = "sandbox-payments-webhook-secret"  # noqa: S105 - documented local default
DEFAULT_LEGACY_SECRET = "sandbox-legacy-secret"  # noqa: S105 - documented local default

logger = logging.getLogger(__name__)


class FaultSwitch(BaseModel):
    delay_ms: int = Field(default=0, ge=0, le=60_000)
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    down: bool = False
    lost_answer_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    duplicate_rate: float = Field(default=0.0, ge=0.0, le=1.0)


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/_sandbox/faults", sync_to_thread=False)
def list_faults(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return request.app.state.sandbox.describe()  # type: ignore[no-any-return]


@put("/_sandbox/faults/{backend:str}", sync_to_thread=False)
def set_fault(
    request: Request[Any, Any, Any], backend: FromPath[str], data: FaultSwitch
) -> dict[str, Any]:
    """Make one backend slow (delay_ms), flaky (error_rate 0..1) or down; or make the network
    between lose the answer after the backend did the work (lost_answer_rate), or deliver a
    request twice (duplicate_rate)."""
    sandbox: SandboxState = request.app.state.sandbox
    if backend not in sandbox.faults:
        raise NotFoundException(f"unknown backend {backend!r}; known: {sorted(sandbox.faults)}")
    sandbox.faults[backend] = Fault(**data.model_dump())
    return asdict(sandbox.faults[backend])


@delete("/_sandbox/faults", status_code=204, sync_to_thread=False)
def reset_faults(request: Request[Any, Any, Any]) -> None:
    sandbox: SandboxState = request.app.state.sandbox
    for name in sandbox.faults:
        sandbox.faults[name] = Fault()


@get("/_sandbox/requests", sync_to_thread=False)
def list_requests(
    request: Request[Any, Any, Any], backend: FromQuery[str | None] = None
) -> dict[str, Any]:
    """What the backends received, newest first, with each request's X-Request-ID."""
    sandbox: SandboxState = request.app.state.sandbox
    found = [
        item for item in reversed(sandbox.requests) if not backend or item["backend"] == backend
    ]
    return {"requests": found}


@delete("/_sandbox/requests", status_code=204, sync_to_thread=False)
def clear_requests(request: Request[Any, Any, Any]) -> None:
    request.app.state.sandbox.requests.clear()


async def run_clock(
    departments: DepartmentsState,
    open311: Open311State,
    step: float,
    digit: DigitState,
    legacy: LegacyState | None = None,
) -> None:
    """Move cases and problem reports along their scripts, one step every `step` seconds."""
    while True:
        await asyncio.sleep(min(step, 1.0))
        now = time.monotonic()
        try:
            departments.tick(now)
            open311.tick(now)
            digit.tick(now)
            if legacy is not None:
                legacy.tick(now)
        except Exception:  # one bad case must not stop the clock for the others
            logger.exception("sandbox clock")


def create_app(smtp_host: str = "127.0.0.1", smtp_port: int = 8025) -> Litestar:
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every connection
    sandbox = SandboxState()
    mail = MailState()
    twilio = TwilioState(
        account_sid=os.environ.get("TWILIO_ACCOUNT_SID", DEFAULT_ACCOUNT_SID),
        auth_token=os.environ.get("TWILIO_AUTH_TOKEN", DEFAULT_AUTH_TOKEN),
    )
    # 0 moves cases only on command (tests); the default leaves time to watch a demo.
    step = float(
        os.environ.get("FRONTDOOR_SANDBOX_CASE_STEP_SECONDS", str(DEFAULT_CASE_STEP_SECONDS))
    )
    departments = DepartmentsState(
        secret=os.environ.get("FRONTDOOR_WEBHOOK_SECRET", DEFAULT_WEBHOOK_SECRET).encode(),
        step_seconds=step,
    )
    open311 = Open311State(
        api_key=os.environ.get("FRONTDOOR_OPEN311_API_KEY", DEFAULT_OPEN311_API_KEY),
        step_seconds=step,
    )

    digit = DigitState(step_seconds=step)
    legacy = LegacyState(
        secret=os.environ.get("FRONTDOOR_SANDBOX_LEGACY_SECRET", DEFAULT_LEGACY_SECRET).encode(),
        webhook_secret=os.environ.get("FRONTDOOR_WEBHOOK_SECRET", DEFAULT_WEBHOOK_SECRET).encode(),
        step_seconds=step,
    )

    payments = PaymentsState(
        api_key=os.environ.get("FRONTDOOR_PAYMENTS_API_KEY", DEFAULT_PAYMENTS_API_KEY),
        webhook_secret=os.environ.get(
            "FRONTDOOR_PAYMENTS_WEBHOOK_SECRET", DEFAULT_PAYMENTS_WEBHOOK_SECRET
        ).encode(),
        webhook_url=os.environ.get("FRONTDOOR_SANDBOX_PAYMENTS_WEBHOOK_URL") or None,
        slow_seconds=float(os.environ.get("FRONTDOOR_SANDBOX_SLOW_CARD_SECONDS", "5")),
    )

    @asynccontextmanager
    async def smtp(_: Litestar) -> AsyncIterator[None]:
        controller = start_smtp(mail, sandbox, smtp_host, smtp_port)
        try:
            yield
        finally:
            controller.stop()

    @asynccontextmanager
    async def clock(_: Litestar) -> AsyncIterator[None]:
        task = (
            asyncio.create_task(run_clock(departments, open311, step, digit, legacy))
            if step > 0
            else None
        )
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await departments.stop()
            await payments.stop()
            await legacy.stop()

    app = Litestar(
        route_handlers=[
            healthz,
            list_faults,
            set_fault,
            reset_faults,
            list_requests,
            clear_requests,
            TwilioController,
            OIDCController,
            set_tamper,
            MailController,
            DepartmentController,
            DepartmentSandboxController,
            GisController,
            DocumentController,
            Open311Controller,
            advance_report,
            PaymentsController,
            PaymentsSandboxController,
            BillsController,
            BillsSandboxController,
            DigitController,
            DigitSandboxController,
            LegacyController,
            LegacySandboxController,
        ],
        lifespan=[smtp, clock],
        openapi_config=None,
    )
    app.state.sandbox = sandbox
    app.state.mail = mail
    app.state.twilio = twilio
    app.state.oidc = make_issuers()
    app.state.departments = departments
    app.state.open311 = open311
    app.state.payments = payments
    app.state.bills = BillsState.seeded()
    app.state.documents = DocumentStore()
    app.state.digit = digit
    app.state.legacy = legacy
    app.asgi_handler = FaultMiddleware(app.asgi_handler, sandbox)
    return app


def app_factory() -> Litestar:
    """For the ASGI server; ports come from FRONTDOOR_SANDBOX_SMTP_PORT (default 8025)."""
    return create_app(smtp_port=int(os.environ.get("FRONTDOOR_SANDBOX_SMTP_PORT", "8025")))
