"""What one running app holds: the engine, its tenancy, its limits and its metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from selfmodel.engine import SelfModel
from selfmodel.errors import ConfigurationError
from selfmodel.server.metrics import ServerMetrics
from selfmodel.tenancy import Tenancy

# Request bodies above this are refused with 413 before they are read into memory. A full batch
# of SELFMODEL_MAX_BATCH_MESSAGES long messages would be larger; batches that big should be split.
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
# Replays of an Idempotency-Key are honoured this long; after that the key may be reused.
DEFAULT_IDEMPOTENCY_TTL_S = 24 * 3600.0
# Keys' last use is written this often (and when the app stops), never by the request itself.
DEFAULT_KEY_USAGE_FLUSH_S = 60.0


@dataclass(frozen=True)
class ServerLimits:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    idempotency_ttl_s: float = DEFAULT_IDEMPOTENCY_TTL_S
    key_usage_flush_s: float = DEFAULT_KEY_USAGE_FLUSH_S

    def __post_init__(self) -> None:
        if not self.key_usage_flush_s > 0:
            raise ConfigurationError("key_usage_flush_s must be a positive number of seconds")


@dataclass
class ServerState:
    """Shared by every request of one app: the engine (any workspace view), the workspaces and
    keys of its store, limits, metrics."""

    engine: SelfModel
    tenancy: Tenancy
    limits: ServerLimits = field(default_factory=ServerLimits)
    metrics: ServerMetrics = field(default_factory=ServerMetrics)


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.selfmodel
    return state
