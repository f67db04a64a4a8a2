"""The HTTP API (FastAPI): ``create_app(engine)``; run it with ``selfmodel serve``.

``create_app`` and ``ServerLimits`` are imported on first use, so the modules here that need no
web framework (API keys, JSON logs) serve the CLI and workers without the ``[server]`` extra.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_HOMES = {"create_app": "selfmodel.server.app", "ServerLimits": "selfmodel.server.state"}

if TYPE_CHECKING:
    from selfmodel.server.app import create_app
    from selfmodel.server.state import ServerLimits


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'selfmodel.server' has no attribute {name!r}")
    return getattr(import_module(home), name)


__all__ = ["ServerLimits", "create_app"]
