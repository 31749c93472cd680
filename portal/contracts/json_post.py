"""The generic JSON adapter (CONTRACTS.md §10): what a legacy system's small wrapper implements.

One signed POST per application in the versioned `frontdoor.application/1` shape
(backend_clients/json_post/application-1.schema.json); the wrapper answers with its id, and status
comes back on our signed departments' webhook (§1), so nothing is polled.

The HMAC key is not a portal setting (settings.py knows only shared secrets): each department names
the environment variable that holds its key in `config.secret_env`; unset, the documented sandbox
key below is used, which production refuses, as it refuses the sandbox's URL.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, field_validator

from backend_clients.json_post import SCHEMA, JsonPostClient
from portal.contracts.base import Config, Connection, Contract, Environment, News, Outgoing, Sent
from portal.settings import SANDBOX_URL

# The sandbox's legacy wrapper checks signatures with this key (backend_clients/sandbox/legacy.py).
SANDBOX_SECRET = "sandbox-legacy-secret"  # noqa: S105 - documented local default, not a secret
EnvName = str


class JsonPostConfig(Config):
    url: str  # the wrapper's endpoint, POSTed to as it is
    # Optional variables that replace the URL and hold the HMAC key (say FRONTDOOR_FIRE_SAFETY_URL)
    url_env: EnvName | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]{0,99}$")
    secret_env: EnvName | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]{0,99}$")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


def _from_env(name: str | None) -> str | None:
    return (os.environ.get(name) or None) if name else None


def application_body(department: str, outgoing: Outgoing, documents_url: str) -> dict[str, Any]:
    """The application as the schema says (version 1)."""
    applicant = outgoing.applicant
    return {
        "schema": SCHEMA,
        "department": department,
        "references": {
            "request": outgoing.request_reference,
            "application": outgoing.application_reference,
        },
        "service": {
            "id": outgoing.service,
            "title": outgoing.service_title,
            "version": outgoing.service_version,
        },
        "language": outgoing.language,
        "applicant": {"name": applicant.name, "email": applicant.email, "phone": applicant.phone},
        "answers": outgoing.answers,
        "summary": [
            {"question": question, "answer": answer} for question, answer in outgoing.summary("en")
        ],
        "documents": [
            {"ref": ours, "id": theirs, "url": f"{documents_url}/documents/{theirs}"}
            for ours, theirs in sorted(outgoing.documents.items())
        ],
        "callback_url": outgoing.callback_url,
    }


class JsonPostConnection(Connection):
    can_poll = False  # status comes back on the webhook only

    def __init__(self, department: str, client: JsonPostClient, documents_url: str) -> None:
        super().__init__(department)
        self.client = client
        self.documents_url = documents_url

    async def send(self, outgoing: Outgoing) -> Sent:
        body = application_body(self.department, outgoing, self.documents_url)
        receipt = await self.client.post_application(body, idempotency_key=outgoing.key)
        # Kept under the id a wrapper gives a pushed "received" too (<id>:received): once.
        received = News(
            external_id=f"{self.department}:{receipt.id}:received"[:120],
            status="received",
            at=receipt.received_at or datetime.now(UTC),
        )
        return Sent(receipt.id, [received])

    async def aclose(self) -> None:
        await self.client.aclose()


def connect(department: str, config: JsonPostConfig, env: Environment) -> Connection:
    url = _from_env(config.url_env) or config.url
    secret = _from_env(config.secret_env) or SANDBOX_SECRET
    if env.settings.env == "production":
        problems = []
        if secret == SANDBOX_SECRET:
            problems.append(f"set {config.secret_env or 'config.secret_env'} to the real key")
        if url.startswith(SANDBOX_URL) or not url.startswith("https://"):
            problems.append(f"its URL must be the wrapper's, over https ({config.url_env or url})")
        if problems:
            raise ValueError(f"department {department!r} (json_post): {'; '.join(problems)}")
    client = JsonPostClient(env.http(url), department, secret.encode())
    return JsonPostConnection(department, client, env.settings.documents_url)


CONTRACT = Contract(
    name="json_post",
    config=JsonPostConfig,
    connect=connect,
    description="A signed JSON POST per application (frontdoor.application/1) to a legacy "
    "system's wrapper; status back on the departments' webhook",
)
