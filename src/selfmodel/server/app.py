"""``create_app``: the FastAPI application around one ``SelfModel`` engine."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import selfmodel
from selfmodel.engine import SelfModel
from selfmodel.mirror import create_mirror_api_router, create_mirror_router
from selfmodel.server.auth import Reader, Writer
from selfmodel.server.errors import install_error_handlers
from selfmodel.server.metrics import ServerMetrics
from selfmodel.server.middleware import BodyLimitMiddleware, RequestContextMiddleware
from selfmodel.server.routes import (
    ERROR_RESPONSES,
    beliefs,
    context,
    export,
    health,
    jobs,
    keys,
    observations,
    profile,
    prompts,
    traces,
    users,
    workspaces,
)
from selfmodel.server.state import ServerLimits, ServerState
from selfmodel.worker import Worker, default_worker_id

log = logging.getLogger("selfmodel.server")

DESCRIPTION = """
A persistent, inspectable self-model for every user of an AI product.

Authenticate with a workspace API key: `Authorization: Bearer smk_…` (mint the first one with
`selfmodel key create --workspace NAME --scope admin`). Every error answers
`{"error": {"code", "message", "details"}}`. Writes accept an `Idempotency-Key` header.
"""


def _caller_model(caller: Reader) -> SelfModel:
    return caller.sm


def _writer_model(caller: Writer) -> SelfModel:
    return caller.sm


# How long the in-process worker sleeps on an empty queue: bounds the latency of wait=false work.
IDLE_POLL_SECONDS = 0.1
# How long shutdown waits for the job in hand.
STOP_TIMEOUT_SECONDS = 30.0


def create_app(
    engine: SelfModel,
    *,
    limits: ServerLimits | None = None,
    background_worker: bool = False,
) -> FastAPI:
    """The HTTP API over ``engine`` (the caller keeps ownership: close it after the app stops).

    ``background_worker`` runs an in-process worker thread that processes queued jobs (the
    embedded default of ``selfmodel serve``), for observations sent with ``wait=false``.
    """
    state = ServerState(engine=engine, limits=limits or ServerLimits(), metrics=ServerMetrics())
    state.metrics.watch_queue(engine.store.queue_depth)
    worker = (
        Worker(
            engine,
            worker_id=f"serve:{default_worker_id()}",
            idle_sleep=IDLE_POLL_SECONDS,
            on_run=state.metrics.count_job,
        )
        if background_worker
        else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        thread = worker.start() if worker is not None else None
        try:
            yield
        finally:
            if worker is not None and thread is not None:
                # Finish the batch in hand; an unfinished job's lease expires and is retried.
                worker.stop()
                thread.join(STOP_TIMEOUT_SECONDS)

    app = FastAPI(
        title="selfmodel",
        version=selfmodel.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.selfmodel = state
    install_error_handlers(app)
    for module in (
        workspaces,
        keys,
        users,
        observations,
        jobs,
        beliefs,
        profile,
        context,
        traces,
        export,
        prompts,
        health,
    ):
        app.include_router(module.router)
    # The Mirror: link minting and resonance cards under key auth; the pages under /mirror.
    app.include_router(
        create_mirror_api_router(_caller_model, _writer_model),
        prefix="/v1",
        responses=ERROR_RESPONSES,
    )
    app.include_router(create_mirror_router(lambda request: state.engine))
    # Added last = outermost: ids and timing cover everything, the size check runs before parsing.
    app.add_middleware(BodyLimitMiddleware, max_bytes=state.limits.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, metrics=state.metrics)
    return app


__all__ = ["create_app"]
