"""The flagship journey through the portal: one application, four departments, one timeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from conftest import Sandbox
from portal.app import create_app
from portal.settings import Settings
from tests.journey_support import check_token, fill_business, reference_of, run_worker, submit
from tests.support import sign_in_as


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database_url=database_url)


@pytest.fixture
def ana(settings: Settings) -> Any:
    with TestClient(create_app(settings)) as client:
        assert sign_in_as(client, "ana").status_code == 303
        yield client


def test_open_a_business_reaches_every_department_once(
    ana: Any, settings: Settings, sandbox: Sandbox
) -> None:
    base = fill_business(ana)
    check = ana.get(f"{base}/check")
    assert "Café Sol" in check.text and "Luis Pérez" in check.text and "lease.pdf" in check.text
    token = check_token(ana, base)
    first = submit(ana, base, token)
    assert first.status_code == 303
    reference = reference_of(first)
    again = submit(ana, base, token)  # a second click, or Back and send again
    assert reference_of(again) == reference
    assert run_worker(settings) == 4
    for department in ("trade-licence", "tax", "environment", "employer"):
        cases = [
            c
            for c in sandbox.cases(department)
            if c["request"]["application_reference"] == reference
        ]
        assert len(cases) == 1 and cases[0]["create_calls"] == 1, department
    page = ana.get(f"/applications/{reference}")
    assert page.status_code == 200
    # One timeline: sent, then each department's "received", each named.
    assert page.text.count('class="fd-timeline__item"') == 5
    for name in ("Trade licensing office", "Tax office", "Environment department"):
        assert name in page.text
