"""``selfmodel serve``: the HTTP API under uvicorn, on the embedded SQLite by default."""

from __future__ import annotations

import logging
import signal
from types import FrameType
from typing import Annotated

import typer

from selfmodel.cli.app import DEFAULT_DB, DbOption, friendly_errors

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


@friendly_errors
def serve(
    db: DbOption = DEFAULT_DB,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="TCP port.")] = DEFAULT_PORT,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Run a background worker in this process for queued work (wait=false).",
        ),
    ] = True,
    max_body_bytes: Annotated[
        int | None, typer.Option(help="Refuse request bodies larger than this (413).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Serve the HTTP API (OpenAPI at /docs); `--db` is a SQLite path or a postgresql:// URL."""
    import uvicorn

    from selfmodel.engine import SelfModel
    from selfmodel.server import ServerLimits, create_app
    from selfmodel.server.logs import configure_json_logging

    level = logging.getLevelName(log_level.upper())
    if not isinstance(level, int):
        raise typer.BadParameter(f"unknown log level {log_level!r}", param_hint="--log-level")
    configure_json_logging(level)
    limits = ServerLimits()
    if max_body_bytes is not None:
        if max_body_bytes <= 0:
            raise typer.BadParameter("must be positive", param_hint="--max-body-bytes")
        limits = ServerLimits(max_body_bytes=max_body_bytes)
    with SelfModel.open(db) as engine:
        app = create_app(engine, limits=limits, background_worker=worker)
        logging.getLogger("selfmodel.server").info(
            "serving", extra={"host": host, "port": port, "db": _redact(db), "worker": worker}
        )
        # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal with the handler
        # that was installed before it ran. Make that handler a clean exit, so the `with` block
        # closes the store (checkpointing SQLite's WAL) and the process exits 0.
        signal.signal(signal.SIGTERM, _exit_cleanly)
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _redact(location: str) -> str:
    """A database URL without its password, for logs."""
    if "://" in location and "@" in location:
        scheme, rest = location.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return location
