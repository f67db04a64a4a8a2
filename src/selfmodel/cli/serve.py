"""``selfmodel serve``: the HTTP API under uvicorn, on the embedded SQLite by default."""

from __future__ import annotations

import logging
import signal
from types import FrameType
from typing import Annotated

import typer

from selfmodel.cli.app import DbOption, friendly_errors, ready_for_traffic, setting_help
from selfmodel.config import ServerSettings, Settings, override


@friendly_errors
def serve(
    db: DbOption = None,
    host: Annotated[
        str | None,
        typer.Option(help=setting_help("Interface to listen on.", ServerSettings, "host")),
    ] = None,
    port: Annotated[
        int | None, typer.Option(help=setting_help("TCP port.", ServerSettings, "port"))
    ] = None,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Run a background worker in this process for queued work (wait=false).",
        ),
    ] = True,
    max_body_bytes: Annotated[
        int | None,
        typer.Option(
            help=setting_help(
                "Refuse request bodies larger than this (413).", ServerSettings, "max_body_bytes"
            )
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Serve the HTTP API (OpenAPI at /docs); `--db` is a SQLite path or a postgresql:// URL.
    The local models load before it listens, so no request waits for them."""
    import uvicorn

    from selfmodel.engine import SelfModel
    from selfmodel.server import create_app
    from selfmodel.server.http_protocol import H11ProtocolWithJsonErrors
    from selfmodel.server.logs import configure_json_logging

    level = logging.getLevelName(log_level.upper())
    if not isinstance(level, int):
        raise typer.BadParameter(f"unknown log level {log_level!r}", param_hint="--log-level")
    configure_json_logging(level)
    settings = Settings()
    # The options override the settings and are checked against the same bounds.
    server = override(settings.server, host=host, port=port, max_body_bytes=max_body_bytes)
    settings = settings.model_copy(update={"server": server})
    location = db or settings.database.db
    with SelfModel.open(location, settings=settings) as engine:
        ready_for_traffic(engine)
        app = create_app(engine, background_worker=worker)
        logging.getLogger("selfmodel.server").info(
            "serving",
            extra={
                "host": server.host,
                "port": server.port,
                "db": _redact(location),
                "worker": worker,
            },
        )
        # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal with the handler
        # that was installed before it ran. Make that handler a clean exit, so the `with` block
        # closes the store (checkpointing SQLite's WAL) and the process exits 0.
        signal.signal(signal.SIGTERM, _exit_cleanly)
        uvicorn.run(
            app,
            host=server.host,
            port=server.port,
            http=H11ProtocolWithJsonErrors,
            log_config=None,
            access_log=False,
        )


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _redact(location: str) -> str:
    """A database URL without its password, for logs."""
    if "://" in location and "@" in location:
        scheme, rest = location.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return location
