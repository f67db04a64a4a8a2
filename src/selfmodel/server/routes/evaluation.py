"""Recorded eval runs of the workspace (``selfmodel eval run`` records them): list and read.

Runs hold ids, hashes and numbers only, no one's words, so any key of the workspace reads them,
as it reads the workspace itself.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import Query

from selfmodel.domain import EvalRun
from selfmodel.evaluation.records import EvalRuns
from selfmodel.server.auth import Reader
from selfmodel.server.pagination import page
from selfmodel.server.routes import IdPath, v1_router
from selfmodel.server.schemas import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    EvalItemOut,
    EvalRunDetailOut,
    EvalRunOut,
    Page,
)

router = v1_router("evaluation")


def run_out(run: EvalRun) -> EvalRunOut:
    fields = asdict(run)
    fields.pop("workspace_id")
    return EvalRunOut(**fields)


@router.get("/eval/runs", response_model=Page[EvalRunOut])
def list_eval_runs(
    caller: Reader,
    suite: Annotated[
        str | None, Query(max_length=500, description="Only this suite's runs.")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Page[EvalRunOut]:
    """The workspace's eval runs, the last recorded first."""
    runs = [r for r in EvalRuns(caller.sm.store).runs(caller.workspace) if suite in (None, r.suite)]
    chunk, next_cursor = page(runs, lambda r: r.id, cursor=cursor, limit=limit, descending=True)
    return Page[EvalRunOut](items=[run_out(r) for r in chunk], next_cursor=next_cursor)


@router.get("/eval/runs/{run_id}", response_model=EvalRunDetailOut)
def get_eval_run(run_id: IdPath, caller: Reader) -> EvalRunDetailOut:
    """One run with the scores of every item."""
    runs = EvalRuns(caller.sm.store)
    run = runs.run(caller.workspace, run_id)
    items = runs.items(caller.workspace, run.id)
    return EvalRunDetailOut(
        **run_out(run).model_dump(),
        items=[EvalItemOut(**asdict(item)) for item in items],
    )
