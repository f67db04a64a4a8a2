"""The durable work queue on PostgreSQL: claims use ``SELECT … FOR UPDATE SKIP LOCKED``.

A claim locks the runnable rows it picks and skips rows another claimer has locked, so
concurrent workers never take the same job and never wait on each other.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb

from selfmodel.domain import Job, JobKind, JobStatus, new_id
from selfmodel.domain.time import utcnow
from selfmodel.storage.queue import CLAIMABLE, after_failure, clip_error, lease_expired_error

Row = dict[str, Any]


def _job(r: Row) -> Job:
    return Job(
        id=r["id"],
        workspace_id=r["workspace_id"],
        user_id=r["user_id"],
        kind=JobKind(r["kind"]),
        payload=r["payload"],
        status=JobStatus(r["status"]),
        attempts=r["attempts"],
        max_attempts=r["max_attempts"],
        run_after=r["run_after"],
        locked_by=r["locked_by"],
        locked_until=r["locked_until"],
        last_error=r["last_error"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


class PostgresQueue(ABC):
    """Queue methods of ``PostgresStore`` (mixed in; uses its pool and transactions)."""

    @abstractmethod
    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    @abstractmethod
    def _x(self, sql: str, params: Sequence[Any] = ()) -> int: ...

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]: ...

    def lock_user(self, workspace_id: str, user_id: str) -> None:
        # NO KEY UPDATE, not UPDATE: it serialises revisions of this user without conflicting
        # with the KEY SHARE locks that foreign-key checks (inserting observations) take.
        self._q(
            "SELECT id FROM users WHERE workspace_id = %s AND id = %s FOR NO KEY UPDATE",
            (workspace_id, user_id),
        )

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
        now = utcnow()
        rows = self._q(
            "INSERT INTO jobs (workspace_id, user_id, id, kind, payload, status, attempts,"
            " max_attempts, run_after, created_at, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, 0, %s, %s, %s, %s) RETURNING *",
            (
                workspace_id,
                user_id,
                new_id("job"),
                kind.value,
                Jsonb(payload),
                JobStatus.QUEUED.value,
                max_attempts,
                run_after or now,
                now,
                now,
            ),
        )
        return _job(rows[0])

    def claim_jobs(
        self, worker_id: str, limit: int, lease_seconds: float, *, now: datetime | None = None
    ) -> list[Job]:
        now = now or utcnow()
        until = now + timedelta(seconds=lease_seconds)
        with self.transaction():
            for r in self._q(
                "SELECT workspace_id, user_id, id, locked_by, attempts FROM jobs"
                " WHERE status = 'running' AND run_after <= %s AND attempts >= max_attempts"
                " FOR UPDATE SKIP LOCKED",
                (now,),
            ):
                self._x(
                    "UPDATE jobs SET status = 'dead', last_error = %s, locked_until = NULL,"
                    " updated_at = %s WHERE workspace_id = %s AND user_id = %s AND id = %s",
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
                "  SELECT workspace_id, user_id, id FROM jobs"
                "  WHERE status = ANY(%s) AND run_after <= %s"
                "  ORDER BY run_after, id LIMIT %s FOR UPDATE SKIP LOCKED)"
                " UPDATE jobs j SET status = 'running', attempts = j.attempts + 1,"
                "  locked_by = %s, locked_until = %s, run_after = %s, updated_at = %s"
                " FROM picked WHERE j.workspace_id = picked.workspace_id"
                "  AND j.user_id = picked.user_id AND j.id = picked.id"
                " RETURNING j.*",
                (list(CLAIMABLE), now, limit, worker_id, until, until, now),
            )
        return sorted((_job(r) for r in rows), key=lambda j: (j.run_after, j.id))

    def complete_job(self, job_id: str, worker_id: str, *, now: datetime | None = None) -> bool:
        count = self._x(
            "UPDATE jobs SET status = 'done', locked_until = NULL, updated_at = %s"
            " WHERE id = %s AND status = 'running' AND locked_by = %s",
            (now or utcnow(), job_id, worker_id),
        )
        return count == 1

    def fail_job(
        self, job_id: str, worker_id: str, error: str, *, now: datetime | None = None
    ) -> Job | None:
        now = now or utcnow()
        with self.transaction():
            rows = self._q(
                "SELECT * FROM jobs WHERE id = %s AND status = 'running' AND locked_by = %s"
                " FOR UPDATE",
                (job_id, worker_id),
            )
            if not rows:
                return None
            status, run_after = after_failure(rows[0]["attempts"], rows[0]["max_attempts"], now)
            updated = self._q(
                "UPDATE jobs SET status = %s, run_after = %s, locked_until = NULL,"
                " last_error = %s, updated_at = %s WHERE id = %s RETURNING *",
                (status.value, run_after, clip_error(error), now, job_id),
            )
        return _job(updated[0])

    def get_job(self, job_id: str) -> Job | None:
        rows = self._q("SELECT * FROM jobs WHERE id = %s", (job_id,))
        return _job(rows[0]) if rows else None

    def list_jobs(
        self,
        workspace_id: str | None = None,
        *,
        user_id: str | None = None,
        statuses: Sequence[JobStatus] = (),
        limit: int | None = None,
    ) -> list[Job]:
        clauses: list[str] = []
        params: list[Any] = []
        if workspace_id is not None:
            clauses.append("workspace_id = %s")
            params.append(workspace_id)
        if user_id is not None:
            clauses.append("user_id = %s")
            params.append(user_id)
        if statuses:
            clauses.append("status = ANY(%s)")
            params.append([JobStatus(s).value for s in statuses])
        sql = "SELECT * FROM jobs"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY created_at, id"
        if limit is not None:
            sql += " LIMIT %s"
            params.append(limit)
        return [_job(r) for r in self._q(sql, params)]

    def job_counts(self, workspace_id: str | None = None) -> dict[JobStatus, int]:
        counts = dict.fromkeys(JobStatus, 0)
        if workspace_id is None:
            rows = self._q("SELECT status, count(*) AS n FROM jobs GROUP BY status")
        else:
            rows = self._q(
                "SELECT status, count(*) AS n FROM jobs WHERE workspace_id = %s GROUP BY status",
                (workspace_id,),
            )
        for r in rows:
            counts[JobStatus(r["status"])] = int(r["n"])
        return counts

    def purge_jobs(self, finished_before: datetime) -> int:
        return self._x(
            "DELETE FROM jobs WHERE status = 'done' AND updated_at < %s", (finished_before,)
        )
