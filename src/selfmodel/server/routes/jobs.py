"""Queued work: wait until the self-model reflects observations sent with ``wait=false``."""

from __future__ import annotations

from fastapi import Response
from fastapi.concurrency import run_in_threadpool

from selfmodel.server.auth import Reader
from selfmodel.server.routes import v1_router
from selfmodel.server.schemas import WaitIn

router = v1_router("observations")


@router.post("/observations/wait", status_code=204, response_class=Response)
async def wait_for(body: WaitIn, caller: Reader) -> Response:
    """Answer once the jobs covering these observations are done (204).

    504 ``wait_timeout`` if some are still pending after ``timeout`` seconds (ask again), 500
    ``job_failed`` if one failed for good. Ids unknown in this workspace count as done. A
    read: it changes nothing, and the SDK's ``wait_for`` asks again until its own timeout.
    """
    # A server thread sleeps between checks for up to MAX_WAIT_SECONDS; the bound keeps a crowd
    # of waiting clients from holding the thread pool for long.
    await run_in_threadpool(caller.sm.wait_for, body.observation_ids, timeout=body.timeout)
    return Response(status_code=204)
