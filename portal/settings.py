"""Settings from FRONTDOOR_* environment variables, validated once at start.

A bad value stops the process with a message that names the variable, rather than failing later
in the middle of a request.
"""

from __future__ import annotations

import difflib
import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from pydantic import (
    AliasChoices,
    Field,
    IPvAnyNetwork,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

# Production over HTTPS tells browsers to use nothing else for at least a year (OWASP ASVS).
MIN_HSTS_SECONDS = 365 * 24 * 3600

# Local defaults for the sandbox's Twilio-compatible API (see README). Production refuses them.
SANDBOX_TWILIO_ACCOUNT_SID = "AC00000000000000000000000000000000"
SANDBOX_TWILIO_AUTH_TOKEN = "sandbox-auth-token"  # noqa: S105 - documented local default, not a secret
SANDBOX_TWILIO_API_URL = "http://127.0.0.1:8100/twilio"
SANDBOX_CITIZEN_ISSUER = "http://127.0.0.1:8100/oidc/citizen"
SANDBOX_CITIZEN_SECRET = "sandbox-citizen-secret"  # noqa: S105 - documented local default
SANDBOX_STAFF_ISSUER = "http://127.0.0.1:8100/oidc/staff"
SANDBOX_STAFF_SECRET = "sandbox-staff-secret"  # noqa: S105 - documented local default
SANDBOX_URL = "http://127.0.0.1:8100"
SANDBOX_WEBHOOK_SECRET = "sandbox-webhook-secret"  # noqa: S105 - documented local default
SANDBOX_OPEN311_KEY = "sandbox-open311-key"
SANDBOX_PAYMENTS_KEY = "sandbox-payments-api-key"
SANDBOX_PAYMENTS_SECRET = "sandbox-payments-webhook-secret"  # noqa: S105 - documented local default
SANDBOX_BOT_SECRET = "sandbox-bot-secret"  # noqa: S105 - documented local default
SANDBOX_RASA_TOKEN = "sandbox-rasa-token"  # noqa: S105 - documented local default
SANDBOX_DIGIT_TOKEN = "sandbox-digit-token"  # noqa: S105 - documented local default


# Read under Twilio's own variable names, without the FRONTDOOR_ prefix.
TWILIO_NAMES = {"twilio_account_sid", "twilio_auth_token"}


class SettingsError(SystemExit):
    """Raised when the environment holds a bad setting; its message names the variable."""


class Settings(BaseSettings):
    """Every knob of the portal. Field `x` is read from `FRONTDOOR_X`."""

    model_config = SettingsConfigDict(env_prefix="FRONTDOOR_", extra="ignore", frozen=True)

    env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=2, ge=1, le=64)
    public_url: str = "http://127.0.0.1:8000"
    database_url: str = f"sqlite+aiosqlite:///{ROOT / 'var' / 'frontdoor.db'}"
    redis_url: str | None = None
    secret_key: SecretStr | None = None
    var_dir: Path = ROOT / "var"
    static_dir: Path = ROOT / "build" / "static"
    locales_dir: Path = ROOT / "locales"
    # The languages served, in the switcher's order; each needs its catalogue in locales_dir
    # (locales/<code>/LC_MESSAGES/messages.po, compiled by make translations). JSON list.
    languages: tuple[str, ...] = ("en", "es", "ar")
    # How each language writes dates, as a Babel locale (JSON object); a language not listed
    # writes them its own way. English as in Britain by default: 4 December 2026, 13:34.
    date_locales: dict[str, str] = Field(default_factory=lambda: {"en": "en_GB"})
    # The city's time zone: every date and time shown to a person is in it (IANA name).
    time_zone: str = "Europe/Madrid"
    templates_dir: Path = ROOT / "templates"
    fonts_dir: Path = ROOT / "build" / "fonts"  # for PDF receipts (DejaVu, with Arabic)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True
    hsts_seconds: int = Field(default=0, ge=0)
    # Load balancers in front of the portal: their X-Forwarded-For names the citizen's address
    # (used for rate limits and the audit trail). JSON list, e.g. ["10.0.0.0/8"].
    trusted_proxies: tuple[IPvAnyNetwork, ...] = ()
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    session_idle_seconds: int = Field(default=30 * 60, ge=60)
    session_absolute_seconds: int = Field(default=12 * 3600, ge=60)
    citizen_oidc_issuer: str = SANDBOX_CITIZEN_ISSUER
    citizen_oidc_client_id: str = "frontdoor-portal"
    citizen_oidc_client_secret: SecretStr = SecretStr(SANDBOX_CITIZEN_SECRET)
    staff_oidc_issuer: str = SANDBOX_STAFF_ISSUER
    staff_oidc_client_id: str = "frontdoor-staff"
    staff_oidc_client_secret: SecretStr = SecretStr(SANDBOX_STAFF_SECRET)
    # A staff sign-in counts as multi-factor when its acr is one of these, or its amr names a
    # second factor (RFC 8176: otp, hwk, swk, sms, face, fpt...).
    staff_mfa_acr_values: tuple[str, ...] = ("urn:frontdoor:mfa",)
    twilio_api_url: str = SANDBOX_TWILIO_API_URL
    twilio_account_sid: str = Field(
        default=SANDBOX_TWILIO_ACCOUNT_SID,
        validation_alias=AliasChoices("TWILIO_ACCOUNT_SID", "FRONTDOOR_TWILIO_ACCOUNT_SID"),
    )
    twilio_auth_token: SecretStr = Field(
        default=SecretStr(SANDBOX_TWILIO_AUTH_TOKEN),
        validation_alias=AliasChoices("TWILIO_AUTH_TOKEN", "FRONTDOOR_TWILIO_AUTH_TOKEN"),
    )
    twilio_from_number: str = "+15550001111"  # the number citizens receive SMS from
    phone_region: str = Field(default="ES", pattern=r"^[A-Z]{2}$")  # for numbers without +country
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=8025, ge=1, le=65535)
    backend_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    readiness_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    catalogue_dir: Path = ROOT / "portal" / "catalogue" / "definitions"
    # Department case APIs: {departments_url}/{department id} (backend_clients/CONTRACTS.md).
    departments_url: str = f"{SANDBOX_URL}/departments"
    gis_url: str = f"{SANDBOX_URL}/gis"
    documents_url: str = f"{SANDBOX_URL}/documents"
    open311_url: str = f"{SANDBOX_URL}/open311"
    open311_api_key: SecretStr = SecretStr(SANDBOX_OPEN311_KEY)
    # The payment gateway (GOV.UK Pay-style) and the tax office's bills (CONTRACTS.md §5, §7).
    payments_url: str = f"{SANDBOX_URL}/payments"
    payments_api_key: SecretStr = SecretStr(SANDBOX_PAYMENTS_KEY)
    payments_webhook_secret: SecretStr = SecretStr(SANDBOX_PAYMENTS_SECRET)
    bills_url: str = f"{SANDBOX_URL}/bills"
    # DIGIT (eGov, CONTRACTS.md §9): its gateway, the city's tenant, and the access token of the
    # portal's system user (sent in DIGIT's RequestInfo).
    digit_url: str = f"{SANDBOX_URL}/digit"
    digit_tenant: str = Field(default="pb.riverside", min_length=1)
    digit_auth_token: SecretStr = SecretStr(SANDBOX_DIGIT_TOKEN)
    # How often each worker looks for translations editors have published (0: every request).
    catalogue_check_seconds: float = Field(default=1.0, ge=0, le=60)
    # How often each worker adds up the texts it showed in English for want of a translation.
    missing_translations_save_seconds: float = Field(default=30.0, ge=0, le=3600)
    # Bill look-ups allowed per minute to a conversation with the assistant (each one asks the
    # tax office); a network address may make ten times as many on the web.
    bill_lookups_per_minute: int = Field(default=5, ge=1, le=1000)
    # Answers to "Is this page useful?" allowed per network address per minute.
    feedback_per_minute: int = Field(default=10, ge=1, le=10_000)
    # The assistant (chatbot/): Rasa's server, its API token, and the secret Rasa presents to the
    # portal's NLG and action endpoints.
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: SecretStr = SecretStr(SANDBOX_RASA_TOKEN)
    bot_secret: SecretStr = SecretStr(SANDBOX_BOT_SECRET)
    # How long an SMS or WhatsApp message is tried again while the bot cannot be reached (a Rasa
    # server restarting) before the citizen is told the assistant cannot answer just now.
    bot_retry_seconds: float = Field(default=20.0, ge=0, le=600)
    # Shared with the departments: signs their status webhooks (HMAC-SHA256).
    webhook_secret: SecretStr = SecretStr(SANDBOX_WEBHOOK_SECRET)
    webhook_tolerance_seconds: int = Field(default=300, ge=30, le=3600)
    # The worker: how long it sleeps when idle, and how often it asks departments that do not
    # push their news.
    worker_idle_seconds: float = Field(default=1.0, gt=0, le=60)
    # Deliveries each worker runs at once, and at most this many to one backend (so a slow
    # department does not hold every slot, nor get more calls at once than it can take).
    worker_concurrency: int = Field(default=32, ge=1, le=256)
    worker_per_backend: int = Field(default=8, ge=1, le=256)
    case_check_seconds: float = Field(default=30.0, gt=0, le=86_400)
    # Prometheus metrics on ports of their own, on FRONTDOOR_HOST (never the public port): the
    # portal's (all its ASGI workers, and the queues read from the database) and the outbox
    # worker's. 0 turns either off. See docs/operations.md.
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    worker_metrics_port: int = Field(default=9465, ge=0, le=65535)
    # Retention (portal/retention/): the worker deletes what is kept only for a while once it is
    # this old; the privacy notice states each period from these. A draft not changed for
    # draft_retention_days is deleted, its owner told draft_warning_days before (at least).
    draft_retention_days: int = Field(default=90, ge=2, le=3650)
    draft_warning_days: int = Field(default=14, ge=1, le=365)
    # Sign-in codes (their hashes) are deleted this long after they expire.
    sign_in_code_retention_hours: int = Field(default=24, ge=1, le=24 * 365)
    # A web chat conversation is deleted this long after its last message, unless a person is
    # still dealing with it (handed over and not handed back).
    web_chat_retention_days: int = Field(default=30, ge=1, le=3650)
    # The bot's trained models (scripts/bot.py trains to chatbot/models): the newest are kept.
    bot_models_dir: Path = ROOT / "chatbot" / "models"
    bot_models_kept: int = Field(default=3, ge=1, le=100)
    # How often the worker looks for what is due for deletion.
    retention_period_seconds: float = Field(default=3600.0, ge=60, le=86_400)

    @field_validator(
        "public_url",
        "twilio_api_url",
        "citizen_oidc_issuer",
        "staff_oidc_issuer",
        "departments_url",
        "gis_url",
        "documents_url",
        "open311_url",
        "payments_url",
        "bills_url",
        "rasa_url",
        "digit_url",
    )
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            try:
                Locale.parse(code)
            except (ValueError, UnknownLocaleError):
                raise ValueError(f"{code!r} is not a language Babel knows") from None
        if "en" not in value:
            raise ValueError("must include en, the language every message is written in")
        return tuple(dict.fromkeys(value))

    @field_validator("date_locales")
    @classmethod
    def _known_date_locales(cls, value: dict[str, str]) -> dict[str, str]:
        for code in value.values():
            try:
                Locale.parse(code)
            except (ValueError, UnknownLocaleError):
                raise ValueError(f"{code!r} is not a locale Babel knows") from None
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ValueError, ZoneInfoNotFoundError):
            raise ValueError(f"{value!r} is not a time zone (use an IANA name)") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value.startswith("postgresql://"):
            return "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        if not value.startswith(("postgresql+psycopg://", "sqlite+aiosqlite:///")):
            raise ValueError("use postgresql+psycopg://... or sqlite+aiosqlite:///path")
        return value

    @model_validator(mode="after")
    def _warning_before_deletion(self) -> Settings:
        """A draft's owner is warned while it is still there: before its deletion is due."""
        if self.draft_warning_days >= self.draft_retention_days:
            raise ValueError(
                "FRONTDOOR_DRAFT_WARNING_DAYS must be less than FRONTDOOR_DRAFT_RETENTION_DAYS"
            )
        return self

    @model_validator(mode="after")
    def _production_needs_real_services(self) -> Settings:
        """Production must not run on the sandbox's documented defaults or without HTTPS."""
        if self.env != "production":
            return self
        problems = []
        if self.secret_key is None or len(self.secret_key.get_secret_value()) < 32:
            problems.append(
                "FRONTDOOR_SECRET_KEY of at least 32 characters is required in production"
            )
        if self.twilio_auth_token.get_secret_value() == SANDBOX_TWILIO_AUTH_TOKEN:
            problems.append("TWILIO_AUTH_TOKEN is the sandbox's token: set the real one")
        if self.twilio_api_url == SANDBOX_TWILIO_API_URL:
            problems.append(
                "FRONTDOOR_TWILIO_API_URL points at the sandbox: set https://api.twilio.com"
            )
        if not self.public_url.startswith("https://"):
            problems.append("FRONTDOOR_PUBLIC_URL must use https in production")
        elif self.hsts_seconds < MIN_HSTS_SECONDS:
            problems.append(
                f"FRONTDOOR_HSTS_SECONDS of at least {MIN_HSTS_SECONDS} (a year) is required "
                "in production over https"
            )
        if self.citizen_oidc_issuer == SANDBOX_CITIZEN_ISSUER:
            problems.append("FRONTDOOR_CITIZEN_OIDC_ISSUER points at the sandbox")
        if self.citizen_oidc_client_secret.get_secret_value() == SANDBOX_CITIZEN_SECRET:
            problems.append("FRONTDOOR_CITIZEN_OIDC_CLIENT_SECRET is the sandbox's secret")
        if self.staff_oidc_issuer == SANDBOX_STAFF_ISSUER:
            problems.append("FRONTDOOR_STAFF_OIDC_ISSUER points at the sandbox")
        if self.staff_oidc_client_secret.get_secret_value() == SANDBOX_STAFF_SECRET:
            problems.append("FRONTDOOR_STAFF_OIDC_CLIENT_SECRET is the sandbox's secret")
        backends = (
            self.departments_url,
            self.gis_url,
            self.documents_url,
            self.open311_url,
            self.payments_url,
            self.bills_url,
        )
        if any(url.startswith(SANDBOX_URL) for url in backends):
            problems.append(
                "a department, GIS, document, Open311, payments or bills URL points at the sandbox"
            )
        if self.payments_api_key.get_secret_value() == SANDBOX_PAYMENTS_KEY:
            problems.append("FRONTDOOR_PAYMENTS_API_KEY is the sandbox's key")
        if self.payments_webhook_secret.get_secret_value() == SANDBOX_PAYMENTS_SECRET:
            problems.append("FRONTDOOR_PAYMENTS_WEBHOOK_SECRET is the sandbox's secret")
        if self.webhook_secret.get_secret_value() == SANDBOX_WEBHOOK_SECRET:
            problems.append("FRONTDOOR_WEBHOOK_SECRET is the sandbox's secret")
        if self.open311_api_key.get_secret_value() == SANDBOX_OPEN311_KEY:
            problems.append("FRONTDOOR_OPEN311_API_KEY is the sandbox's key")
        if self.bot_secret.get_secret_value() == SANDBOX_BOT_SECRET:
            problems.append("FRONTDOOR_BOT_SECRET is the sandbox's secret")
        if self.rasa_token.get_secret_value() == SANDBOX_RASA_TOKEN:
            problems.append("FRONTDOOR_RASA_TOKEN is the sandbox's token")
        if self.digit_url.startswith(SANDBOX_URL):
            problems.append("FRONTDOOR_DIGIT_URL points at the sandbox")
        if self.digit_auth_token.get_secret_value() == SANDBOX_DIGIT_TOKEN:
            problems.append("FRONTDOOR_DIGIT_AUTH_TOKEN is the sandbox's token")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def cookies_secure(self) -> bool:
        """Secure cookies whenever citizens reach us over HTTPS."""
        return self.public_url.startswith("https://")

    def secret(self) -> str:
        """The signing secret; outside production one is made once and kept under var/.

        Several workers start at once: the first to create the file writes it, the others read it.
        """
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.var_dir / "secret_key"
        self.var_dir.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            for _ in range(50):  # the writer may not have finished
                if value := path.read_text().strip():
                    return value
                time.sleep(0.01)
            raise
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()


def _describe(error: ValidationError) -> str:
    """One line per problem, naming the variable; the value is echoed only for plain fields."""
    lines = ["Front Door cannot start: bad setting(s) in the environment."]
    for item in error.errors():
        message = str(item["msg"]).removeprefix("Value error, ")
        if not item["loc"]:  # a check across fields: its message names the variables
            lines.append(f"  {message}")
            continue
        field = str(item["loc"][0])
        variable = field.upper() if field in TWILIO_NAMES else f"FRONTDOOR_{field.upper()}"
        # URLs may carry passwords (postgresql://user:password@host).
        secret = "secret" in field or "token" in field or "url" in field
        shown = "" if secret else f" (got {item.get('input')!r})"
        lines.append(f"  {variable}: {message}{shown}")
    return "\n".join(lines)


# FRONTDOOR_* variables read by other programs of the project (sandbox, tests), not by the portal.
OTHER_PREFIXES = (
    "FRONTDOOR_SANDBOX_",
    "FRONTDOOR_TEST_",
    "FRONTDOOR_CHROMIUM",
    "FRONTDOOR_CHATBOT_",
)


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """FRONTDOOR_* variables that set nothing, each with the setting it was probably meant for."""
    known = {f"FRONTDOOR_{name.upper()}" for name in Settings.model_fields}
    found = []
    for name in sorted(environ):
        if (
            name.startswith("FRONTDOOR_")
            and name not in known
            and not name.startswith(OTHER_PREFIXES)
        ):
            guess = difflib.get_close_matches(name, known, n=1)
            found.append(
                f"{name} is not a setting" + (f" (did you mean {guess[0]}?)" if guess else "")
            )
    return found


def load_settings() -> Settings:
    """Read and validate the environment, or stop with a message a person can act on."""
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None
