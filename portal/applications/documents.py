"""Keeping a citizen's file: the bytes go to the document service, we keep what it is."""

from __future__ import annotations

import hashlib

from sqlalchemy.ext.asyncio import AsyncSession

from backend_clients.documents import DocumentClient
from portal.applications.models import Document
from portal.forms.fields import sniff


async def keep_document(
    documents: DocumentClient, db: AsyncSession, citizen_id: int, filename: str, content: bytes
) -> Document:
    """Store an already checked file; raises BackendError when the service cannot take it."""
    content_type = sniff(content) or "application/octet-stream"
    stored = await documents.upload(filename, content_type, content)
    document = Document(
        citizen_id=citizen_id,
        stored_id=stored.id,
        filename=filename,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    db.add(document)
    await db.flush()
    return document
