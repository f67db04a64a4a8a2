"""Observations: what a user said or did, in batches."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from selfmodel.domain import ObserveResult
from selfmodel.server.auth import Writer
from selfmodel.server.idempotency import run_write
from selfmodel.server.routes import UserPath, v1_router
from selfmodel.server.schemas import ObserveIn
from selfmodel.server.state import server_state

router = v1_router("observations")


@router.post("/users/{user}/observations", response_model=ObserveResult, status_code=201)
async def observe(user: UserPath, body: ObserveIn, request: Request, caller: Writer) -> Response:
    """Store a batch of messages and update the user's self-model.

    Messages with an ``id`` already observed for this user are skipped (``duplicates``). With
    ``wait=false`` the messages are stored and their understanding is queued (``job_id``).
    """
    metrics = server_state(request).metrics

    def work() -> ObserveResult:
        result = caller.sm.observe(
            user,
            [m.model_dump(exclude_none=True) for m in body.messages],
            area=body.area,
            at=body.at,
            source=body.source,
            wait=body.wait,
        )
        metrics.observations.inc(len(result.new_observation_ids))
        if body.wait:
            metrics.extracted.inc(len(result.new_observation_ids))
            metrics.beliefs_created.inc(len(result.created))
        return result

    return await run_write(request, caller, work, status_code=201, user=user)
