"""The audit of the key's workspace: the five problems and readiness, as JSON for dashboards.

Admin keys only: the audit reads the retention policy, the queue and the size of the database,
which only an admin key of a workspace sees elsewhere (``/v1/retention``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi.concurrency import run_in_threadpool

from selfmodel.domain.audit import AuditReport
from selfmodel.server.auth import Admin
from selfmodel.server.routes import v1_router
from selfmodel.server.schemas import Moment

router = v1_router("audit")


@router.get("/audit", response_model=AuditReport)
async def audit(
    caller: Admin,
    since: Annotated[
        Moment | None,
        Query(description="Start of the window (default: SELFMODEL_AUDIT_DAYS before its end)."),
    ] = None,
    now: Annotated[Moment | None, Query(description="End of the window (default: now).")] = None,
) -> AuditReport:
    """Per problem (evaluation drift, context decay, debug loops, metric misalignment,
    personalization gaps) and for readiness to run at scale: a status, the checks behind it with
    their figures, plots and ids, and the next action; a check without data is `not_measured`
    and names the command that would measure it. Reads only (it replays a sample of traces)."""
    return await run_in_threadpool(caller.sm.audit, since=since, now=now)
