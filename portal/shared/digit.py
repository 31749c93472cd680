"""A DIGIT client for the staff areas that read DIGIT's master data and texts (designers and
editors), built from the settings as the backends are; closed after each use, as these are
rare, deliberate actions and citizens' pages never wait on DIGIT."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from backend_clients.digit import DigitClient
from backend_clients.http import ClientConfig
from portal.settings import Settings
from portal.web.context import backend_headers


@asynccontextmanager
async def digit_client(settings: Settings) -> AsyncIterator[DigitClient]:
    """DIGIT at `digit_url` for the portal's tenant, with the portal's system token."""
    timeout = httpx.Timeout(settings.backend_timeout_seconds, connect=2.0)
    client = DigitClient(
        ClientConfig(base_url=settings.digit_url, timeout=timeout, headers=backend_headers),
        tenant_id=settings.digit_tenant,
        auth_token=settings.digit_auth_token.get_secret_value(),
    )
    try:
        yield client
    finally:
        await client.aclose()
