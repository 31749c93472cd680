"""OpenID Connect relying party: the national identity service for citizens, the staff directory
for staff (the sandbox's /oidc/citizen and /oidc/staff locally)."""

from backend_clients.oidc.client import (
    AuthorizationRequest,
    IdTokenRejected,
    OIDCClient,
    OIDCConfig,
)

__all__ = ["AuthorizationRequest", "IdTokenRejected", "OIDCClient", "OIDCConfig"]
