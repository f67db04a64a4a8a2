"""``create_app``: the FastAPI application around one ``SelfModel`` engine."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

import selfmodel
from selfmodel.engine import SelfModel
from selfmodel.inspector import create_inspector_router
from selfmodel.mirror import create_mirror_router
from selfmodel.server.errors import answer_status, install_error_handlers
from selfmodel.server.metrics import ServerMetrics
from selfmodel.server.middleware import (
    BodyLimitMiddleware,
    RequestContextMiddleware,
    Utf8UrlMiddleware,
)
from selfmodel.server.routes import (
    alerts,
    audit,
    beliefs,
    context,
    debugging,
    evaluation,
    experiments,
    export,
    health,
    jobs,
    keys,
    mirror,
    observations,
    outcomes,
    personalization,
    profile,
    report,
    retention,
    traces,
    users,
    workspaces,
)
from selfmodel.server.state import ServerState
from selfmodel.tenancy import Tenancy
from selfmodel.worker import Worker, default_worker_id

log = logging.getLogger("selfmodel.server")

DESCRIPTION = """
A persistent, inspectable self-model for every user of an AI product.

Authenticate with a workspace API key: `Authorization: Bearer smk_…` (mint the first one with
`selfmodel key create --workspace NAME --scope admin`). Every error answers
`{"error": {"code", "message", "details"}}`. Writes accept an `Idempotency-Key` header.
"""


# How long shutdown waits for the job in hand.
STOP_TIMEOUT_SECONDS = 30.0


def create_app(engine: SelfModel, *, background_worker: bool = False) -> FastAPI:
    """The HTTP API over ``engine`` (the caller keeps ownership: close it after the app stops).

    Its limits are the engine's server settings (``engine.settings.server``).
    ``background_worker`` runs an in-process worker thread that processes queued jobs (the
    embedded default of ``selfmodel serve``), for observations sent with ``wait=false``; it
    follows the engine's worker settings.
    """
    state = ServerState(engine=engine, tenancy=Tenancy(engine.store), metrics=ServerMetrics())
    state.metrics.watch_queue(engine.store.queue_depth)
    worker = (
        Worker(
            engine,
            worker_id=f"serve:{default_worker_id()}",
            on_run=state.metrics.count_job,
        )
        if background_worker
        else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        thread = worker.start() if worker is not None else None
        usage = asyncio.create_task(_flush_key_usage(state))
        try:
            yield
        finally:
            usage.cancel()
            with suppress(asyncio.CancelledError):
                await usage
            if worker is not None and thread is not None:
                # Finish the batch in hand; an unfinished job's lease expires and is retried.
                worker.stop()
                thread.join(STOP_TIMEOUT_SECONDS)
            await _flush_key_usage_once(state)

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
        debugging,
        outcomes,
        experiments,
        personalization,
        report,
        evaluation,
        alerts,
        audit,
        export,
        retention,
        mirror,
        health,
    ):
        app.include_router(module.router)
    # The Mirror's pages (a person's own view, opened with a link), answering errors as we do.
    app.include_router(
        create_mirror_router(
            lambda request: state.engine, answer_status, settings=engine.settings.mirror
        )
    )
    # The Inspector's pages (an operator's, opened with an admin key), the same way.
    app.include_router(
        create_inspector_router(
            lambda request: state.engine, lambda request: state.tenancy, answer_status
        )
    )
    # Added last = outermost: ids and timing cover everything, the size check runs before parsing,
    # and no route sees a URL whose bytes are not UTF-8.
    app.add_middleware(Utf8UrlMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=state.settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, metrics=state.metrics)
    return app


async def _flush_key_usage(state: ServerState) -> None:
    """Write the keys' last use every ``key_usage_flush_s``, off the request path."""
    while True:
        await asyncio.sleep(state.settings.key_usage_flush_s)
        await _flush_key_usage_once(state)


async def _flush_key_usage_once(state: ServerState) -> None:
    try:
        await run_in_threadpool(state.tenancy.flush_key_usage)
    except Exception:  # the database is away: the uses stay in memory for the next flush
        state.metrics.key_usage_failures.inc()
        log.warning("could not record API key usage", exc_info=True)


__all__ = ["create_app"]
