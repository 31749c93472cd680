"""Fixtures for the in-process suites: the portal app served by Litestar's test client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from portal.app import create_app
from portal.settings import Settings

PortalFactory = Callable[..., TestClient[Any]]


@pytest.fixture
def portal_factory(make_settings: Callable[..., Settings]) -> Iterator[PortalFactory]:
    """Start the portal with settings overrides; each client is closed after the test."""
    clients: list[TestClient[Any]] = []

    def start(**overrides: Any) -> TestClient[Any]:
        client: TestClient[Any] = TestClient(create_app(make_settings(**overrides)))
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def portal(portal_factory: PortalFactory, database_url: str) -> TestClient[Any]:
    """The portal on a migrated database (SQLite and PostgreSQL)."""
    return portal_factory(database_url=database_url)


@pytest.fixture
def web(portal_factory: PortalFactory, tmp_path: Any) -> TestClient[Any]:
    """The portal for tests that do not touch the database (runs once, on SQLite)."""
    return portal_factory()
