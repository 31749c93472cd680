"""The typed clients of every backend, built once from the settings for the portal and the worker.

Each department is reached through its contract (portal/contracts/registry.py): adding one is a
line in the catalogue's departments.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from litestar import Request

from backend_clients.bills import BillsClient
from backend_clients.documents import DocumentClient
from backend_clients.gis import GeocoderClient
from backend_clients.http import ClientConfig
from backend_clients.mail import MailClient, SmtpConfig
from backend_clients.payments import PaymentsClient
from portal.catalogue.loader import Catalogue
from portal.contracts.base import Connection, Environment
from portal.contracts.registry import connect
from portal.settings import Settings
from portal.web.context import backend_headers


@dataclass
class Backends:
    connections: dict[str, Connection]  # by department id
    geocoder: GeocoderClient
    documents: DocumentClient
    payments: PaymentsClient
    bills: BillsClient

    def connection(self, department: str) -> Connection:
        """The department's connection; LookupError (a person must look) when it has none."""
        try:
            return self.connections[department]
        except KeyError:
            raise LookupError(f"no backend is configured for department {department!r}") from None

    async def aclose(self) -> None:
        for connection in self.connections.values():
            await connection.aclose()
        for client in (self.geocoder, self.documents, self.payments, self.bills):
            await client.aclose()


def backends_of(request: Request[Any, Any, Any]) -> Backends:
    backends: Backends = request.app.state.backends
    return backends


def make_backends(settings: Settings, catalogue: Catalogue) -> Backends:
    timeout = httpx.Timeout(settings.backend_timeout_seconds, connect=2.0)

    def config(base_url: str) -> ClientConfig:
        return ClientConfig(base_url=base_url, timeout=timeout, headers=backend_headers)

    documents = DocumentClient(config(settings.documents_url))
    mail = MailClient(
        SmtpConfig(settings.smtp_host, settings.smtp_port, timeout=settings.backend_timeout_seconds)
    )
    env = Environment(settings=settings, http=config, documents=documents, mail=mail)
    return Backends(
        connections={
            department.id: connect(department.id, department.contract, department.config, env)
            for department in catalogue.departments.values()
        },
        geocoder=GeocoderClient(config(settings.gis_url)),
        documents=documents,
        payments=PaymentsClient(
            config(settings.payments_url), settings.payments_api_key.get_secret_value()
        ),
        bills=BillsClient(config(settings.bills_url)),
    )
