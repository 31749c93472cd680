"""Authorization code flow with PKCE, state and nonce; ID tokens verified against the JWKS.

Authlib makes the random values and the PKCE challenge; joserfc (Authlib's JOSE library) checks
the ID token: RS256 signature by a key of the provider, issuer, audience, expiry and nonce.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from backend_clients.http import BackendClient, BackendError, ClientConfig
from backend_clients.oidc.models import ProviderMetadata, TokenResponse

CLOCK_LEEWAY = 60
METADATA_SECONDS = 3600


class IdTokenRejected(BackendError):
    """The provider answered, but its ID token cannot be trusted (reason in the message)."""


@dataclass(frozen=True)
class OIDCConfig:
    issuer: str
    client_id: str
    client_secret: str
    scope: str = "openid profile email phone"


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, and what to keep (server side) until it comes back."""

    url: str
    state: str
    nonce: str
    code_verifier: str


class OIDCClient(BackendClient):
    name = "oidc"

    def __init__(self, config: ClientConfig, oidc: OIDCConfig) -> None:
        super().__init__(config)
        self.oidc = oidc
        self._metadata: ProviderMetadata | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None

    async def metadata(self) -> ProviderMetadata:
        """The provider's discovery document, cached for an hour; its issuer must be ours."""
        if self._metadata is None or time.monotonic() - self._metadata_at > METADATA_SECONDS:
            response = await self.request(
                "GET", f"{self.oidc.issuer}/.well-known/openid-configuration"
            )
            metadata = ProviderMetadata.model_validate(response.json())
            if metadata.issuer != self.oidc.issuer:
                raise BackendError(f"oidc: discovery names issuer {metadata.issuer!r}")
            self._metadata, self._metadata_at = metadata, time.monotonic()
        return self._metadata

    async def _key_set(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            response = await self.request("GET", (await self.metadata()).jwks_uri)
            self._keys = KeySet.import_key_set(response.json())
        return self._keys

    async def authorization_request(self, redirect_uri: str, **extra: str) -> AuthorizationRequest:
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        params = {
            "response_type": "code",
            "client_id": self.oidc.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.oidc.scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
            **extra,
        }
        url = str(add_params_to_uri((await self.metadata()).authorization_endpoint, params))
        return AuthorizationRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)

    async def exchange_code(
        self, code: str, code_verifier: str, redirect_uri: str
    ) -> TokenResponse:
        response = await self.request(
            "POST",
            (await self.metadata()).token_endpoint,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            },
            auth=(self.oidc.client_id, self.oidc.client_secret),
        )
        return TokenResponse.model_validate(response.json())

    async def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims, once signature, issuer, audience, expiry and nonce check out."""
        # ID tokens come from the token endpoint, not the browser. On failure, fetch the key set
        # again once: the provider may have rotated its keys since we cached them.
        try:
            token = jwt.decode(id_token, await self._key_set(), algorithms=["RS256"])
        except (JoseError, ValueError):
            try:
                token = jwt.decode(
                    id_token, await self._key_set(refresh=True), algorithms=["RS256"]
                )
            except (JoseError, ValueError) as error:
                raise IdTokenRejected(f"oidc: bad ID token signature ({error})") from error
        registry = jwt.JWTClaimsRegistry(
            leeway=CLOCK_LEEWAY,
            iss={"essential": True, "value": self.oidc.issuer},
            aud={"essential": True, "value": self.oidc.client_id},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(token.claims)
        except JoseError as error:
            raise IdTokenRejected(f"oidc: ID token refused ({error})") from error
        audiences = token.claims["aud"]
        if (
            isinstance(audiences, list)
            and len(audiences) > 1
            and token.claims.get("azp") != self.oidc.client_id
        ):
            raise IdTokenRejected("oidc: ID token refused (azp is not this client)")
        return dict(token.claims)

    async def logout_url(self, id_token_hint: str, post_logout_redirect_uri: str) -> str | None:
        """The provider's RP-initiated logout address, when it has one."""
        endpoint = (await self.metadata()).end_session_endpoint
        if endpoint is None:
            return None
        params = {
            "id_token_hint": id_token_hint,
            "post_logout_redirect_uri": post_logout_redirect_uri,
        }
        return str(add_params_to_uri(endpoint, params))
