"""``selfmodel worker``: process the durable queue as a separate process."""

from __future__ import annotations

import logging
import signal
from types import FrameType
from typing import Annotated

import typer

from selfmodel.cli.app import DbOption, friendly_errors, ready_for_traffic, setting_help
from selfmodel.config import Settings, WorkerSettings, override


@friendly_errors
def worker(
    db: DbOption = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            help=setting_help(
                "Threads claiming and running jobs in this process.",
                WorkerSettings,
                "worker_concurrency",
            )
        ),
    ] = None,
    batch: Annotated[
        int | None,
        typer.Option(
            help=setting_help("Jobs claimed at a time per thread.", WorkerSettings, "worker_batch")
        ),
    ] = None,
    lease: Annotated[
        float | None,
        typer.Option(
            help=setting_help(
                "Seconds a claimed job stays ours; then another worker may retake it.",
                WorkerSettings,
                "worker_lease_s",
            )
        ),
    ] = None,
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
    settings = Settings()
    # The options override the settings and are checked against the same bounds.
    options = override(
        settings.worker, worker_concurrency=concurrency, worker_batch=batch, worker_lease_s=lease
    )
    settings = settings.model_copy(update={"worker": options})
    with SelfModel.open(db, settings=settings) as sm:
        ready_for_traffic(sm)
        runner = Worker(sm, worker_id=worker_id)

        def graceful(signum: int, frame: FrameType | None) -> None:
            logging.getLogger("selfmodel.worker").info(
                "stopping", extra={"signal": signal.Signals(signum).name}
            )
            runner.stop()

        signal.signal(signal.SIGTERM, graceful)
        signal.signal(signal.SIGINT, graceful)
        runner.run(until_idle=until_idle)
