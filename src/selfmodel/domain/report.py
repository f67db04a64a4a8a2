"""The joined report: engineering metrics beside outcomes, per variant, per segment, per day,
and how each engineering metric moved with each outcome (``selfmodel.evaluation.report``)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_REPORT_DAYS = 28.0
MAX_REPORT_DAYS = 366.0
# The engineering metrics, in the order every table shows them.
ENGINEERING_METRICS = ("latency_ms", "tokens", "specificity", "recall")


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class OutcomeSummary(_Record):
    """One outcome metric of a group: a mean for valued kinds (ratings, days, metrics), events
    per context call for the others."""

    metric: str
    events: int
    value: float | None  # mean value, or events per context call
    per_call: bool  # True: ``value`` is a rate per context call


class GroupSummary(_Record):
    """A variant or a segment: its context calls and what followed them."""

    name: str
    traces: int
    users: int
    latency_ms_p50: float | None
    latency_ms_p95: float | None
    tokens: float | None  # mean tokens per block
    specificity: float | None
    outcomes: list[OutcomeSummary] = Field(default_factory=list)


class DaySummary(_Record):
    day: date
    traces: int
    engineering: dict[str, float | None]  # ENGINEERING_METRICS, per day
    outcomes: dict[str, float | None]


class Correlation(_Record):
    """Pearson's r between an engineering metric and an outcome over the days both have."""

    engineering: str
    outcome: str
    days: int
    r: float | None  # None: fewer than 3 days, or no spread
    p_value: float | None


class JoinedReport(_Record):
    workspace: str
    start: datetime
    end: datetime
    overall: GroupSummary
    recall: float | None  # the last eval run's mean recall in the window (or before)
    recall_run: str | None
    variants: list[GroupSummary]
    segments: list[GroupSummary]
    daily: list[DaySummary]
    correlations: list[Correlation]
    notes: list[str] = Field(default_factory=list)


__all__ = [
    "DEFAULT_REPORT_DAYS",
    "ENGINEERING_METRICS",
    "MAX_REPORT_DAYS",
    "Correlation",
    "DaySummary",
    "GroupSummary",
    "JoinedReport",
    "OutcomeSummary",
]
