"""The parts of an OpenID provider's documents that a relying party reads."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ProviderMetadata(BaseModel):
    model_config = ConfigDict(extra="ignore")

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None
    end_session_endpoint: str | None = None


class TokenResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")

    access_token: str
    token_type: str
    id_token: str
    expires_in: int | None = None
