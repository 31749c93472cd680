"""Finding a service: browse by topic, search in the current language, a start page each."""

from __future__ import annotations

from functools import cache
from typing import Any

from litestar import Request, Response, Router, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from portal.catalogue import Catalogue, catalogue_of
from portal.catalogue.search import search
from portal.settings import ROOT

SCHEMA = ROOT / "portal" / "catalogue" / "definitions" / "service.schema.json"


@get("/services", name="services")
async def services(request: Request[Any, Any, Any], q: FromQuery[str] = "") -> Template:
    """Every topic with its services; with `q`, the services that match it."""
    catalogue = catalogue_of(request)
    query = q.strip()[:100]
    context = {
        "catalogue": catalogue,
        "query": query,
        "results": search(catalogue, query) if query else None,
    }
    return Template("catalogue/index.html", context=context)


@get("/services/topics/{topic_id:str}", name="topic")
async def topic(request: Request[Any, Any, Any], topic_id: FromPath[str]) -> Template:
    catalogue = catalogue_of(request)
    found = catalogue.topics.get(topic_id)
    if found is None:
        raise NotFoundException()
    context = {"topic": found, "services": catalogue.in_topic(topic_id)}
    return Template("catalogue/topic.html", context=context)


@get("/services/{service_id:str}", name="service")
async def service_page(request: Request[Any, Any, Any], service_id: FromPath[str]) -> Template:
    """The start page: what the service does, who it is for, what you need, Start now."""
    catalogue = catalogue_of(request)
    service = catalogue.services.get(service_id)
    if service is None and service_id in catalogue.retired:
        return retired_page(catalogue, service_id)
    if service is None:
        raise NotFoundException()
    context = {
        "service": service,
        "topic": catalogue.topics[service.topic],
        "departments": [
            catalogue.departments[delivery.department] for delivery in service.deliver_to
        ],
        "conditional": {d.department for d in service.deliver_to if d.when},
    }
    return Template("catalogue/service.html", context=context)


@cache
def _schema() -> bytes:
    return SCHEMA.read_bytes()


@get("/services/schema.json", name="service_schema")
async def service_schema() -> Response[bytes]:
    """The definition format as JSON Schema (python -m portal services schema writes it), so
    designers get completion and checks in their own editors."""
    return Response(
        _schema(),
        media_type="application/schema+json",
        headers={"cache-control": "public, max-age=3600"},
    )


def retired_page(catalogue: Catalogue, service_id: str) -> Template:
    """A retired service says so (410 Gone), with the way to the others; drafts and
    applications made with it go on elsewhere."""
    service = catalogue.version(service_id, catalogue.number_of(service_id))
    context = {"service": service, "service_id": service_id}
    return Template("catalogue/retired.html", context=context, status_code=410)


catalogue_routes = Router(
    path="/",
    route_handlers=[services, service_schema, topic, service_page],
    include_in_schema=False,
)
