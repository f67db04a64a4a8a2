"""What one running app holds: the engine (and its settings), its tenancy and its metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from selfmodel.config import ServerSettings
from selfmodel.engine import SelfModel
from selfmodel.server.metrics import ServerMetrics
from selfmodel.tenancy import Tenancy


@dataclass
class ServerState:
    """Shared by every request of one app: the engine (any workspace view), the workspaces and
    keys of its store, metrics."""

    engine: SelfModel
    tenancy: Tenancy
    metrics: ServerMetrics = field(default_factory=ServerMetrics)

    @property
    def settings(self) -> ServerSettings:
        """The engine's server settings: body limit, idempotency TTL, key-usage flush."""
        return self.engine.settings.server


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.selfmodel
    return state
