"""What the document service knows about a stored file (CONTRACTS.md §3)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StoredDocument(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    filename: str
    content_type: str
    size: int = Field(ge=0)
    sha256: str
