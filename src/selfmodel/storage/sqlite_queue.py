"""The durable work queue on SQLite: claims are ``BEGIN IMMEDIATE`` transactions.

SQLite has one writer at a time across every process using the file, so a claim that selects
runnable jobs and marks them running in one immediate transaction can never hand the same job to
two workers — the equivalent of PostgreSQL's ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import json
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from selfmodel.domain import Job, JobKind, JobStatus, new_id
from selfmodel.domain.time import from_storage, to_storage, utcnow
from selfmodel.storage.queue import CLAIMABLE, after_failure, clip_error, lease_expired_error


def _job(row: sqlite3.Row) -> Job:
    until = row["locked_until"]
    return Job(
        id=row["id"],
        workspace_id=row["workspace_id"],
        user_id=row["user_id"],
        kind=JobKind(row["kind"]),
        payload=json.loads(row["payload"]),
        status=JobStatus(row["status"]),
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        run_after=from_storage(row["run_after"]),
        locked_by=row["locked_by"],
        locked_until=from_storage(until) if until else None,
        last_error=row["last_error"],
        created_at=from_storage(row["created_at"]),
        updated_at=from_storage(row["updated_at"]),
    )


class SQLiteQueue(ABC):
    """Queue methods of ``SQLiteStore`` (mixed in; uses its connection and transactions)."""

    @abstractmethod
    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]: ...

    @abstractmethod
    def _x(self, sql: str, params: Sequence[Any] = ()) -> int: ...

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]: ...

    def lock_user(self, workspace_id: str, user_id: str) -> None:
        # Nothing to take: a transaction here is BEGIN IMMEDIATE, which already holds the
        # file's single write lock until commit, so two revisions of one user cannot interleave.
        return None

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
            "INSERT INTO jobs (id, workspace_id, user_id, kind, payload, status, attempts,"
            " max_attempts, run_after, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
            (
                job.id,
                workspace_id,
                user_id,
                kind.value,
                json.dumps(payload, separators=(",", ":")),
                job.status.value,
                max_attempts,
                to_storage(job.run_after),
                to_storage(now),
                to_storage(now),
            ),
        )
        return job

    def claim_jobs(
        self, worker_id: str, limit: int, lease_seconds: float, *, now: datetime | None = None
    ) -> list[Job]:
        now = now or utcnow()
        stamp = to_storage(now)
        until = to_storage(now + timedelta(seconds=lease_seconds))
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
                    "SELECT id FROM jobs WHERE status IN (?, ?) AND run_after <= ?"
                    " ORDER BY run_after, id LIMIT ?",
                    (*CLAIMABLE, stamp, limit),
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

    def _jobs_by_id(self, ids: Sequence[str]) -> list[Job]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self._q(f"SELECT * FROM jobs WHERE id IN ({marks}) ORDER BY run_after, id", ids)
        return [_job(r) for r in rows]

    def complete_job(self, job_id: str, worker_id: str, *, now: datetime | None = None) -> bool:
        count = self._x(
            "UPDATE jobs SET status = 'done', locked_until = NULL, updated_at = ?"
            " WHERE id = ? AND status = 'running' AND locked_by = ?",
            (to_storage(now or utcnow()), job_id, worker_id),
        )
        return count == 1

    def fail_job(
        self, job_id: str, worker_id: str, error: str, *, now: datetime | None = None
    ) -> Job | None:
        now = now or utcnow()
        with self.transaction():
            rows = self._q(
                "SELECT * FROM jobs WHERE id = ? AND status = 'running' AND locked_by = ?",
                (job_id, worker_id),
            )
            if not rows:
                return None
            status, run_after = after_failure(rows[0]["attempts"], rows[0]["max_attempts"], now)
            self._x(
                "UPDATE jobs SET status = ?, run_after = ?, locked_until = NULL, last_error = ?,"
                " updated_at = ? WHERE id = ?",
                (status.value, to_storage(run_after), clip_error(error), to_storage(now), job_id),
            )
            return self.get_job(job_id)

    def get_job(self, job_id: str) -> Job | None:
        rows = self._q("SELECT * FROM jobs WHERE id = ?", (job_id,))
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
            clauses.append("workspace_id = ?")
            params.append(workspace_id)
        if user_id is not None:
            clauses.append("user_id = ?")
            params.append(user_id)
        if statuses:
            clauses.append(f"status IN ({','.join('?' * len(statuses))})")
            params.extend(JobStatus(s).value for s in statuses)
        sql = "SELECT * FROM jobs"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY created_at, id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_job(r) for r in self._q(sql, params)]

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
            counts[JobStatus(r["status"])] = r["n"]
        return counts

    def purge_jobs(self, finished_before: datetime) -> int:
        return self._x(
            "DELETE FROM jobs WHERE status = 'done' AND updated_at < ?",
            (to_storage(finished_before),),
        )
