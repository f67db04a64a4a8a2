"""Outcomes: feedback, implicit signals and custom metrics about a user, by trace or not."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import Response

from selfmodel.domain import Outcome, OutcomeKind
from selfmodel.server.auth import Reader, Writer
from selfmodel.server.idempotency import run_write
from selfmodel.server.pagination import page
from selfmodel.server.routes import UserPath, v1_router
from selfmodel.server.schemas import DEFAULT_PAGE_SIZE, MAX_ID_CHARS, MAX_PAGE_SIZE, OutcomeIn, Page

router = v1_router("outcomes")


@router.post("/users/{user}/outcomes", response_model=Outcome, status_code=201)
async def record_outcome(
    user: UserPath, body: OutcomeIn, request: Request, caller: Writer
) -> Response:
    """Record one outcome of the user, optionally of one context call's answer (``trace_id``).

    With an ``id`` seen before for this user, the first record is answered again; the same
    ``id`` with other content is 409 ``conflict``.
    """

    def work() -> Outcome:
        return caller.sm.record_outcome(
            user,
            body.kind,
            trace_id=body.trace_id,
            name=body.name,
            value=body.value,
            label=body.label,
            used_item_ids=body.used_item_ids,
            occurred_at=body.occurred_at,
            id=body.id,
        )

    return await run_write(request, caller, work, status_code=201, user=user)


@router.get("/users/{user}/outcomes", response_model=Page[Outcome])
def list_outcomes(
    user: UserPath,
    caller: Reader,
    trace_id: Annotated[
        str | None,
        Query(min_length=1, max_length=MAX_ID_CHARS, description="Only this trace's outcomes."),
    ] = None,
    kind: Annotated[OutcomeKind | None, Query(description="Only outcomes of this kind.")] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Page[Outcome]:
    """The user's outcomes in the order they were recorded."""
    found = caller.sm.outcomes(user, trace_id=trace_id, kind=kind)
    chunk, next_cursor = page(found, lambda o: o.id, cursor=cursor, limit=limit)
    return Page[Outcome](items=chunk, next_cursor=next_cursor)
