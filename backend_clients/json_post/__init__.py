"""The generic JSON adapter (CONTRACTS.md §10): one signed POST per application to a legacy
system's small wrapper, status coming back on the departments' webhook."""

from backend_clients.json_post.client import (
    SCHEMA,
    SCHEMA_FILE,
    JsonPostClient,
    Receipt,
    encode,
)

__all__ = ["SCHEMA", "SCHEMA_FILE", "JsonPostClient", "Receipt", "encode"]
