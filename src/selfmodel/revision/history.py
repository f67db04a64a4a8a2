"""Belief history: every change is one append-only event with its cause."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from selfmodel.domain import Belief, BeliefEvent, BeliefEventType, new_id
from selfmodel.domain.time import utcnow
from selfmodel.storage import ModelStore


def record_event(
    store: ModelStore,
    belief: Belief,
    event: BeliefEventType,
    *,
    cause: str,
    before: float | None,
    after: float | None,
    observation_id: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append one event to ``belief``'s history (inside the caller's transaction)."""
    store.append_event(
        BeliefEvent(
            id=new_id("evt"),
            workspace_id=belief.workspace_id,
            user_id=belief.user_id,
            belief_id=belief.id,
            type=event,
            at=at or utcnow(),
            cause=cause,
            observation_id=observation_id,
            confidence_before=before,
            confidence_after=after,
            details=dict(details or {}),
        )
    )
