"""Experiments: define and stop them (admin keys), read them, assign users, analyse outcomes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from selfmodel.domain import Assignment, Experiment, ExperimentStatus
from selfmodel.server.auth import Admin, Reader
from selfmodel.server.idempotency import run_write
from selfmodel.server.pagination import page
from selfmodel.server.routes import v1_router
from selfmodel.server.schemas import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    AssignmentIn,
    ExperimentIn,
    Page,
)

router = v1_router("experiments")
ExperimentPath = Annotated[
    str, Path(min_length=1, max_length=100, description="The experiment's name or id.")
]


@router.post("/experiments", response_model=Experiment, status_code=201)
async def create_experiment(body: ExperimentIn, request: Request, caller: Admin) -> Response:
    """Define an experiment and start it: the users it assigns get their variant's
    configuration in every context call from now on."""

    def work() -> Experiment:
        return caller.sm.create_experiment(
            body.name,
            [v.model_dump() for v in body.variants],
            control=body.control,
            layer=body.layer,
            traffic=body.traffic,
            description=body.description,
        )

    return await run_write(request, caller, work, status_code=201)


@router.get("/experiments", response_model=Page[Experiment])
def list_experiments(
    caller: Reader,
    status: Annotated[ExperimentStatus | None, Query(description="Only these.")] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Page[Experiment]:
    """The workspace's experiments, oldest first."""
    found = caller.sm.experiments(status=status)
    chunk, next_cursor = page(found, lambda x: x.id, cursor=cursor, limit=limit)
    return Page[Experiment](items=chunk, next_cursor=next_cursor)


@router.get("/experiments/{experiment}", response_model=Experiment)
def get_experiment(experiment: ExperimentPath, caller: Reader) -> Experiment:
    return caller.sm.experiment(experiment)


@router.post("/experiments/{experiment}/stop", response_model=Experiment)
async def stop_experiment(experiment: ExperimentPath, request: Request, caller: Admin) -> Response:
    """Stop the experiment: it assigns nobody from now on; its analysis ends at this moment.
    Stopping a stopped experiment changes nothing."""
    return await run_write(request, caller, lambda: caller.sm.stop_experiment(experiment))


@router.post("/experiments/{experiment}/assignments", response_model=Assignment)
async def assignment(experiment: ExperimentPath, body: AssignmentIn, caller: Reader) -> Assignment:
    """The user's variant (null: not in the experiment), so the product can branch on it.

    Read scope is enough, as for context: the exposure it records (the user's first meeting
    with a running experiment, once) is part of reading, not a change to the model.
    """
    return await run_in_threadpool(caller.sm.assignment, body.user, experiment)
