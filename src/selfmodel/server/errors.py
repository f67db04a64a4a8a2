"""The one place errors become HTTP: status codes per error class and one JSON error shape.

Every error answer is ``{"error": {"code": ..., "message": ..., "details": {...}}}``. ``code`` is
stable (the ``code`` of the ``selfmodel.errors`` class, which the SDK maps back to the class).

Status choices: request bodies or parameters that do not match the schema, and values the engine
refuses, are **422** ``invalid_input`` (the request was understood but its content is wrong);
a body that is not JSON at all is **400** ``malformed_json``; a body over the size limit is
**413** ``payload_too_large`` before it is parsed; a request that is not valid HTTP at all (a bad
``Content-Length``) is **400** ``bad_request``, answered by ``http_protocol`` before any route.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from selfmodel import errors as e

log = logging.getLogger("selfmodel.server")

# Most specific first: the first class an error is an instance of decides its status.
STATUS_BY_ERROR: tuple[tuple[type[e.SelfModelError], int], ...] = (
    (e.PayloadTooLargeError, 413),
    (e.InvalidInputError, 422),
    (e.PolicyViolationError, 422),
    (e.AuthenticationError, 401),
    (e.PermissionDeniedError, 403),
    (e.NotFoundError, 404),
    (e.ConflictError, 409),
    (e.WaitTimeoutError, 504),
    (e.JobFailedError, 500),
    (e.ServiceUnavailableError, 503),
    (e.ExternalServiceError, 502),
    (e.SelfModelError, 500),
)
MALFORMED_JSON = "malformed_json"
# Codes for failures Starlette raises itself (no such route, wrong method).
CODE_BY_HTTP_STATUS = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def status_for(error: e.SelfModelError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 500


def answer_status(error: e.SelfModelError) -> int:
    """The status ``error`` is answered with; a failure on our side (5xx) is logged here, once.

    Every shell that answers HTTP (the API's handlers, the Mirror's pages) goes through this.
    """
    status = status_for(error)
    if status >= 500:
        log.error("request failed: %s", error.message, extra={"code": error.code})
    return status


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


_SCALARS = (str, int, float, bool, type(None))


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    # Scalars and lists of scalars (e.g. the job ids of a wait timeout) as they are; the rest
    # as text.
    return {
        k: v
        if isinstance(v, _SCALARS)
        else [*v]
        if isinstance(v, (list, tuple)) and all(isinstance(i, _SCALARS) for i in v)
        else str(v)
        for k, v in details.items()
    }


async def _selfmodel_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, e.SelfModelError)
    status = answer_status(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return error_response(status, exc.code, exc.message, _jsonable(exc.details), headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {
            "loc": ".".join(str(p) for p in err.get("loc", ())),
            "msg": e.validation_message(err),
            "type": str(err.get("type", "")),
        }
        for err in exc.errors()
    ]
    if any(p["type"] == "json_invalid" for p in problems):
        return error_response(400, MALFORMED_JSON, "the request body is not valid JSON")
    first = problems[0] if problems else {"loc": "request", "msg": "invalid"}
    return error_response(
        422,
        e.InvalidInputError.code,
        f"{first['loc']}: {first['msg']}",
        {"errors": problems},
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # The framework could not parse the body (JSON nested too deep for the parser, say):
        # every body this API takes is JSON, so it is malformed JSON like any other.
        return error_response(400, MALFORMED_JSON, "the request body could not be read as JSON")
    code = CODE_BY_HTTP_STATUS.get(exc.status_code, f"http_{exc.status_code}")
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return error_response(exc.status_code, code, message, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # A bug, not bad input: log it with its traceback and answer in the same shape.
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(e.SelfModelError, _selfmodel_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


__all__ = [
    "STATUS_BY_ERROR",
    "answer_status",
    "error_body",
    "error_response",
    "install_error_handlers",
    "status_for",
]
