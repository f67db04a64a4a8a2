"""Beliefs: list and filter, inspect (evidence and history), and the user's corrections."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import Response

from selfmodel.deprecation import either
from selfmodel.domain import Belief, BeliefDetail, BeliefEvent, BeliefKind, BeliefStatus
from selfmodel.server.auth import Reader, Writer
from selfmodel.server.idempotency import run_write
from selfmodel.server.pagination import page
from selfmodel.server.routes import AsOf, IdPath, UserPath, v1_router
from selfmodel.server.schemas import (
    DEFAULT_PAGE_SIZE,
    MAX_NAME_CHARS,
    MAX_PAGE_SIZE,
    RENAMED_TO_AREA,
    BeliefStatusFilter,
    DecayIn,
    EditIn,
    NewBeliefIn,
    Page,
    SettledOut,
    SettleIn,
)

router = v1_router("beliefs")


@router.get("/users/{user}/beliefs", response_model=Page[Belief])
def list_beliefs(
    user: UserPath,
    caller: Reader,
    kind: BeliefKind | None = None,
    status: Annotated[
        list[BeliefStatusFilter] | None,
        Query(description="Repeat for several; `all` for every status. Default: active."),
    ] = None,
    area: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_NAME_CHARS,
            description="Only this area's beliefs and the global ones.",
        ),
    ] = None,
    min_confidence: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    as_of: AsOf = None,
    context: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_NAME_CHARS,
            deprecated=True,
            description=RENAMED_TO_AREA,
        ),
    ] = None,
) -> Page[Belief]:
    """The user's beliefs, newest first, with confidence and status as of ``as_of``."""
    statuses: list[BeliefStatus] | None
    if not status:
        statuses = [BeliefStatus.ACTIVE]
    elif BeliefStatusFilter.ALL in status:
        statuses = None
    else:
        statuses = [BeliefStatus(s.value) for s in status]
    beliefs = caller.sm.beliefs(
        user,
        kind=kind,
        status=statuses,
        area=either(area, context, new="area", old="context"),
        min_confidence=min_confidence,
        now=as_of,
    )
    chunk, next_cursor = page(beliefs, lambda b: b.id, cursor=cursor, limit=limit, descending=True)
    return Page[Belief](items=chunk, next_cursor=next_cursor)


@router.post("/users/{user}/beliefs", response_model=Belief, status_code=201)
async def add_belief(
    user: UserPath, body: NewBeliefIn, request: Request, caller: Writer
) -> Response:
    """A belief the user states in their own words."""
    return await run_write(
        request,
        caller,
        lambda: caller.sm.add_belief(user, body.statement, kind=body.kind, area=body.area),
        status_code=201,
        user=user,
    )


@router.get("/users/{user}/timeline", response_model=list[BeliefEvent])
def timeline(user: UserPath, caller: Reader) -> list[BeliefEvent]:
    """Every change to the user's self-model, newest first, each with its cause."""
    return caller.sm.timeline(user)


@router.post("/users/{user}/decay", response_model=list[Belief])
async def decay(
    user: UserPath, request: Request, caller: Writer, body: DecayIn | None = None
) -> Response:
    """Record in history how unreinforced beliefs have faded by ``as_of`` (default: now).

    Reads already see confidence as of the moment they ask for; this writes it down, with a
    ``decayed`` event each. Answers the beliefs it changed.
    """
    moment = body.as_of if body else None
    return await run_write(request, caller, lambda: caller.sm.decay(user, now=moment), user=user)


@router.get("/beliefs/{belief_id}", response_model=BeliefDetail)
def get_belief(belief_id: IdPath, caller: Reader) -> BeliefDetail:
    """A belief with its evidence (the observations quoted) and its history."""
    return caller.sm.belief(belief_id)


@router.get("/beliefs/{belief_id}/history", response_model=list[BeliefEvent])
def belief_history(belief_id: IdPath, caller: Reader) -> list[BeliefEvent]:
    """Every change of the belief, oldest first, each with its cause."""
    return caller.sm.history(belief_id)


@router.post("/beliefs/{belief_id}/confirm", response_model=Belief)
async def confirm(belief_id: IdPath, request: Request, caller: Writer) -> Response:
    """The user says "this is me"."""
    return await run_write(request, caller, lambda: caller.sm.confirm(belief_id))


@router.post("/beliefs/{belief_id}/reject", response_model=Belief)
async def reject(belief_id: IdPath, request: Request, caller: Writer) -> Response:
    """The user says "not me": kept for its history, never used again."""
    return await run_write(request, caller, lambda: caller.sm.reject(belief_id))


@router.post("/beliefs/{belief_id}/outdated", response_model=Belief)
async def mark_outdated(belief_id: IdPath, request: Request, caller: Writer) -> Response:
    """The user says "no longer true"."""
    return await run_write(request, caller, lambda: caller.sm.mark_outdated(belief_id))


@router.post("/beliefs/{belief_id}/settle", response_model=SettledOut)
async def settle(belief_id: IdPath, body: SettleIn, request: Request, caller: Writer) -> Response:
    """The user answers a conflict: this belief is true now (confirmed); `over` ends now,
    superseded by it. Both must be beliefs of one user; the same id twice is 422."""

    def work() -> SettledOut:
        kept, ended = caller.sm.settle(belief_id, body.over)
        return SettledOut(kept=kept, ended=ended)

    return await run_write(request, caller, work)


@router.patch("/beliefs/{belief_id}", response_model=Belief)
async def edit(belief_id: IdPath, body: EditIn, request: Request, caller: Writer) -> Response:
    """The user rewrites the statement (and optionally its kind)."""
    return await run_write(
        request, caller, lambda: caller.sm.edit(belief_id, body.statement, kind=body.kind)
    )
