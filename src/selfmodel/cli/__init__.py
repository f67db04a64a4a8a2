"""The ``selfmodel`` command line (the ``selfmodel[local]`` extra; ``serve`` needs ``[server]``).

The script is installed with every install; without the extras a command says which one it
needs instead of failing with a traceback.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from selfmodel.extras import install_hint

if TYPE_CHECKING:
    from selfmodel.cli.app import app


def main() -> None:
    """Entry point of the ``selfmodel`` script."""
    try:
        from selfmodel.cli.app import main as run

        run()
    except ModuleNotFoundError as exc:
        hint = install_hint(exc, "this command")
        if hint is None:
            raise
        print(f"selfmodel: {hint}", file=sys.stderr)
        raise SystemExit(1) from None


def __getattr__(name: str) -> Any:
    # ``app`` (the typer application) loads the engine: imported only when asked for.
    if name == "app":
        from selfmodel.cli.app import app

        return app
    raise AttributeError(f"module 'selfmodel.cli' has no attribute {name!r}")


__all__ = ["app", "main"]
