"""Plain records the engine hands back besides the domain models: traces and deletion counts.

They live in the domain, not in storage, so the SDK can return the very same types without
importing any storage code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A page of a user's traces (``traces``). Each carries its candidates and block (tens of KB), so
# pages stay short.
DEFAULT_TRACES = 20
MAX_TRACES = 100


@dataclass(frozen=True)
class TraceRecord:
    """A stored ``context`` call: what was asked, considered, chosen, and under which config."""

    id: str
    workspace_id: str
    user_ids: tuple[str, ...]
    query: str
    created_at: Any  # datetime
    latency_ms: float
    config: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)  # candidates, chosen items, block


@dataclass(frozen=True)
class DeletedCounts:
    """How many rows ``forget`` (``delete_user``) removed, per table."""

    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())
