"""The HTTP API (FastAPI): ``create_app(engine)``; run it with ``selfmodel serve``.

``create_app`` is imported on first use, so the modules here that need no web framework (JSON
logs) serve the CLI and workers without the ``[server]`` extra. The server's settings are
``selfmodel.config.ServerSettings``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_HOMES = {"create_app": "selfmodel.server.app"}

if TYPE_CHECKING:
    from selfmodel.server.app import create_app


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'selfmodel.server' has no attribute {name!r}")
    return getattr(import_module(home), name)


__all__ = ["create_app"]
