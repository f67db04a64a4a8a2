"""Jobs of the durable work queue: background work recorded in the same database as the data."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# A job is tried this many times before it is dead-lettered (a crash mid-job counts as a try).
DEFAULT_MAX_ATTEMPTS = 5
# Retry n waits RETRY_BASE_SECONDS * 2**(n-1), capped: 2 s, 4 s, 8 s, 16 s … at most 5 minutes.
RETRY_BASE_SECONDS = 2.0
RETRY_MAX_SECONDS = 300.0


def retry_delay(attempts: int) -> timedelta:
    """How long a job that has failed ``attempts`` times waits before its next try."""
    exponent = max(attempts - 1, 0)
    return timedelta(seconds=min(RETRY_BASE_SECONDS * 2.0**exponent, RETRY_MAX_SECONDS))


class JobStatus(StrEnum):
    """Where a job is in its life: queued → running → done, or back to queued, or dead."""

    QUEUED = "queued"  # waiting for ``run_after``
    RUNNING = "running"  # claimed by a worker until ``locked_until`` (then reclaimable)
    DONE = "done"
    DEAD = "dead"  # failed ``max_attempts`` times: kept for inspection, never retried


class JobKind(StrEnum):
    UNDERSTAND = "understand"  # extract + revise for some stored observations of one user


class Job(BaseModel):
    """One unit of background work about one user."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    workspace_id: str
    user_id: str
    kind: JobKind
    payload: dict[str, Any] = Field(default_factory=dict)
    status: JobStatus
    attempts: int  # claims so far (a claim counts even if the worker then crashes)
    max_attempts: int
    run_after: datetime  # not claimable before this (backoff); for running jobs: lease expiry
    created_at: datetime
    updated_at: datetime
    locked_by: str | None = None
    locked_until: datetime | None = None
    last_error: str | None = None

    @property
    def observation_ids(self) -> list[str]:
        """The observations an ``understand`` job covers."""
        return [str(i) for i in self.payload.get("observation_ids", [])]


class RunOutcome(StrEnum):
    """What running one claimed job ended in."""

    DONE = "done"  # committed together with the revision it made
    RETRY = "retry"  # failed; queued again after a backoff
    DEAD = "dead"  # failed its last attempt
    LOST = "lost"  # the lease went to another worker (or the user was forgotten): rolled back


class JobRun(BaseModel):
    """The record of one job run by a worker, for logs and metrics."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    job_id: str
    workspace_id: str
    user_id: str
    outcome: RunOutcome
    observations: int
    seconds: float
    error: str | None = None
