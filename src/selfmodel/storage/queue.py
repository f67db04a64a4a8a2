"""Queue rules both backends share: what a failure or an expired lease does to a job."""

from __future__ import annotations

from datetime import datetime

from selfmodel.domain.jobs import JobStatus, retry_delay

# Errors are kept for inspection, not as logs: a traceback's last lines are enough.
MAX_ERROR_CHARS = 2_000
# Statuses a claimer looks at; a running job is claimable once its lease (run_after) expires.
CLAIMABLE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


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
