"""Alerts: a drift or a regression found in a workspace, kept until it ends, delivered once.

An alert is a workspace record, like an eval run: its message and details are statistics, run
ids and (for self-model drift) the product's ids of the users who changed most — no one's words.
It is identified across checks by its ``key`` (what drifted: "input", "categorical:query
length (words)", "quality:golden@…", "regression:golden@…:<baseline run>"): while an alert of a
key is open, finding the same drift again only marks it as seen again, so an ongoing drift is
one alert, not one a day; a check that no longer finds it resolves it, and a later drift of the
same key opens a new one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AlertKind(StrEnum):
    INPUT_DRIFT = "input_drift"  # the traced queries moved (MMD)
    CATEGORICAL_SHIFT = "categorical_shift"  # query lengths or kinds of belief formed (PSI, χ²)
    SELF_MODEL_DRIFT = "self_model_drift"  # more beliefs superseded or contradicted
    QUALITY_DRIFT = "quality_drift"  # a suite's eval scores fell (change point)
    REGRESSION = "regression"  # `eval compare`: a run significantly worse than its baseline


class AlertStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"  # the drift was not found again, or someone resolved it


class Delivery(StrEnum):
    """Where the webhook POST of an alert stands."""

    NONE = "none"  # no webhook configured when the alert was raised
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # every attempt failed; ``delivery_error`` says why


class Alert(BaseModel):
    """One drift or regression, from the check that first found it to the one that no longer
    does."""

    model_config = ConfigDict(frozen=True)

    id: str
    workspace_id: str
    kind: AlertKind
    key: str = Field(description="What drifted; the same ongoing drift keeps one key.")
    status: AlertStatus
    message: str = Field(description="One line a person reads.")
    details: dict[str, Any] = Field(
        default_factory=dict, description="The statistics behind the message."
    )
    first_seen_at: datetime
    last_seen_at: datetime
    seen_count: int = Field(description="Checks that found this drift while it was open.")
    resolved_at: datetime | None = None
    delivery: Delivery = Delivery.NONE
    delivery_attempts: int = 0
    delivery_error: str | None = None
    delivered_at: datetime | None = None


__all__ = ["Alert", "AlertKind", "AlertStatus", "Delivery"]
