"""The service catalogue: services, departments and topics declared as YAML, checked at start."""

from __future__ import annotations

from typing import Any

from litestar import Request

from portal.catalogue.loader import Catalogue


def catalogue_of(request: Request[Any, Any, Any]) -> Catalogue:
    """The catalogue loaded when the app was built."""
    catalogue: Catalogue = request.app.state.catalogue
    return catalogue


__all__ = ["Catalogue", "catalogue_of"]
