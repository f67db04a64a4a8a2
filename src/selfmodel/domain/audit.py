"""The audit: where a deployment stands on the five problems, from its own telemetry.

A report holds one ``Section`` per problem (evaluation drift, context decay, debug loops, metric
misalignment, personalization gaps) and one for readiness to run at scale. A section is a list
of ``Check``s, each with a status, the one sentence that says what was found, the figures and
plots behind it, the ids of the traces, runs, users and alerts it read, and what to do next. A
check without the data to decide is ``not_measured`` and names the command that would measure
it: never a silent pass. ``selfmodel.audit`` computes the report; docs/audit.md reads one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AuditStatus(StrEnum):
    HEALTHY = "healthy"
    AT_RISK = "at_risk"
    FAILING = "failing"
    NOT_MEASURED = "not_measured"  # no data to decide: ``Check.command`` says how to get it


# How bad each measured status is; the worst measured check decides a section.
SEVERITY = {AuditStatus.HEALTHY: 0, AuditStatus.AT_RISK: 1, AuditStatus.FAILING: 2}

ReferenceKind = Literal[
    "trace", "eval_run", "user", "alert", "experiment", "job", "belief", "outcome", "audit_record"
]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class Figure(_Record):
    """One number a check read, with its unit ("share", "ms", "days", "bytes", …)."""

    name: str
    value: float | None
    unit: str = ""


class Reference(_Record):
    """Something behind a check a person can open: a trace, an eval run, a user, an alert …"""

    kind: ReferenceKind
    id: str
    note: str | None = None  # why it is listed ("not reproduced: tokens differ")


class Series(_Record):
    """One line or one set of bars: a value per x (None: no data there)."""

    name: str
    values: list[float | None]


class Plot(_Record):
    """Series over a shared x, drawn as lines (an ordered x) or grouped bars (categories)."""

    title: str
    kind: Literal["line", "bars"] = "line"
    x_label: str
    y_label: str
    x: list[str]
    series: list[Series]


class Check(_Record):
    key: str
    title: str
    status: AuditStatus
    finding: str = Field(description="What was found, in one sentence with its figures.")
    figures: list[Figure] = Field(default_factory=list)
    thresholds: dict[str, float] = Field(
        default_factory=dict, description="The settings it was graded against."
    )
    references: list[Reference] = Field(default_factory=list)
    plots: list[Plot] = Field(default_factory=list)
    next_action: str | None = Field(
        default=None, description="What to do, in one sentence (none when healthy)."
    )
    command: str | None = Field(
        default=None, description="Not measured: the command that would measure it."
    )


class Section(_Record):
    """One problem (or readiness): the worst status of its measured checks."""

    key: str
    title: str
    question: str  # what the section answers, for a reader new to it
    status: AuditStatus
    next_action: str = Field(description="The one thing to do first, in one sentence.")
    checks: list[Check]

    def check(self, key: str) -> Check:
        """The check ``key`` (``KeyError`` if the section has none)."""
        for found in self.checks:
            if found.key == key:
                return found
        raise KeyError(key)


class AuditReport(_Record):
    """The audit of one workspace over a window of time."""

    workspace: str
    generated_at: datetime
    start: datetime
    end: datetime
    backend: str  # "sqlite" or "postgresql"
    costliest: str | None = Field(
        description="The problem to act on first: the worst, and among equals the first listed."
    )
    problems: list[Section]
    readiness: Section
    settings: dict[str, float] = Field(default_factory=dict)

    def section(self, key: str) -> Section:
        """A problem's section, or ``readiness`` (``KeyError`` for another key)."""
        for found in (*self.problems, self.readiness):
            if found.key == key:
                return found
        raise KeyError(key)


class StorageFootprint(_Record):
    """How big the database is and how much of it a workspace holds (``RetentionStore``)."""

    backend: str  # "sqlite" or "postgresql"
    database_bytes: int
    free_bytes: int | None  # on the database's disk (SQLite); None when not known
    workspace_rows: dict[str, int]  # per table, this workspace's rows
    database_rows: dict[str, int]  # per table, every workspace's rows
    retention_last_run_at: datetime | None = None


__all__ = [
    "SEVERITY",
    "AuditReport",
    "AuditStatus",
    "Check",
    "Figure",
    "Plot",
    "Reference",
    "ReferenceKind",
    "Section",
    "Series",
    "StorageFootprint",
]
