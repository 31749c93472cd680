"""The document service (CONTRACTS.md §3): multipart upload, download, metadata; in memory."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath

MAX_BYTES = 10 * 1024 * 1024
# Litestar refuses a larger body before reading it, which a client still sending sees as a broken
# connection, not a 413; so the body limit leaves room and the 10 MiB rule is checked here.
BODY_LIMIT = 16 * 1024 * 1024


@dataclass
class DocumentStore:
    documents: dict[str, tuple[dict[str, Any], bytes]] = field(default_factory=dict)

    def add(self, filename: str, content_type: str, content: bytes) -> dict[str, Any]:
        document_id = "doc_" + secrets.token_hex(12)
        metadata: dict[str, Any] = {
            "id": document_id,
            "filename": filename,
            "content_type": content_type,
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
        }
        self.documents[document_id] = (metadata, content)
        return dict(metadata)


def _error(status: int, message: str) -> Response[dict[str, str]]:
    return Response({"error": message}, status_code=status)


def _basename(filename: str) -> str:
    """The name without any folders a browser may send along (either kind of slash)."""
    return PurePosixPath(PureWindowsPath(filename).name).name or "document"


class DocumentController(Controller):
    path = "/documents/documents"
    include_in_schema = False

    @post(request_max_body_size=BODY_LIMIT)
    async def upload(self, request: Request[Any, Any, Any]) -> Response[Any]:
        store: DocumentStore = request.app.state.documents
        form = await request.form()
        part = form.get("file")
        if not isinstance(part, UploadFile):
            return _error(422, "send one multipart part named 'file' with a filename")
        content = await part.read()
        await part.close()
        if len(content) > MAX_BYTES:
            return _error(413, f"documents are limited to {MAX_BYTES} bytes")
        content_type = part.content_type or "application/octet-stream"
        return Response(store.add(_basename(part.filename), content_type, content), status_code=201)

    @get("/{document_id:str}")
    async def download(
        self, request: Request[Any, Any, Any], document_id: FromPath[str]
    ) -> Response[Any]:
        found = request.app.state.documents.documents.get(document_id)
        if found is None:
            return _error(404, f"no document {document_id!r}")
        metadata, content = found
        filename = quote(metadata["filename"])
        # Set as a header, the type is sent as stored (media_type would add a charset to text/*).
        return Response(
            content,
            headers={
                "Content-Type": metadata["content_type"],
                "Content-Disposition": f"attachment; filename*=UTF-8''{filename}",
            },
        )

    @get("/{document_id:str}/metadata")
    async def metadata(
        self, request: Request[Any, Any, Any], document_id: FromPath[str]
    ) -> Response[Any]:
        found = request.app.state.documents.documents.get(document_id)
        if found is None:
            return _error(404, f"no document {document_id!r}")
        return Response(dict(found[0]))
