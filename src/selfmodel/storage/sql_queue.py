"""``SQLQueue``: the durable work queue in shared SQL; claims differ per backend
(``sqlite_queue.py``, ``pg_queue.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from selfmodel.domain import Job, JobKind, JobStatus, new_id
from selfmodel.domain.time import utcnow
from selfmodel.storage import sql_rows as rows_to
from selfmodel.storage.queue import CLAIMABLE, QueueStore, after_failure, clip_error
from selfmodel.storage.sql_base import SQLBase

# The statuses spelled out, not bound: the partial index of due jobs is defined for them, and a
# prepared statement's generic plan could not tell that parameters match it.
_CLAIMABLE_SQL = ", ".join(f"'{status}'" for status in CLAIMABLE)


class SQLQueue(SQLBase, QueueStore):
    """``QueueStore`` in shared SQL but for ``claim_jobs`` (mixed into ``SQLStore``)."""

    def _any_job_due(self, stamp: Any) -> bool:
        """Whether a claim at ``stamp`` may have anything to take or dead-letter (a job queued
        and due, or running with its lease expired): one read, so a worker polling an empty
        queue opens no transaction and takes no lock. A due job that waits behind an earlier
        job of its user still makes the claim look (and find nothing)."""
        return bool(
            self._q(
                f"SELECT 1 FROM jobs WHERE status IN ({_CLAIMABLE_SQL}) AND run_after <= ? LIMIT 1",
                (stamp,),
            )
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
        d = self._dialect
        now = utcnow()
        job = Job(
            id=new_id("job"),
            workspace_id=workspace_id,
            user_id=user_id,
            kind=kind,
            payload=payload,
            status=JobStatus.QUEUED,
            attempts=0,
            max_attempts=max_attempts,
            run_after=run_after or now,
            created_at=now,
            updated_at=now,
        )
        self._x(
            "INSERT INTO jobs (workspace_id, user_id, id, kind, payload, status, attempts,"
            " max_attempts, run_after, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
            (
                workspace_id,
                user_id,
                job.id,
                kind.value,
                d.json_in(payload, strict=True),
                job.status.value,
                max_attempts,
                d.ts_in(job.run_after),
                d.ts_in(now),
                d.ts_in(now),
            ),
        )
        return job

    def _jobs_by_id(self, ids: Sequence[str]) -> list[Job]:
        """The jobs with these ids, in claim order."""
        if not ids:
            return []
        in_ids, params = self._dialect.in_list("id", ids)
        rows = self._q(f"SELECT * FROM jobs WHERE {in_ids} ORDER BY run_after, id", params)
        return [rows_to.job(self._dialect, r) for r in rows]

    def complete_job(self, job_id: str, worker_id: str, *, now: datetime | None = None) -> bool:
        count = self._x(
            "UPDATE jobs SET status = 'done', locked_until = NULL, updated_at = ?"
            " WHERE id = ? AND status = 'running' AND locked_by = ?",
            (self._dialect.ts_in(now or utcnow()), job_id, worker_id),
        )
        return count == 1

    def fail_job(
        self, job_id: str, worker_id: str, error: str, *, now: datetime | None = None
    ) -> Job | None:
        d = self._dialect
        now = now or utcnow()
        with self.transaction():
            rows = self._q(
                "SELECT * FROM jobs WHERE id = ? AND status = 'running' AND locked_by = ?"
                + d.for_update,
                (job_id, worker_id),
            )
            if not rows:
                return None
            status, run_after = after_failure(rows[0]["attempts"], rows[0]["max_attempts"], now)
            self._x(
                "UPDATE jobs SET status = ?, run_after = ?, locked_until = NULL, last_error = ?,"
                " updated_at = ? WHERE id = ?",
                (status.value, d.ts_in(run_after), clip_error(error), d.ts_in(now), job_id),
            )
            return self.get_job(job_id)

    def get_job(self, job_id: str) -> Job | None:
        rows = self._q("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return rows_to.job(self._dialect, rows[0]) if rows else None

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
            clauses.append("workspace_id = ?")
            params.append(workspace_id)
        if user_id is not None:
            clauses.append("user_id = ?")
            params.append(user_id)
        if statuses:
            clause, values = self._dialect.in_list("status", [JobStatus(s).value for s in statuses])
            clauses.append(clause)
            params.extend(values)
        sql = "SELECT * FROM jobs"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY created_at, id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [rows_to.job(self._dialect, r) for r in self._q(sql, params)]

    def job_counts(self, workspace_id: str | None = None) -> dict[JobStatus, int]:
        counts = dict.fromkeys(JobStatus, 0)
        if workspace_id is None:
            rows = self._q("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
        else:
            rows = self._q(
                "SELECT status, COUNT(*) AS n FROM jobs WHERE workspace_id = ? GROUP BY status",
                (workspace_id,),
            )
        for r in rows:
            counts[JobStatus(r["status"])] = int(r["n"])
        return counts

    def purge_jobs(self, finished_before: datetime) -> int:
        return self._x(
            "DELETE FROM jobs WHERE status = 'done' AND updated_at < ?",
            (self._dialect.ts_in(finished_before),),
        )
