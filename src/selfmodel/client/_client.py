"""``Client`` and ``AsyncClient``: the HTTP API with the library's method names and types.

Switching from in-process to a server is one line::

    sm = SelfModel.open("selfmodel.db")                   # in-process
    sm = Client("http://127.0.0.1:8000", api_key="smk_…")  # the same calls, over HTTP
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

import httpx

from selfmodel.client import _calls as calls
from selfmodel.client._calls import Call
from selfmodel.client._errors import error_from_response
from selfmodel.domain import (
    Belief,
    BeliefDetail,
    BeliefEvent,
    BeliefKind,
    BeliefStatus,
    ContextResult,
    ObserveResult,
    User,
)
from selfmodel.domain.profile import Conflict, Profile
from selfmodel.errors import ServiceUnavailableError
from selfmodel.storage.base import DeletedCounts, TraceRecord

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_RETRIES = 3
# Backoff before retry n (from 0): BACKOFF_BASE_S * 2**n, or the server's Retry-After, capped.
BACKOFF_BASE_S = 0.25
BACKOFF_MAX_S = 30.0
RETRY_STATUSES = frozenset({429, 503})
IDEMPOTENCY_HEADER = "Idempotency-Key"
StatusArg = BeliefStatus | str | Sequence[BeliefStatus | str] | None


def _delay(attempt: int, response: httpx.Response | None) -> float:
    if response is not None:
        retry_after = response.headers.get("Retry-After", "")
        try:
            return min(max(float(retry_after), 0.0), BACKOFF_MAX_S)
        except ValueError:
            pass  # absent or an HTTP date: fall back to exponential backoff
    return min(BACKOFF_BASE_S * 2.0**attempt, BACKOFF_MAX_S)


def _headers(call: Call[Any]) -> dict[str, str]:
    # One key per logical call, reused by its retries: a retried write is never applied twice.
    return {IDEMPOTENCY_HEADER: uuid.uuid4().hex} if call.write else {}


def _result(call: Call[T], response: httpx.Response) -> T:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.is_success:
        return call.parse(body)
    raise error_from_response(response.status_code, body)


def _client_kwargs(base_url: str, api_key: str, timeout: float) -> dict[str, Any]:
    return {
        "base_url": base_url,
        "headers": {"Authorization": f"Bearer {api_key}", "User-Agent": "selfmodel-sdk"},
        "timeout": timeout,
    }


class Client:
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

    def _send(self, call: Call[T]) -> T:
        headers = _headers(call)
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    call.method, call.path, params=call.params, json=call.json, headers=headers
                )
            except httpx.TransportError as exc:
                if attempt >= self.max_retries:
                    raise ServiceUnavailableError(f"cannot reach the server: {exc}") from exc
                time.sleep(_delay(attempt, None))
                attempt += 1
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.max_retries:
                time.sleep(_delay(attempt, response))
                attempt += 1
                continue
            return _result(call, response)

    # -- the library's methods ----------------------------------------------------------------
    def observe(
        self,
        user: str,
        messages: Any,
        *,
        context: str | None = None,
        at: datetime | str | None = None,
        source: str | None = None,
        wait: bool = True,
    ) -> ObserveResult:
        return self._send(
            calls.observe(user, messages, context=context, at=at, source=source, wait=wait)
        )

    def beliefs(
        self,
        user: str,
        *,
        kind: BeliefKind | str | None = None,
        status: StatusArg = BeliefStatus.ACTIVE,
        context: str | None = None,
        min_confidence: float | None = None,
        limit: int | None = None,
    ) -> list[Belief]:
        """The user's beliefs, newest first (all pages, up to ``limit``)."""
        found: list[Belief] = []
        cursor: str | None = None
        while True:
            size = calls.PAGE_SIZE if limit is None else min(calls.PAGE_SIZE, limit - len(found))
            items, cursor = self._send(
                calls.beliefs_page(
                    user,
                    kind=kind,
                    status=status,
                    context=context,
                    min_confidence=min_confidence,
                    cursor=cursor,
                    limit=size,
                )
            )
            found.extend(items)
            if cursor is None or (limit is not None and len(found) >= limit):
                return found

    def users(self) -> list[User]:
        found: list[User] = []
        cursor: str | None = None
        while True:
            items, cursor = self._send(calls.users_page(cursor))
            found.extend(items)
            if cursor is None:
                return found

    def user(self, external_id: str) -> User:
        return self._send(calls.user(external_id))

    def set_display_name(self, user: str, name: str | None) -> User:
        return self._send(calls.set_display_name(user, name))

    def profile(self, user: str, as_of: datetime | str | None = None) -> Profile:
        """The user's profile (facets, people, pets, interests, how to answer, conflicts) as of
        ``as_of`` (default: now)."""
        return self._send(calls.profile(user, as_of))

    def conflicts(self, user: str, as_of: datetime | str | None = None) -> list[Conflict]:
        """Active beliefs of the user that deny each other."""
        return self._send(calls.conflicts(user, as_of))

    def belief(self, belief_id: str) -> BeliefDetail:
        return self._send(calls.belief(belief_id))

    def history(self, belief_id: str) -> list[BeliefEvent]:
        return self._send(calls.history(belief_id))

    def context(
        self,
        user: str | Sequence[str],
        query: str,
        *,
        budget_tokens: int | None = None,
        context: str | None = None,
        limit: int | None = None,
    ) -> ContextResult:
        return self._send(
            calls.context(user, query, budget_tokens=budget_tokens, context=context, limit=limit)
        )

    def trace(self, trace_id: str) -> TraceRecord:
        return self._send(calls.trace(trace_id))

    def confirm(self, belief_id: str) -> Belief:
        return self._send(calls.belief_action(belief_id, "confirm"))

    def reject(self, belief_id: str) -> Belief:
        return self._send(calls.belief_action(belief_id, "reject"))

    def mark_outdated(self, belief_id: str) -> Belief:
        return self._send(calls.belief_action(belief_id, "outdated"))

    def settle(self, true_id: str, false_id: str) -> tuple[Belief, Belief]:
        """Answer a conflict: ``true_id`` holds now (confirmed), ``false_id`` ends now
        (superseded by it). Returns (kept, ended)."""
        return self._send(calls.settle(true_id, false_id))

    def edit(
        self, belief_id: str, statement: str, *, kind: BeliefKind | str | None = None
    ) -> Belief:
        return self._send(calls.edit(belief_id, statement, kind))

    def add_belief(
        self,
        user: str,
        statement: str,
        *,
        kind: BeliefKind | str = BeliefKind.FACT,
        context: str | None = None,
    ) -> Belief:
        return self._send(calls.add_belief(user, statement, kind, context))

    def export(self, user: str) -> dict[str, Any]:
        return self._send(calls.export(user))

    def forget(self, user: str) -> DeletedCounts:
        return self._send(calls.forget(user))


class AsyncClient:
    """The same API as ``Client``, awaitable."""

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

    async def _send(self, call: Call[T]) -> T:
        headers = _headers(call)
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    call.method, call.path, params=call.params, json=call.json, headers=headers
                )
            except httpx.TransportError as exc:
                if attempt >= self.max_retries:
                    raise ServiceUnavailableError(f"cannot reach the server: {exc}") from exc
                await asyncio.sleep(_delay(attempt, None))
                attempt += 1
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.max_retries:
                await asyncio.sleep(_delay(attempt, response))
                attempt += 1
                continue
            return _result(call, response)

    async def observe(
        self,
        user: str,
        messages: Any,
        *,
        context: str | None = None,
        at: datetime | str | None = None,
        source: str | None = None,
        wait: bool = True,
    ) -> ObserveResult:
        return await self._send(
            calls.observe(user, messages, context=context, at=at, source=source, wait=wait)
        )

    async def beliefs(
        self,
        user: str,
        *,
        kind: BeliefKind | str | None = None,
        status: StatusArg = BeliefStatus.ACTIVE,
        context: str | None = None,
        min_confidence: float | None = None,
        limit: int | None = None,
    ) -> list[Belief]:
        found: list[Belief] = []
        cursor: str | None = None
        while True:
            size = calls.PAGE_SIZE if limit is None else min(calls.PAGE_SIZE, limit - len(found))
            items, cursor = await self._send(
                calls.beliefs_page(
                    user,
                    kind=kind,
                    status=status,
                    context=context,
                    min_confidence=min_confidence,
                    cursor=cursor,
                    limit=size,
                )
            )
            found.extend(items)
            if cursor is None or (limit is not None and len(found) >= limit):
                return found

    async def users(self) -> list[User]:
        found: list[User] = []
        cursor: str | None = None
        while True:
            items, cursor = await self._send(calls.users_page(cursor))
            found.extend(items)
            if cursor is None:
                return found

    async def user(self, external_id: str) -> User:
        return await self._send(calls.user(external_id))

    async def set_display_name(self, user: str, name: str | None) -> User:
        return await self._send(calls.set_display_name(user, name))

    async def profile(self, user: str, as_of: datetime | str | None = None) -> Profile:
        return await self._send(calls.profile(user, as_of))

    async def conflicts(self, user: str, as_of: datetime | str | None = None) -> list[Conflict]:
        return await self._send(calls.conflicts(user, as_of))

    async def belief(self, belief_id: str) -> BeliefDetail:
        return await self._send(calls.belief(belief_id))

    async def history(self, belief_id: str) -> list[BeliefEvent]:
        return await self._send(calls.history(belief_id))

    async def context(
        self,
        user: str | Sequence[str],
        query: str,
        *,
        budget_tokens: int | None = None,
        context: str | None = None,
        limit: int | None = None,
    ) -> ContextResult:
        return await self._send(
            calls.context(user, query, budget_tokens=budget_tokens, context=context, limit=limit)
        )

    async def trace(self, trace_id: str) -> TraceRecord:
        return await self._send(calls.trace(trace_id))

    async def confirm(self, belief_id: str) -> Belief:
        return await self._send(calls.belief_action(belief_id, "confirm"))

    async def reject(self, belief_id: str) -> Belief:
        return await self._send(calls.belief_action(belief_id, "reject"))

    async def mark_outdated(self, belief_id: str) -> Belief:
        return await self._send(calls.belief_action(belief_id, "outdated"))

    async def settle(self, true_id: str, false_id: str) -> tuple[Belief, Belief]:
        return await self._send(calls.settle(true_id, false_id))

    async def edit(
        self, belief_id: str, statement: str, *, kind: BeliefKind | str | None = None
    ) -> Belief:
        return await self._send(calls.edit(belief_id, statement, kind))

    async def add_belief(
        self,
        user: str,
        statement: str,
        *,
        kind: BeliefKind | str = BeliefKind.FACT,
        context: str | None = None,
    ) -> Belief:
        return await self._send(calls.add_belief(user, statement, kind, context))

    async def export(self, user: str) -> dict[str, Any]:
        return await self._send(calls.export(user))

    async def forget(self, user: str) -> DeletedCounts:
        return await self._send(calls.forget(user))
