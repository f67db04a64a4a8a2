"""The workspace's retention policy, running it, and the audit log of deletions (admin keys)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response

from selfmodel.domain.retention import AuditRecord, RetentionPolicy, RetentionReport
from selfmodel.engine import MAX_USER_ID_CHARS
from selfmodel.server.auth import Admin
from selfmodel.server.idempotency import run_write
from selfmodel.server.pagination import decode_cursor, encode_cursor
from selfmodel.server.routes import v1_router
from selfmodel.server.schemas import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Page,
    RetentionPolicyIn,
    RetentionRunIn,
)

router = v1_router("retention")


@router.get("/retention", response_model=RetentionPolicy)
def get_policy(caller: Admin) -> RetentionPolicy:
    """The workspace's retention policy (null: keep for ever, the default)."""
    return caller.sm.retention_policy()


@router.patch("/retention", response_model=RetentionPolicy)
async def change_policy(body: RetentionPolicyIn, request: Request, caller: Admin) -> Response:
    """Change the policies named in the body (null: keep for ever); the others stay. The worker
    applies the policy periodically (``SELFMODEL_WORKER_RETENTION_INTERVAL_S``)."""
    changes = body.model_dump(include=body.model_fields_set)
    return await run_write(request, caller, lambda: caller.sm.set_retention_policy(changes))


@router.post("/retention/run", response_model=RetentionReport)
async def run_policy(body: RetentionRunIn, request: Request, caller: Admin) -> Response:
    """Apply the policy now (``dry_run``: report what it selects, delete nothing). Each deletion
    is checked and recorded in the audit log; running again deletes nothing more."""

    def without_users(answer: Any) -> Any:
        # Kept for replays without the users' ids: a replay must not name forgotten users.
        deletions = [{**d, "user": None} for d in answer["deletions"]]
        return {**answer, "deletions": deletions}

    return await run_write(
        request,
        caller,
        lambda: caller.sm.run_retention(dry_run=body.dry_run),
        kept=without_users,
    )


@router.get("/audit-log", response_model=Page[AuditRecord])
def audit_log(
    caller: Admin,
    user: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_USER_ID_CHARS,
            description="Only deletions about the user with this id (found by its hash).",
        ),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Page[AuditRecord]:
    """Every deletion made by forget or a retention policy, oldest first. Records hold counts,
    never text, and name users by a keyed hash of their id."""
    after = decode_cursor(cursor) if cursor is not None else None
    records = caller.sm.audit_log(user=user, after=after, limit=limit + 1)
    chunk = records[:limit]
    more = len(records) > limit
    return Page[AuditRecord](
        items=chunk, next_cursor=encode_cursor(chunk[-1].id) if more and chunk else None
    )
