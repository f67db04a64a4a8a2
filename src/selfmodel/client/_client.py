"""``Client`` and ``AsyncClient``: the HTTP API with the library's method names and types.

Switching from in-process to a server is one line::

    sm = SelfModel.open("selfmodel.db")                   # in-process
    sm = Client("http://127.0.0.1:8000", api_key="smk_…")  # the same calls, over HTTP

The methods themselves are written once, in ``_methods``; a client only says how to perform
their steps: send a request, or sleep before a retry.
"""

from __future__ import annotations

import time
from typing import Any, TypeVar

import httpx

from selfmodel.client._methods import (
    DEFAULT_MAX_RETRIES,
    AsyncRunner,
    BlockingRunner,
    Operation,
    Send,
    Sleep,
    Walk,
)

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 60.0


def _client_kwargs(base_url: str, api_key: str, timeout: float) -> dict[str, Any]:
    return {
        "base_url": base_url,
        "headers": {"Authorization": f"Bearer {api_key}", "User-Agent": "selfmodel-sdk"},
        "timeout": timeout,
    }


def _request_kwargs(step: Send) -> dict[str, Any]:
    call = step.call
    return {
        "method": call.method,
        "url": call.path,
        "params": call.params,
        "json": call.json,
        "headers": step.headers,
        "timeout": httpx.USE_CLIENT_DEFAULT if call.timeout is None else call.timeout,
    }


class Client(BlockingRunner):
    """A blocking client for the selfmodel HTTP API (one workspace: the key's)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.max_retries = max_retries
        self._http = httpx.Client(transport=transport, **_client_kwargs(base_url, api_key, timeout))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, operation: Operation[T]) -> T:
        walk = Walk(operation)
        for step in walk:
            if isinstance(step, Sleep):
                time.sleep(step.seconds)
                continue
            try:
                walk.outcome = self._http.request(**_request_kwargs(step))
            except httpx.TransportError as exc:
                walk.outcome = exc
        return walk.result


class AsyncClient(AsyncRunner):
    """The same API as ``Client``, awaitable (``async with AsyncClient(...) as sm:``)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.max_retries = max_retries
        self._http = httpx.AsyncClient(
            transport=transport, **_client_kwargs(base_url, api_key, timeout)
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def run(self, operation: Operation[T]) -> T:
        # Imported here: asyncio costs ~40 ms to import, and blocking clients never need it.
        import asyncio

        walk = Walk(operation)
        for step in walk:
            if isinstance(step, Sleep):
                await asyncio.sleep(step.seconds)
                continue
            try:
                walk.outcome = await self._http.request(**_request_kwargs(step))
            except httpx.TransportError as exc:
                walk.outcome = exc
        return walk.result


__all__ = ["AsyncClient", "Client"]
