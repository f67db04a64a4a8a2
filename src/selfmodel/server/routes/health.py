"""Liveness, readiness and Prometheus metrics (no key needed; bind to loopback or a private net)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from selfmodel.errors import SelfModelError
from selfmodel.server.errors import error_body
from selfmodel.server.schemas import ErrorOut, HealthOut
from selfmodel.server.state import server_state

router = APIRouter(tags=["health"])
log = logging.getLogger("selfmodel.server")


@router.get("/healthz", response_model=HealthOut)
def healthz() -> HealthOut:
    """The process is up."""
    return HealthOut(status="ok")


@router.get("/readyz", response_model=HealthOut, responses={503: {"model": ErrorOut}})
async def readyz(request: Request) -> Response:
    """The database answers: ready to take traffic."""
    store = server_state(request).engine.store
    try:
        await run_in_threadpool(store.list_workspaces)
    except Exception as exc:  # any driver error means "not ready"; logged, answered 503
        log.warning("readiness check failed: %s", exc)
        message = exc.message if isinstance(exc, SelfModelError) else str(exc)
        return JSONResponse(error_body("not_ready", message), status_code=503)
    return JSONResponse(HealthOut(status="ok", checks={"database": "ok"}).model_dump())


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus text format: request latency, queue depth, extraction throughput."""
    rendered = await run_in_threadpool(server_state(request).metrics.render)
    return Response(rendered, media_type=CONTENT_TYPE_LATEST)
