"""The joined report: engineering metrics beside outcomes, as JSON or as a page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from selfmodel.domain.report import DEFAULT_REPORT_DAYS, MAX_REPORT_DAYS, JoinedReport
from selfmodel.report.page import render
from selfmodel.server.auth import Reader
from selfmodel.server.routes import v1_router
from selfmodel.server.schemas import Moment

router = v1_router("report")
Now = Annotated[Moment | None, Query(description="End of the window (default: now).")]
Days = Annotated[float, Query(gt=0, le=MAX_REPORT_DAYS, description="Length of the window.")]


@router.get("/report", response_model=JoinedReport)
async def report(caller: Reader, now: Now = None, days: Days = DEFAULT_REPORT_DAYS) -> JoinedReport:
    """Engineering metrics (latency, tokens, specificity, recall) beside outcomes, per variant,
    per segment and per day, with the correlation of each pair across days. Reads only."""
    return await run_in_threadpool(caller.sm.report, now=now, days=days)


@router.get("/report.html", response_class=HTMLResponse)
async def report_page(
    caller: Reader, now: Now = None, days: Days = DEFAULT_REPORT_DAYS
) -> HTMLResponse:
    """The same report as one self-contained page (tables and inline SVG plots, no script)."""
    found = await run_in_threadpool(caller.sm.report, now=now, days=days)
    return HTMLResponse(render(found))
