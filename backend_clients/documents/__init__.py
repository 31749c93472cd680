"""The document service: uploads, downloads and metadata."""

from backend_clients.documents.client import MAX_BYTES, DocumentClient
from backend_clients.documents.models import StoredDocument

__all__ = ["MAX_BYTES", "DocumentClient", "StoredDocument"]
