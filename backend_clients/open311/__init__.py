"""Open311 GeoReport v2: problem reports to public works."""

from backend_clients.open311.client import Open311Client
from backend_clients.open311.models import Open311Service, ServiceRequest, ServiceRequestStatus

__all__ = ["Open311Client", "Open311Service", "ServiceRequest", "ServiceRequestStatus"]
