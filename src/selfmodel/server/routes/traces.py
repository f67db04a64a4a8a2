"""Traces: what a ``context`` call considered, chose, and under which config."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from selfmodel.domain.records import DEFAULT_TRACES, MAX_TRACES
from selfmodel.server.auth import Reader
from selfmodel.server.routes import IdPath, UserPath, v1_router
from selfmodel.server.schemas import MAX_ID_CHARS, TraceOut

router = v1_router("traces")


@router.get("/traces/{trace_id}", response_model=TraceOut)
def get_trace(trace_id: IdPath, caller: Reader) -> TraceOut:
    return TraceOut.of(caller.sm.trace(trace_id))


@router.get("/users/{user}/traces", response_model=list[TraceOut])
def list_traces(
    user: UserPath,
    caller: Reader,
    limit: Annotated[int, Query(ge=1, le=MAX_TRACES)] = DEFAULT_TRACES,
    before: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_ID_CHARS,
            description="The last trace of the previous page: the page goes on after it.",
        ),
    ] = None,
) -> list[TraceOut]:
    """The user's context calls, newest first."""
    return [TraceOut.of(t) for t in caller.sm.traces(user, limit=limit, before=before)]
