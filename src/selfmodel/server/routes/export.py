"""Export everything about a user, or forget them (hard delete)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from selfmodel.server.auth import Reader, Writer
from selfmodel.server.idempotency import run_write
from selfmodel.server.routes import UserPath, v1_router
from selfmodel.server.schemas import ForgetOut

router = v1_router("export")


@router.get("/users/{user}/export", response_model=dict[str, Any])
def export(user: UserPath, caller: Reader) -> dict[str, Any]:
    """Every observation, belief, evidence link and history event about the user, as JSON."""
    return caller.sm.export(user)


@router.delete("/users/{user}", response_model=ForgetOut)
async def forget(user: UserPath, request: Request, caller: Writer) -> Response:
    """Hard-delete every row about the user: observations, beliefs, history, vectors, traces."""

    def work() -> ForgetOut:
        counts = caller.sm.forget(user)
        return ForgetOut(user=user, deleted=counts.counts, total=counts.total)

    return await run_write(request, caller, work)
