"""Alerts of the workspace (drift, quality, regressions): list, read, resolve; and asking the
workers for a drift check now.

Alerts hold statistics and run ids, no one's words, so any key of the workspace reads them;
resolving one or asking for a check changes the workspace's state and needs ``write``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from selfmodel.domain import Alert, AlertStatus
from selfmodel.domain.time import utcnow
from selfmodel.server.auth import Reader, Writer
from selfmodel.server.idempotency import run_write
from selfmodel.server.pagination import page
from selfmodel.server.routes import IdPath, v1_router
from selfmodel.server.schemas import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page

router = v1_router("alerts")


class DriftCheckRequested(BaseModel):
    requested_at: str = Field(description="When the check was asked for (ISO 8601).")


@router.get("/alerts", response_model=Page[Alert])
def list_alerts(
    caller: Reader,
    status: Annotated[
        AlertStatus | None, Query(description="Only open or only resolved alerts.")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Page[Alert]:
    """The workspace's alerts, the last raised first."""
    found = caller.sm.alerts(status=status)
    chunk, next_cursor = page(found, lambda a: a.id, cursor=cursor, limit=limit, descending=True)
    return Page[Alert](items=chunk, next_cursor=next_cursor)


@router.get("/alerts/{alert_id}", response_model=Alert)
def get_alert(alert_id: IdPath, caller: Reader) -> Alert:
    """One alert; another workspace's is 404 ``alert_not_found``, as if it did not exist."""
    return caller.sm.alert(alert_id)


@router.post("/alerts/{alert_id}/resolve", response_model=Alert)
async def resolve_alert(alert_id: IdPath, request: Request, caller: Writer) -> Response:
    """Close an alert by hand; the next check that finds the same drift opens a new one."""
    return await run_write(request, caller, lambda: caller.sm.resolve_alert(alert_id))


@router.post("/eval/drift-checks", response_model=DriftCheckRequested, status_code=202)
async def request_drift_check(request: Request, caller: Writer) -> Response:
    """Ask for a drift check of the workspace now: the next worker that looks (within a
    second) runs it and raises its alerts (list them with ``GET /v1/alerts``)."""

    def work() -> DriftCheckRequested:
        at = utcnow()
        caller.sm.request_drift_check()
        return DriftCheckRequested(requested_at=at.isoformat())

    return await run_write(request, caller, work, status_code=202)
