"""POST one application, as JSON in the `frontdoor.application/1` shape, to a wrapper.

The body is signed like the departments' webhooks (`X-Frontdoor-Signature: t=..,v1=..`, HMAC-SHA256
over "<t>." + the exact bytes sent) and carries an Idempotency-Key, so the caller may send it again
after a lost answer and the wrapper keeps one record. What comes back must be exactly the contract's
receipt: anything else is refused here with the reason, for a person to read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from backend_clients.departments.signature import HEADER, sign
from backend_clients.http import BackendClient, BackendRejected, ClientConfig

SCHEMA = "frontdoor.application/1"
SCHEMA_FILE = Path(__file__).resolve().parent / "application-1.schema.json"
ACCEPTED = (200, 201, 202)


class Receipt(BaseModel):
    """The wrapper's answer: its own id for the record (the same for a repeated key)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1, max_length=64, pattern=r"^\S+$")
    status: Literal["received"]
    received_at: AwareDatetime | None = None


def encode(body: dict[str, Any]) -> bytes:
    """The bytes sent and signed: compact UTF-8 JSON."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _reason(response: httpx.Response) -> str:
    """What the wrapper said when it refused: its `error`, else the start of its answer."""
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("error"), str):
        return str(answer["error"])[:500]
    return response.text[:200] or "(no reason given)"


class JsonPostClient(BackendClient):
    def __init__(
        self,
        config: ClientConfig,
        department: str,
        secret: bytes,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(config)
        self.name = f"department {department}"
        self.secret = secret
        self.clock = clock

    async def post_application(self, body: dict[str, Any], idempotency_key: str) -> Receipt:
        """Send the application; BackendUnavailable (5xx, timeout) means try again with the same
        key, BackendRejected (a 4xx, or an answer outside the contract) names why."""
        content = encode(body)
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
            HEADER: sign(self.secret, content, int(self.clock())),
        }
        try:
            # The configured URL is the endpoint itself, not a root to add paths to.
            response = await self.request(
                "POST", self.config.base_url, content=content, headers=headers
            )
        except BackendRejected as error:
            answer = error.response
            reason = _reason(answer) if answer is not None else "(no answer)"
            raise BackendRejected(
                f"{error}: {reason}",
                status_code=error.status_code,
                request=error.request,
                response=answer,
            ) from error
        if response.status_code not in ACCEPTED:
            raise self._unexpected(response, f"status {response.status_code}, not 200/201/202")
        try:
            return Receipt.model_validate_json(response.content)
        except ValidationError as error:
            wrong = "; ".join(
                f"{'.'.join(str(part) for part in item['loc']) or '(body)'}: {item['msg']}"
                for item in error.errors()[:3]
            )
            raise self._unexpected(response, wrong) from error

    def _unexpected(self, response: httpx.Response, why: str) -> BackendRejected:
        """An answer we cannot take as a receipt: sending again would not change it."""
        return BackendRejected(
            f"{self.name}: unexpected answer ({why}); expected "
            '{"id": "...", "status": "received"}',
            status_code=response.status_code,
            request=response.request,
            response=response,
        )


__all__ = ["ACCEPTED", "SCHEMA", "SCHEMA_FILE", "JsonPostClient", "Receipt", "encode"]
