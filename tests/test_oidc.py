"""The OIDC client against the sandbox's providers: the real flow, and every way it must fail."""

from __future__ import annotations

import pytest

from backend_clients.http import BackendRejected, ClientConfig
from backend_clients.oidc import IdTokenRejected, OIDCClient, OIDCConfig
from conftest import Sandbox
from tests.support import choose_user

REDIRECT = "http://127.0.0.1:9/sign-in/callback"


def client(
    sandbox: Sandbox, issuer: str = "citizen", secret: str = "sandbox-citizen-secret"
) -> OIDCClient:
    client_id = "frontdoor-portal" if issuer == "citizen" else "frontdoor-staff"
    return OIDCClient(
        ClientConfig(base_url=sandbox.url),
        OIDCConfig(f"{sandbox.url}/oidc/{issuer}", client_id, secret),
    )


async def test_a_citizen_signs_in_with_pkce_state_and_nonce(sandbox: Sandbox) -> None:
    oidc = client(sandbox)
    request = await oidc.authorization_request(REDIRECT)
    assert "code_challenge_method=S256" in request.url
    answer = choose_user(request.url, "omar")
    assert answer["state"] == request.state
    tokens = await oidc.exchange_code(answer["code"], request.code_verifier, REDIRECT)
    claims = await oidc.verify_id_token(tokens.id_token, request.nonce)
    assert claims["name"] == "Omar Haddad" and claims["locale"] == "ar"
    await oidc.aclose()


async def test_staff_tokens_carry_roles_and_authentication_methods(sandbox: Sandbox) -> None:
    oidc = client(sandbox, "staff", "sandbox-staff-secret")
    request = await oidc.authorization_request(REDIRECT)
    answer = choose_user(request.url, "agent-no-mfa")
    tokens = await oidc.exchange_code(answer["code"], request.code_verifier, REDIRECT)
    claims = await oidc.verify_id_token(tokens.id_token, request.nonce)
    assert claims["roles"] == ["agent"] and claims["amr"] == ["pwd"]
    await oidc.aclose()


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("bad_signature", "signature"),
        ("wrong_audience", "aud"),
        ("expired", "exp"),
        ("wrong_nonce", "nonce"),
    ],
)
async def test_a_tampered_id_token_is_refused(sandbox: Sandbox, mode: str, reason: str) -> None:
    sandbox.tamper("citizen", mode)
    oidc = client(sandbox)
    request = await oidc.authorization_request(REDIRECT)
    answer = choose_user(request.url, "ana")
    tokens = await oidc.exchange_code(answer["code"], request.code_verifier, REDIRECT)
    with pytest.raises(IdTokenRejected, match=reason):
        await oidc.verify_id_token(tokens.id_token, request.nonce)
    await oidc.aclose()


async def test_a_code_works_once_and_only_with_its_verifier(sandbox: Sandbox) -> None:
    oidc = client(sandbox)
    request = await oidc.authorization_request(REDIRECT)
    answer = choose_user(request.url, "lee")
    with pytest.raises(BackendRejected) as wrong_verifier:
        await oidc.exchange_code(answer["code"], "x" * 64, REDIRECT)
    assert wrong_verifier.value.status_code == 400
    request = await oidc.authorization_request(REDIRECT)
    answer = choose_user(request.url, "lee")
    await oidc.exchange_code(answer["code"], request.code_verifier, REDIRECT)
    with pytest.raises(BackendRejected):
        await oidc.exchange_code(answer["code"], request.code_verifier, REDIRECT)
    await oidc.aclose()


async def test_a_wrong_client_secret_is_refused(sandbox: Sandbox) -> None:
    oidc = client(sandbox, secret="not-the-secret")
    request = await oidc.authorization_request(REDIRECT)
    answer = choose_user(request.url, "ana")
    with pytest.raises(BackendRejected) as refused:
        await oidc.exchange_code(answer["code"], request.code_verifier, REDIRECT)
    assert refused.value.status_code == 401
    await oidc.aclose()
