"""A bad setting stops the portal at start with a message naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from portal.settings import Settings, SettingsError, load_settings


def test_bad_port_is_named_with_the_value_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTDOOR_PORT", "eighty")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "FRONTDOOR_PORT" in str(error.value)
    assert "'eighty'" in str(error.value)


def test_unknown_database_driver_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTDOOR_DATABASE_URL", "mysql://root@localhost/frontdoor")
    with pytest.raises(SettingsError, match="FRONTDOOR_DATABASE_URL"):
        load_settings()


def test_plain_postgresql_url_uses_the_async_psycopg_driver() -> None:
    settings = Settings(database_url="postgresql://app@db/frontdoor")
    assert settings.database_url == "postgresql+psycopg://app@db/frontdoor"


def test_production_refuses_the_sandbox_and_never_echoes_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FRONTDOOR_ENV", "production")
    monkeypatch.setenv("FRONTDOOR_PUBLIC_URL", "http://services.example.gov")
    monkeypatch.setenv("FRONTDOOR_DATABASE_URL", "postgresql://app:db-password-1@db/frontdoor")
    with pytest.raises(SettingsError) as error:
        load_settings()
    message = str(error.value)
    for problem in (
        "FRONTDOOR_SECRET_KEY of at least 32 characters is required",
        "TWILIO_AUTH_TOKEN is the sandbox's token",
        "FRONTDOOR_TWILIO_API_URL points at the sandbox",
        "FRONTDOOR_PUBLIC_URL must use https",
    ):
        assert problem in message
    monkeypatch.setenv("FRONTDOOR_SECRET_KEY", "signing-secret-value-" * 2)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "real-token-value")
    with pytest.raises(SettingsError) as error:
        load_settings()
    for secret in ("signing-secret-value", "real-token-value", "db-password-1"):
        assert secret not in str(error.value)
    monkeypatch.setenv("FRONTDOOR_PUBLIC_URL", "https://services.example.gov")
    monkeypatch.setenv("FRONTDOOR_TWILIO_API_URL", "https://api.twilio.com")
    with pytest.raises(SettingsError, match="FRONTDOOR_CITIZEN_OIDC_ISSUER points at the sandbox"):
        load_settings()
    monkeypatch.setenv("FRONTDOOR_CITIZEN_OIDC_ISSUER", "https://id.example.gov")
    monkeypatch.setenv("FRONTDOOR_CITIZEN_OIDC_CLIENT_SECRET", "real-oidc-secret")
    monkeypatch.setenv("FRONTDOOR_STAFF_OIDC_ISSUER", "https://staff-id.example.gov")
    monkeypatch.setenv("FRONTDOOR_STAFF_OIDC_CLIENT_SECRET", "real-staff-secret")
    with pytest.raises(SettingsError, match="FRONTDOOR_WEBHOOK_SECRET is the sandbox's secret"):
        load_settings()
    for name, value in (
        ("DEPARTMENTS_URL", "https://cases.example.gov"),
        ("GIS_URL", "https://gis.example.gov"),
        ("DOCUMENTS_URL", "https://documents.example.gov"),
        ("OPEN311_URL", "https://works.example.gov/open311"),
        ("OPEN311_API_KEY", "real-open311-key"),
        ("WEBHOOK_SECRET", "real-webhook-secret"),
    ):
        monkeypatch.setenv(f"FRONTDOOR_{name}", value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    for problem in (
        "payments or bills URL points at the sandbox",
        "FRONTDOOR_PAYMENTS_API_KEY is the sandbox's key",
        "FRONTDOOR_PAYMENTS_WEBHOOK_SECRET is the sandbox's secret",
    ):
        assert problem in str(error.value)
    for name, value in (
        ("PAYMENTS_URL", "https://pay.example.gov"),
        ("BILLS_URL", "https://bills.example.gov"),
        ("PAYMENTS_API_KEY", "real-payments-key"),
        ("PAYMENTS_WEBHOOK_SECRET", "real-payments-webhook-secret"),
    ):
        monkeypatch.setenv(f"FRONTDOOR_{name}", value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "FRONTDOOR_BOT_SECRET is the sandbox's secret" in str(error.value)
    assert "FRONTDOOR_RASA_TOKEN is the sandbox's token" in str(error.value)
    assert "FRONTDOOR_DIGIT_URL points at the sandbox" in str(error.value)
    assert "FRONTDOOR_DIGIT_AUTH_TOKEN is the sandbox's token" in str(error.value)
    monkeypatch.setenv("FRONTDOOR_BOT_SECRET", "real-bot-secret")
    monkeypatch.setenv("FRONTDOOR_RASA_TOKEN", "real-rasa-token")
    monkeypatch.setenv("FRONTDOOR_DIGIT_URL", "https://digit.example.gov")
    monkeypatch.setenv("FRONTDOOR_DIGIT_AUTH_TOKEN", "real-digit-token")
    monkeypatch.setenv("FRONTDOOR_HSTS_SECONDS", "31536000")
    assert load_settings().env == "production"


def test_secret_values_are_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTDOOR_HSTS_SECONDS", "-1")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "FRONTDOOR_HSTS_SECONDS" in str(error.value)


def test_check_command_exits_with_the_message_for_a_bad_value() -> None:
    env = {**os.environ, "FRONTDOOR_WORKERS": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "portal", "check"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "FRONTDOOR_WORKERS" in result.stderr
    assert "Traceback" not in result.stderr


def test_development_secret_is_made_once_and_kept(tmp_path: object) -> None:
    settings = Settings(var_dir=tmp_path)  # type: ignore[arg-type]
    first = settings.secret()
    assert len(first) >= 40
    assert Settings(var_dir=tmp_path).secret() == first  # type: ignore[arg-type]


def test_a_misspelt_variable_is_pointed_out() -> None:
    env = {**os.environ, "FRONTDOOR_PORTT": "9000"}
    result = subprocess.run(
        [sys.executable, "-m", "portal", "check"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "FRONTDOOR_PORTT is not a setting (did you mean FRONTDOOR_PORT?)" in result.stderr


def test_workers_starting_together_share_one_development_secret(tmp_path: object) -> None:
    code = (
        "import sys; from portal.settings import Settings; "
        "print(Settings(var_dir=sys.argv[1]).secret())"
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(6)
    ]
    secrets = {worker.communicate()[0].strip() for worker in workers}
    assert len(secrets) == 1 and len(secrets.pop()) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600  # type: ignore[operator]


PRODUCTION = {
    "FRONTDOOR_ENV": "production",
    "FRONTDOOR_PUBLIC_URL": "https://services.example.gov",
    "FRONTDOOR_SECRET_KEY": "signing-secret-value-" * 2,
    "TWILIO_AUTH_TOKEN": "real-token-value",
    "FRONTDOOR_TWILIO_API_URL": "https://api.twilio.com",
    "FRONTDOOR_CITIZEN_OIDC_ISSUER": "https://id.example.gov",
    "FRONTDOOR_CITIZEN_OIDC_CLIENT_SECRET": "real-oidc-secret",
    "FRONTDOOR_STAFF_OIDC_ISSUER": "https://staff-id.example.gov",
    "FRONTDOOR_STAFF_OIDC_CLIENT_SECRET": "real-staff-secret",
    "FRONTDOOR_DEPARTMENTS_URL": "https://cases.example.gov",
    "FRONTDOOR_GIS_URL": "https://gis.example.gov",
    "FRONTDOOR_DOCUMENTS_URL": "https://documents.example.gov",
    "FRONTDOOR_OPEN311_URL": "https://works.example.gov/open311",
    "FRONTDOOR_OPEN311_API_KEY": "real-open311-key",
    "FRONTDOOR_WEBHOOK_SECRET": "real-webhook-secret",
    "FRONTDOOR_PAYMENTS_URL": "https://pay.example.gov",
    "FRONTDOOR_BILLS_URL": "https://bills.example.gov",
    "FRONTDOOR_PAYMENTS_API_KEY": "real-payments-key",
    "FRONTDOOR_PAYMENTS_WEBHOOK_SECRET": "real-payments-webhook-secret",
    "FRONTDOOR_BOT_SECRET": "real-bot-secret",
    "FRONTDOOR_RASA_TOKEN": "real-rasa-token",
    "FRONTDOOR_DIGIT_URL": "https://digit.example.gov",
    "FRONTDOOR_DIGIT_AUTH_TOKEN": "real-digit-token",
}


@pytest.mark.parametrize("hsts", [None, "0", "86400"])
def test_production_over_https_requires_hsts_for_at_least_a_year(
    monkeypatch: pytest.MonkeyPatch, hsts: str | None
) -> None:
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    if hsts is not None:
        monkeypatch.setenv("FRONTDOOR_HSTS_SECONDS", hsts)
    with pytest.raises(SettingsError, match="FRONTDOOR_HSTS_SECONDS of at least 31536000"):
        load_settings()
    monkeypatch.setenv("FRONTDOOR_HSTS_SECONDS", "31536000")
    assert load_settings().hsts_seconds == 31536000
