"""``selfmodel worker``: process the durable queue as a separate process."""

from __future__ import annotations

import logging
import signal
from types import FrameType
from typing import Annotated

import typer

from selfmodel.cli.app import DEFAULT_DB, DbOption, friendly_errors
from selfmodel.engine import DEFAULT_JOB_BATCH, DEFAULT_LEASE_SECONDS

DEFAULT_CONCURRENCY = 1


@friendly_errors
def worker(
    db: DbOption = DEFAULT_DB,
    concurrency: Annotated[
        int, typer.Option(min=1, help="Threads claiming and running jobs in this process.")
    ] = DEFAULT_CONCURRENCY,
    batch: Annotated[int, typer.Option(min=1, help="Jobs claimed at a time per thread.")] = (
        DEFAULT_JOB_BATCH
    ),
    lease: Annotated[
        float,
        typer.Option(
            min=0.1, help="Seconds a claimed job stays ours; then another worker may retake it."
        ),
    ] = DEFAULT_LEASE_SECONDS,
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Exit once no job is due instead of polling.")
    ] = False,
    worker_id: Annotated[
        str | None, typer.Option(help="Name in job leases and logs (default: host:pid).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Run queued background work (observe with wait=false). `--db` takes a SQLite path or
    postgresql:// URL; SIGTERM or Ctrl-C finishes the batch in hand and exits."""
    from selfmodel.engine import SelfModel
    from selfmodel.server.logs import configure_json_logging
    from selfmodel.worker import Worker

    level = logging.getLevelName(log_level.upper())
    if not isinstance(level, int):
        raise typer.BadParameter(f"unknown log level {log_level!r}", param_hint="--log-level")
    configure_json_logging(level)
    with SelfModel.open(db) as sm:
        runner = Worker(
            sm, worker_id=worker_id, concurrency=concurrency, batch=batch, lease_seconds=lease
        )

        def graceful(signum: int, frame: FrameType | None) -> None:
            logging.getLogger("selfmodel.worker").info(
                "stopping", extra={"signal": signal.Signals(signum).name}
            )
            runner.stop()

        signal.signal(signal.SIGTERM, graceful)
        signal.signal(signal.SIGINT, graceful)
        runner.run(until_idle=until_idle)
