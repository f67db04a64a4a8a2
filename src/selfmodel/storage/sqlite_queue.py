"""Job claims on SQLite: ``BEGIN IMMEDIATE`` transactions.

SQLite has one writer at a time across every process using the file, so a claim that selects
runnable jobs and marks them running in one immediate transaction can never hand the same job to
two workers — the equivalent of PostgreSQL's ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from selfmodel.domain import Job
from selfmodel.domain.time import utcnow
from selfmodel.storage.queue import CLAIMABLE, EARLIER_JOB_OF_USER_UNFINISHED, lease_expired_error
from selfmodel.storage.sql_queue import SQLQueue


class SQLiteQueue(SQLQueue):
    """``SQLQueue`` with SQLite's job claims (mixed into ``SQLiteStore``)."""

    def claim_jobs(
        self, worker_id: str, limit: int, lease_seconds: float, *, now: datetime | None = None
    ) -> list[Job]:
        d = self._dialect
        now = now or utcnow()
        stamp = d.ts_in(now)
        until = d.ts_in(now + timedelta(seconds=lease_seconds))
        if not self._any_job_due(stamp):
            return []
        with self.transaction():
            for row in self._q(
                "SELECT id, locked_by, attempts FROM jobs WHERE status = 'running'"
                " AND run_after <= ? AND attempts >= max_attempts",
                (stamp,),
            ):
                self._x(
                    "UPDATE jobs SET status = 'dead', last_error = ?, locked_until = NULL,"
                    " updated_at = ? WHERE id = ?",
                    (lease_expired_error(row["locked_by"], row["attempts"]), stamp, row["id"]),
                )
            ids = [
                r["id"]
                for r in self._q(
                    "SELECT id FROM jobs j WHERE status IN (?, ?) AND run_after <= ?"
                    f" AND {EARLIER_JOB_OF_USER_UNFINISHED.format(placeholders='?, ?')}"
                    " ORDER BY run_after, id LIMIT ?",
                    (*CLAIMABLE, stamp, *CLAIMABLE, limit),
                )
            ]
            for job_id in ids:
                # run_after doubles as the lease expiry, so one index finds both kinds of work.
                self._x(
                    "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = ?,"
                    " locked_until = ?, run_after = ?, updated_at = ? WHERE id = ?",
                    (worker_id, until, until, stamp, job_id),
                )
            return self._jobs_by_id(ids)
