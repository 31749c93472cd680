"""The citizen's data download, from their account page."""

from __future__ import annotations

from typing import Any

from litestar import Response, Router, get
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditLog
from portal.identity.models import Citizen
from portal.identity.service import require_citizen
from portal.mydata.export import everything_held


@get("/account/data.json", name="download_data")
async def download_data(
    citizen: NamedDependency[Citizen],
    db: NamedDependency[AsyncSession],
    audit: NamedDependency[AuditLog],
) -> Response[dict[str, Any]]:
    """Everything the front door holds about the citizen, as one JSON document."""
    subject = f"citizen:{citizen.id}"
    content = await everything_held(db, citizen)
    await audit.record("data_downloaded", actor=subject, subject=subject)
    return Response(
        content,
        headers={
            "content-disposition": 'attachment; filename="my-city-of-riverside-data.json"',
            "cache-control": "no-store",
        },
    )


mydata = Router(
    path="/",
    route_handlers=[download_data],
    dependencies={"citizen": Provide(require_citizen)},
    include_in_schema=False,
)
