"""Debugging a context call: the self-model as it was, replay with a diff, "why not X?", lineage.

Every route reads (none writes): read scope is enough. Ids of another workspace are not found.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from selfmodel.domain import BeliefStatus
from selfmodel.domain.debugging import Lineage, ModelAsOf, ReplayResult, WhyNot
from selfmodel.server.auth import Reader
from selfmodel.server.routes import IdPath, UserPath, v1_router
from selfmodel.server.schemas import MAX_ID_CHARS, BeliefStatusFilter, Moment, ReplayIn

router = v1_router("debugging")


@router.get("/users/{user}/beliefs-as-of", response_model=ModelAsOf)
def beliefs_as_of(
    user: UserPath,
    caller: Reader,
    at: Annotated[
        Moment | None,
        Query(description="Record time: what had been written by then (ISO 8601). Default: now."),
    ] = None,
    trace_id: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_ID_CHARS,
            description="Instead of `at`: the model version this trace read.",
        ),
    ] = None,
    valid_at: Annotated[
        Moment | None,
        Query(
            description="Valid time the confidences and statuses are read at. Default: `at`,"
            " or the trace's moment."
        ),
    ] = None,
    status: Annotated[
        list[BeliefStatusFilter] | None,
        Query(description="Repeat for several; `all` for every status. Default: active."),
    ] = None,
) -> ModelAsOf:
    """The user's beliefs as they were, rebuilt from the append-only history."""
    statuses: list[BeliefStatus] | None
    if not status:
        statuses = [BeliefStatus.ACTIVE]
    elif BeliefStatusFilter.ALL in status:
        statuses = None
    else:
        statuses = [BeliefStatus(s.value) for s in status]
    return caller.sm.beliefs_as_of(
        user, at=at, trace_id=trace_id, valid_at=valid_at, status=statuses
    )


@router.post("/traces/{trace_id}/replay", response_model=ReplayResult)
def replay(trace_id: IdPath, caller: Reader, body: ReplayIn | None = None) -> ReplayResult:
    """Compute the trace's context call again against the self-model as it was, under its
    recorded configuration or ``config`` laid over it, and diff the two blocks."""
    return caller.sm.replay(trace_id, body.config if body else None)


@router.get("/traces/{trace_id}/why-not/{item_id}", response_model=WhyNot)
def why_not(trace_id: IdPath, item_id: IdPath, caller: Reader) -> WhyNot:
    """Why a belief or observation was (not) in the trace's block."""
    return caller.sm.why_not(trace_id, item_id)


@router.get("/traces/{trace_id}/lineage/{item_id}", response_model=Lineage)
def lineage(trace_id: IdPath, item_id: IdPath, caller: Reader) -> Lineage:
    """From an item of the trace to its belief, history, evidence and extraction."""
    return caller.sm.lineage(trace_id, item_id)
