"""Job claims on PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED``.

A claim locks the runnable rows it picks and skips rows another claimer has locked, so
concurrent workers never take the same job and never wait on each other.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from selfmodel.domain import Job
from selfmodel.domain.time import utcnow
from selfmodel.storage import sql_rows as rows_to
from selfmodel.storage.queue import (
    CLAIMABLE,
    EARLIER_JOB_OF_USER_UNFINISHED,
    lease_expired_error,
)
from selfmodel.storage.sql_queue import SQLQueue


class PostgresQueue(SQLQueue):
    """``SQLQueue`` with PostgreSQL's job claims (mixed into ``PostgresStore``)."""

    def claim_jobs(
        self, worker_id: str, limit: int, lease_seconds: float, *, now: datetime | None = None
    ) -> list[Job]:
        now = now or utcnow()
        until = now + timedelta(seconds=lease_seconds)
        if not self._any_job_due(now):
            return []
        with self.transaction():
            for r in self._q(
                "SELECT workspace_id, user_id, id, locked_by, attempts FROM jobs"
                " WHERE status = 'running' AND run_after <= ? AND attempts >= max_attempts"
                " FOR UPDATE SKIP LOCKED",
                (now,),
            ):
                self._x(
                    "UPDATE jobs SET status = 'dead', last_error = ?, locked_until = NULL,"
                    " updated_at = ? WHERE workspace_id = ? AND user_id = ? AND id = ?",
                    (
                        lease_expired_error(r["locked_by"], r["attempts"]),
                        now,
                        r["workspace_id"],
                        r["user_id"],
                        r["id"],
                    ),
                )
            # run_after doubles as the lease expiry, so one partial index finds both kinds of work.
            rows = self._q(
                "WITH picked AS ("
                "  SELECT workspace_id, user_id, id FROM jobs j"
                "  WHERE status = ANY(?) AND run_after <= ?"
                f"  AND {EARLIER_JOB_OF_USER_UNFINISHED.format(placeholders='?, ?')}"
                "  ORDER BY run_after, id LIMIT ? FOR UPDATE SKIP LOCKED)"
                " UPDATE jobs j SET status = 'running', attempts = j.attempts + 1,"
                "  locked_by = ?, locked_until = ?, run_after = ?, updated_at = ?"
                " FROM picked WHERE j.workspace_id = picked.workspace_id"
                "  AND j.user_id = picked.user_id AND j.id = picked.id"
                " RETURNING j.*",
                (list(CLAIMABLE), now, *CLAIMABLE, limit, worker_id, until, until, now),
            )
        return sorted(
            (rows_to.job(self._dialect, r) for r in rows), key=lambda j: (j.run_after, j.id)
        )
