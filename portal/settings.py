"""Settings from FRONTDOOR_* environment variables, validated once at start.

A bad value stops the process with a message that names the variable, rather than failing later
in the middle of a request.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

# Local defaults for the sandbox's Twilio-compatible API (see README). Production refuses them.
SANDBOX_TWILIO_ACCOUNT_SID = "AC00000000000000000000000000000000"
SANDBOX_TWILIO_AUTH_TOKEN = "sandbox-auth-token"  # noqa: S105 - documented local default, not a secret


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
    templates_dir: Path = ROOT / "templates"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True
    hsts_seconds: int = Field(default=0, ge=0)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    session_idle_seconds: int = Field(default=30 * 60, ge=60)
    twilio_api_url: str = "http://127.0.0.1:8100/twilio"
    twilio_account_sid: str = Field(
        default=SANDBOX_TWILIO_ACCOUNT_SID,
        validation_alias=AliasChoices("TWILIO_ACCOUNT_SID", "FRONTDOOR_TWILIO_ACCOUNT_SID"),
    )
    twilio_auth_token: SecretStr = Field(
        default=SecretStr(SANDBOX_TWILIO_AUTH_TOKEN),
        validation_alias=AliasChoices("TWILIO_AUTH_TOKEN", "FRONTDOOR_TWILIO_AUTH_TOKEN"),
    )
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=8025, ge=1, le=65535)
    backend_timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    @field_validator("public_url", "twilio_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

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
    def _production_needs_real_secrets(self) -> Settings:
        if self.env == "production":
            if self.secret_key is None:
                raise ValueError("FRONTDOOR_SECRET_KEY is required in production")
            if self.twilio_auth_token.get_secret_value() == SANDBOX_TWILIO_AUTH_TOKEN:
                raise ValueError("TWILIO_AUTH_TOKEN must be set in production")
            if not self.public_url.startswith("https://"):
                raise ValueError("FRONTDOOR_PUBLIC_URL must use https in production")
        return self

    @property
    def cookies_secure(self) -> bool:
        """Secure cookies whenever citizens reach us over HTTPS."""
        return self.public_url.startswith("https://")

    def secret(self) -> str:
        """The signing secret; in development one is made once and kept under var/."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.var_dir / "secret_key"
        if not path.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def _describe(error: ValidationError) -> str:
    lines = ["Front Door cannot start: bad setting(s) in the environment."]
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "settings"
        variable = f"FRONTDOOR_{field.upper()}" if item["loc"] else "settings"
        if field in {"twilio_account_sid", "twilio_auth_token"}:
            variable = field.upper()
        message = str(item["msg"]).removeprefix("Value error, ")
        shown = "" if "secret" in field or "token" in field else f" (got {item.get('input')!r})"
        lines.append(f"  {variable}: {message}{shown}")
    return "\n".join(lines)


def load_settings() -> Settings:
    """Read and validate the environment, or stop with a message a person can act on."""
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None
