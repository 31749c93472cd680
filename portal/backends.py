"""The typed clients of every backend, built once from the settings for the portal and the worker.

Adding a department is a line in the catalogue's departments.yaml; its client comes from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from backend_clients.bills import BillsClient
from backend_clients.departments import DepartmentClient
from backend_clients.documents import DocumentClient
from backend_clients.gis import GeocoderClient
from backend_clients.http import ClientConfig
from backend_clients.open311 import Open311Client
from backend_clients.payments import PaymentsClient
from portal.catalogue.loader import Catalogue
from portal.settings import Settings
from portal.web.context import backend_headers


@dataclass
class Backends:
    departments: dict[str, DepartmentClient]
    open311: Open311Client
    geocoder: GeocoderClient
    documents: DocumentClient
    payments: PaymentsClient
    bills: BillsClient

    async def aclose(self) -> None:
        for client in (
            *self.departments.values(),
            self.open311,
            self.geocoder,
            self.documents,
            self.payments,
            self.bills,
        ):
            await client.aclose()


def make_backends(settings: Settings, catalogue: Catalogue) -> Backends:
    timeout = httpx.Timeout(settings.backend_timeout_seconds, connect=2.0)

    def config(base_url: str) -> ClientConfig:
        return ClientConfig(base_url=base_url, timeout=timeout, headers=backend_headers)

    return Backends(
        departments={
            department.id: DepartmentClient(
                config(f"{settings.departments_url}/{department.id}"), department.id
            )
            for department in catalogue.departments.values()
            if department.contract == "department"
        },
        open311=Open311Client(
            config(settings.open311_url), settings.open311_api_key.get_secret_value()
        ),
        geocoder=GeocoderClient(config(settings.gis_url)),
        documents=DocumentClient(config(settings.documents_url)),
        payments=PaymentsClient(
            config(settings.payments_url), settings.payments_api_key.get_secret_value()
        ),
        bills=BillsClient(config(settings.bills_url)),
    )
