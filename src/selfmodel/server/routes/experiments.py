"""Experiments: define and stop them (admin keys), read them, assign users, analyse outcomes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from selfmodel.domain import Assignment, Experiment, ExperimentStatus
from selfmodel.domain.experiments import (
    DEFAULT_ALPHA,
    DEFAULT_HORIZON_USERS,
    DEFAULT_MDE_RELATIVE,
    DEFAULT_POWER,
    DEFAULT_PRE_PERIOD_DAYS,
    MAX_PRE_PERIOD_DAYS,
    ExperimentAnalysis,
)
from selfmodel.server.auth import Admin, Reader
from selfmodel.server.idempotency import run_write
from selfmodel.server.pagination import page
from selfmodel.server.routes import v1_router
from selfmodel.server.schemas import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    AssignmentIn,
    ExperimentIn,
    Moment,
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


@router.get("/experiments/{experiment}/analysis", response_model=ExperimentAnalysis)
def analysis(
    experiment: ExperimentPath,
    caller: Reader,
    metric: Annotated[
        str,
        Query(
            min_length=1,
            max_length=80,
            description="An outcome kind (rating, thumbs_up, returned …) or metric:NAME.",
        ),
    ],
    until: Annotated[
        Moment | None, Query(description="Data up to this moment (default: now or the stop).")
    ] = None,
    alpha: Annotated[float, Query(gt=0, lt=0.5)] = DEFAULT_ALPHA,
    power: Annotated[float, Query(ge=0.5, lt=1)] = DEFAULT_POWER,
    mde: Annotated[
        float, Query(gt=0, le=10, description="Smallest relative effect worth detecting.")
    ] = DEFAULT_MDE_RELATIVE,
    horizon: Annotated[
        int, Query(ge=2, le=10**9, description="Users at which the sequential test is sharpest.")
    ] = DEFAULT_HORIZON_USERS,
    pre_period_days: Annotated[
        float, Query(ge=0, le=MAX_PRE_PERIOD_DAYS, description="The CUPED covariate's window.")
    ] = DEFAULT_PRE_PERIOD_DAYS,
) -> ExperimentAnalysis:
    """Every variant against the control on one metric: effect and interval, CUPED, the
    always-valid sequential test over daily looks, sample ratio mismatch, sample size."""
    return caller.sm.analyze_experiment(
        experiment,
        metric,
        until=until,
        alpha=alpha,
        power=power,
        mde=mde,
        horizon=horizon,
        pre_period_days=pre_period_days,
    )
