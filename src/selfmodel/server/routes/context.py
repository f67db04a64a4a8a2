"""Context: a prompt-ready block about one or several users, with its trace."""

from __future__ import annotations

from fastapi.concurrency import run_in_threadpool

from selfmodel.domain import ContextResult
from selfmodel.errors import InvalidInputError
from selfmodel.server.auth import Reader
from selfmodel.server.routes import v1_router
from selfmodel.server.schemas import MAX_CONTEXT_USERS, ContextIn

router = v1_router("context")


@router.post("/context", response_model=ContextResult)
async def context(body: ContextIn, caller: Reader) -> ContextResult:
    """Retrieve, rank and fit what is known about the user(s) into ``budget_tokens``.

    Read scope is enough: the trace it records is part of reading, not a change to the model.
    """
    users = [body.user] if isinstance(body.user, str) else body.user
    if not users or len(users) > MAX_CONTEXT_USERS:
        raise InvalidInputError(f"user must name 1–{MAX_CONTEXT_USERS} users", field="user")
    return await run_in_threadpool(
        caller.sm.context,
        users,
        body.query,
        budget_tokens=body.budget_tokens,
        area=body.area,
        limit=body.limit,
        now=body.as_of,
        moments=body.moments,
    )
