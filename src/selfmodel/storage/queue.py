"""``QueueStore``: the durable work queue (docs/deployment.md), and the rules every backend follows
for what a failure or an expired lease does to a job."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from selfmodel.domain import Job, JobKind, JobStatus
from selfmodel.domain.jobs import retry_delay
from selfmodel.storage.database import Database

# Errors are kept for inspection, not as logs: a traceback's last lines are enough.
MAX_ERROR_CHARS = 2_000
# Statuses a claimer looks at; a running job is claimable once its lease (run_after) expires.
CLAIMABLE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
# A user's jobs run one at a time, in the order they were queued: a job is claimable only when no
# earlier job of its user is unfinished (queued, waiting out a retry, or running). Revising a
# user's self-model out of order — two workers on one user's consecutive messages, or a retried
# job overtaken by a later one — gives another self-model than observing inline does. (SQL
# condition on the candidate ``j``; ``placeholders`` are the two unfinished statuses.)
EARLIER_JOB_OF_USER_UNFINISHED = (
    "NOT EXISTS (SELECT 1 FROM jobs e WHERE e.workspace_id = j.workspace_id"
    " AND e.user_id = j.user_id AND e.id < j.id AND e.status IN ({placeholders}))"
)


class QueueStore(Database, Protocol):
    """Jobs: enqueued with the data they are about, leased to workers, retried, dead-lettered."""

    @abstractmethod
    def enqueue_job(
        self,
        workspace_id: str,
        user_id: str,
        kind: JobKind,
        payload: dict[str, Any],
        *,
        max_attempts: int,
        run_after: datetime | None = None,
    ) -> Job:
        """Add a queued job (joins the caller's transaction, so it commits with the data)."""

    @abstractmethod
    def claim_jobs(
        self, worker_id: str, limit: int, lease_seconds: float, *, now: datetime | None = None
    ) -> list[Job]:
        """Lease up to ``limit`` runnable jobs to ``worker_id``; no two claimers get the same one.

        Runnable: queued with ``run_after`` due, or running with an expired lease (its worker
        died), and no earlier job of the same user unfinished (a user's jobs run one at a time,
        in order). An expired job that has used all its attempts is dead-lettered instead.
        """

    @abstractmethod
    def complete_job(self, job_id: str, worker_id: str, *, now: datetime | None = None) -> bool:
        """Mark done; False (and nothing changed) if ``worker_id`` no longer holds the lease."""

    @abstractmethod
    def fail_job(
        self, job_id: str, worker_id: str, error: str, *, now: datetime | None = None
    ) -> Job | None:
        """Record a failure: queued again after a backoff, or dead after ``max_attempts``.

        Returns the updated job, or None if ``worker_id`` no longer holds the lease.
        """

    @abstractmethod
    def get_job(self, job_id: str) -> Job | None: ...

    @abstractmethod
    def list_jobs(
        self,
        workspace_id: str | None = None,
        *,
        user_id: str | None = None,
        statuses: Sequence[JobStatus] = (),
        limit: int | None = None,
    ) -> list[Job]:
        """Jobs for inspection, oldest first. Empty ``statuses`` means any."""

    @abstractmethod
    def job_counts(self, workspace_id: str | None = None) -> dict[JobStatus, int]:
        """How many jobs are in each status (every status present, zero if none)."""

    def queue_depth(self, workspace_id: str | None = None) -> int:
        """Jobs not finished yet: queued plus running."""
        counts = self.job_counts(workspace_id)
        return counts[JobStatus.QUEUED] + counts[JobStatus.RUNNING]

    @abstractmethod
    def purge_jobs(self, finished_before: datetime) -> int:
        """Delete done jobs last updated before ``finished_before``; dead ones are kept."""


# -- the rules every backend follows ---------------------------------------------------------
def after_failure(attempts: int, max_attempts: int, now: datetime) -> tuple[JobStatus, datetime]:
    """The status and next ``run_after`` of a job that just failed its ``attempts``-th try."""
    if attempts >= max_attempts:
        return JobStatus.DEAD, now
    return JobStatus.QUEUED, now + retry_delay(attempts)


def clip_error(error: str) -> str:
    """The tail of an error message (where a traceback says what went wrong)."""
    return error if len(error) <= MAX_ERROR_CHARS else "…" + error[-(MAX_ERROR_CHARS - 1) :]


def lease_expired_error(worker_id: str | None, attempts: int) -> str:
    """Why a job whose worker vanished on its last attempt was dead-lettered."""
    return (
        f"lease expired on attempt {attempts}: worker {worker_id or '?'} stopped without"
        " finishing (crash or kill); no attempts left"
    )
