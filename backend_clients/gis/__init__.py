"""The municipal GIS geocoder."""

from backend_clients.gis.client import GeocoderClient
from backend_clients.gis.models import Address

__all__ = ["Address", "GeocoderClient"]
