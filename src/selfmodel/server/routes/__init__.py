"""HTTP routes, one module per resource. Each route validates, calls the engine, returns."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from selfmodel.engine import MAX_USER_ID_CHARS
from selfmodel.server.schemas import MAX_ID_CHARS, ErrorOut, Moment

# Documented on every /v1 route, so clients (and schemathesis) know the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in (
        (400, "Malformed request (e.g. the body is not JSON)."),
        (401, "Missing, unknown or revoked API key."),
        (403, "The key's scope does not allow this."),
        (404, "No such thing in the caller's workspace."),
        (409, "Conflicts with the current state or a reused Idempotency-Key."),
        (413, "Body, message or batch larger than the limits."),
        (422, "Invalid input."),
    )
}

UserPath = Annotated[
    str, Path(min_length=1, max_length=MAX_USER_ID_CHARS, description="Your id of the user.")
]
IdPath = Annotated[str, Path(min_length=1, max_length=MAX_ID_CHARS)]
AsOf = Annotated[
    Moment | None,
    Query(description="Read as things were at this moment (ISO 8601). Default: now."),
]


def v1_router(tag: str) -> APIRouter:
    return APIRouter(prefix="/v1", tags=[tag], responses=ERROR_RESPONSES)
