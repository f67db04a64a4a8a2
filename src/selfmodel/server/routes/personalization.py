"""How personal the workspace's context blocks are: specificity, distinctiveness, coverage,
belief use (docs/experiments.md, "Personalization metrics")."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi.concurrency import run_in_threadpool

from selfmodel.domain.personalization import (
    DEFAULT_DAYS,
    DEFAULT_MIN_BELIEFS,
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_MIN_OFFERS,
    PersonalizationReport,
)
from selfmodel.server.auth import Reader
from selfmodel.server.routes import v1_router
from selfmodel.server.schemas import Moment

router = v1_router("personalization")
# A window longer than a year reads every trace of a busy workspace: not a dashboard's query.
MAX_DAYS = 366.0
MAX_COUNT = 10_000


@router.get("/personalization", response_model=PersonalizationReport)
async def personalization(
    caller: Reader,
    now: Annotated[Moment | None, Query(description="End of the window (default: now).")] = None,
    days: Annotated[float, Query(gt=0, le=MAX_DAYS)] = DEFAULT_DAYS,
    min_beliefs: Annotated[int, Query(ge=1, le=MAX_COUNT)] = DEFAULT_MIN_BELIEFS,
    min_confidence: Annotated[float, Query(ge=0, le=1)] = DEFAULT_MIN_CONFIDENCE,
    min_offers: Annotated[int, Query(ge=1, le=MAX_COUNT)] = DEFAULT_MIN_OFFERS,
) -> PersonalizationReport:
    """Specificity and distinctiveness of the window's context blocks per experiment variant,
    coverage of the users served, and which offered beliefs answers used. Reads only."""
    return await run_in_threadpool(
        caller.sm.personalization,
        now=now,
        days=days,
        min_beliefs=min_beliefs,
        min_confidence=min_confidence,
        min_offers=min_offers,
    )
