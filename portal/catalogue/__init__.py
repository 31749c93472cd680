"""The service catalogue: services, departments and topics declared as YAML, checked at start."""

from __future__ import annotations

from typing import Any

from litestar import Request

from portal.catalogue.loader import Catalogue


def catalogue_of(request: Request[Any, Any, Any]) -> Catalogue:
    """The catalogue this worker serves now: the repository's departments, topics and links, and
    the services as designers last published them (portal.design.live, checked before each
    request)."""
    catalogue: Catalogue = request.app.state.catalogue
    return catalogue


__all__ = ["Catalogue", "catalogue_of"]
