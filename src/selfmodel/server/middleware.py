"""Pure ASGI middleware: body size limit (before parsing), text that is not UTF-8 in the URL,
request ids, access logs, metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from selfmodel.errors import InvalidInputError
from selfmodel.server.errors import error_response
from selfmodel.server.logs import request_id_var
from selfmodel.server.metrics import ServerMetrics

log = logging.getLogger("selfmodel.server.access")

REQUEST_ID_HEADER = "x-request-id"
# A caller's request id is echoed only if it is short and plain (it ends up in logs).
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413, by header or while streaming in."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _reject(scope, send, 400, "bad_request", "invalid Content-Length header")
                return
            if int(declared) > self.max_bytes:
                await _reject(scope, send, 413, "payload_too_large", self._message())
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside body parsing; FastAPI re-raises HTTPExceptions as they are.
                    raise HTTPException(413, self._message())
            return message

        await self.app(scope, limited, send)

    def _message(self) -> str:
        return f"request body is larger than {self.max_bytes} bytes"


class Utf8UrlMiddleware:
    """Refuse with 422 a path or query whose percent-escapes do not decode as UTF-8.

    Servers and Starlette decode them with ``errors="replace"``: ``/v1/users/%FF`` and
    ``/v1/users/%FE`` would both name the user "\ufffd", different ids folded into one. The raw
    bytes (``raw_path``, ``query_string``) are what the client sent, so they are checked here,
    once, before any route sees a replaced character.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            parts = (("path", scope.get("raw_path")), ("query", scope.get("query_string")))
            for part, raw in parts:
                if raw is not None and not _decodes_as_utf8(raw):
                    message = f"the {part} of the URL is not UTF-8 once its %-escapes are decoded"
                    response = error_response(422, InvalidInputError.code, message)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _decodes_as_utf8(raw: bytes) -> bool:
    try:
        unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class RequestContextMiddleware:
    """Give every request an id (echoed as X-Request-ID), time it, log it and count it."""

    def __init__(self, app: ASGIApp, metrics: ServerMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, REQUEST_ID_HEADER.encode())
        request_id = given if given and _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            self.metrics.request_seconds.labels(scope["method"], route, str(status)).observe(
                elapsed
            )
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    # The route template, never the raw path: paths carry user ids and Mirror
                    # link tokens, which must not end up in logs.
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "workspace_id": scope.get("state", {}).get("workspace_id"),
                },
            )
            request_id_var.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _route_template(scope: Scope) -> str:
    """The matched route's template (``/v1/beliefs/{belief_id}``): bounded label cardinality."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


async def _reject(scope: Scope, send: Send, status: int, code: str, message: str) -> None:
    response = error_response(status, code, message, headers={"Connection": "close"})
    await response(scope, _empty_receive, send)


async def _empty_receive() -> Message:
    return {"type": "http.disconnect"}


__all__ = ["BodyLimitMiddleware", "RequestContextMiddleware", "Utf8UrlMiddleware"]
