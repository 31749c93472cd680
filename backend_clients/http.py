"""What every HTTP client shares: configuration, timeouts, headers and a small error tree."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar, overload

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")


def no_headers() -> Mapping[str, str]:
    return {}


@dataclass(frozen=True)
class ClientConfig:
    """How to reach one backend. `headers` is called on every request (e.g. the request id)."""

    base_url: str
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    headers: Callable[[], Mapping[str, str]] = no_headers
    auth: tuple[str, str] | None = None
    transport: httpx.AsyncBaseTransport | None = field(default=None, compare=False)


class BackendError(Exception):
    """A backend call did not give the answer we needed."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.request = request


class BackendUnavailable(BackendError):
    """The backend could not be reached, timed out or failed on its side (5xx): try later."""


class BackendRejected(BackendError):
    """The backend refused the request (4xx): sending it again as it is will not help."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        request: httpx.Request | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.status_code = status_code
        self.response = response


@cache
def trusted_roots() -> ssl.SSLContext:
    """The system's certificate authorities, read once per process: each client reading them
    again cost a worker 0.7 s of its start (27 clients)."""
    return ssl.create_default_context()


class BackendClient:
    """Base of every typed client: one pooled httpx client, errors mapped to the tree above."""

    name = "backend"

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self._http = httpx.AsyncClient(
            base_url=config.base_url,
            timeout=config.timeout,
            auth=config.auth,
            transport=config.transport,
            verify=trusted_roots(),
            event_hooks={"request": [self._add_headers]},
        )

    async def _add_headers(self, request: httpx.Request) -> None:
        request.headers.update(self.config.headers())

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request; raise BackendUnavailable or BackendRejected when it fails."""
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as error:
            raise BackendUnavailable(f"{self.name}: timed out", request=error.request) from error
        except httpx.TransportError as error:
            raise BackendUnavailable(
                f"{self.name}: unreachable ({error})", request=error.request
            ) from error
        if response.status_code >= 500:
            raise BackendUnavailable(
                f"{self.name}: answered {response.status_code}", request=response.request
            )
        if response.status_code >= 400:
            raise BackendRejected(
                f"{self.name}: refused with {response.status_code}",
                status_code=response.status_code,
                request=response.request,
                response=response,
            )
        return response

    @overload
    def read(self, response: httpx.Response, shape: type[ModelT]) -> ModelT: ...
    @overload
    def read(self, response: httpx.Response, shape: TypeAdapter[T]) -> T: ...
    def read(self, response: httpx.Response, shape: Any) -> Any:
        """The answer's JSON as `shape` (a model or a TypeAdapter); an answer that does not fit
        the contract is a BackendError, never a raw validation error."""
        try:
            if isinstance(shape, TypeAdapter):
                return shape.validate_json(response.content)
            return shape.model_validate_json(response.content)
        except ValidationError as error:
            raise BackendError(
                f"{self.name}: unexpected answer ({error.error_count()} problems)",
                request=response.request,
            ) from error

    async def aclose(self) -> None:
        await self._http.aclose()
