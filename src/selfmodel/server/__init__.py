"""The HTTP API (FastAPI): ``create_app(engine)``; run it with ``selfmodel serve``."""

from selfmodel.server.app import create_app
from selfmodel.server.state import ServerLimits

__all__ = ["ServerLimits", "create_app"]
