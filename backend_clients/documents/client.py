"""Store the files citizens attach, and read them back (staff, and the departments by id)."""

from __future__ import annotations

from urllib.parse import quote

from backend_clients.documents.models import StoredDocument
from backend_clients.http import BackendClient

MAX_BYTES = 10 * 1024 * 1024  # larger uploads are refused with 413


class DocumentClient(BackendClient):
    name = "documents"

    def _path(self, document_id: str) -> str:
        return f"/documents/{quote(document_id, safe='')}"

    async def upload(self, filename: str, content_type: str, content: bytes) -> StoredDocument:
        """Store one file (multipart part `file`); BackendRejected(413) above MAX_BYTES."""
        response = await self.request(
            "POST", "/documents", files={"file": (filename, content, content_type)}
        )
        return self.read(response, StoredDocument)

    async def download(self, document_id: str) -> tuple[bytes, str]:
        """The file's bytes and content type."""
        response = await self.request("GET", self._path(document_id))
        content_type = response.headers.get("content-type", "application/octet-stream")
        return response.content, content_type

    async def metadata(self, document_id: str) -> StoredDocument:
        response = await self.request("GET", f"{self._path(document_id)}/metadata")
        return self.read(response, StoredDocument)
