"""``SQLRetention``: retention policies, what they select, and the audit log, for both SQL
backends. Deleting and checking what is left span every concern: see ``sql.py``."""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime

from selfmodel.domain import User
from selfmodel.domain.audit import StorageFootprint
from selfmodel.domain.retention import RETENTION_FIELDS, AuditAction, AuditRecord, RetentionPolicy
from selfmodel.storage import sql_rows as rows_to
from selfmodel.storage.retention import RetentionStore
from selfmodel.storage.sql_base import SQLBase, marks

AUDIT_COLUMNS = ("workspace_id", "id", "at", "action", "policy", "subject", "counts", "verified")
# The tables that grow with use, counted by ``footprint`` (the rest hold a few rows a workspace).
GROWING_TABLES = (
    "users",
    "observations",
    "beliefs",
    "evidence",
    "belief_events",
    "belief_versions",
    "vectors",
    "vector_history",
    "traces",
    "trace_users",
    "outcomes",
    "jobs",
    "eval_items",
    "mirror_prompts",
)


class SQLRetention(SQLBase, RetentionStore):
    """``RetentionStore`` in shared SQL (mixed into ``SQLStore``; deletions are there)."""

    # -- policies and runs -------------------------------------------------------------------
    def get_retention_policy(self, workspace_id: str) -> RetentionPolicy:
        rows = self._q(
            f"SELECT {', '.join(RETENTION_FIELDS)} FROM retention_policies WHERE workspace_id = ?",
            (workspace_id,),
        )
        if not rows:
            return RetentionPolicy()
        return RetentionPolicy(**{name: rows[0][name] for name in RETENTION_FIELDS})

    def set_retention_policy(
        self, workspace_id: str, policy: RetentionPolicy, at: datetime
    ) -> RetentionPolicy:
        days = [getattr(policy, name) for name in RETENTION_FIELDS]
        assignments = ", ".join(f"{name} = excluded.{name}" for name in RETENTION_FIELDS)
        self._x(
            f"INSERT INTO retention_policies (workspace_id, {', '.join(RETENTION_FIELDS)},"
            f" updated_at) VALUES ({marks(len(RETENTION_FIELDS) + 2)})"
            f" ON CONFLICT (workspace_id) DO UPDATE SET {assignments},"
            " updated_at = excluded.updated_at",
            (workspace_id, *days, self._dialect.ts_in(at)),
        )
        return self.get_retention_policy(workspace_id)

    def claim_retention_run(self, workspace_id: str, at: datetime, last_before: datetime) -> bool:
        d = self._dialect
        # One conditional UPDATE: of several workers seeing the run due, exactly one moves it.
        claimed = self._x(
            "UPDATE retention_policies SET last_run_at = ? WHERE workspace_id = ?"
            " AND (last_run_at IS NULL OR last_run_at < ?)",
            (d.ts_in(at), workspace_id, d.ts_in(last_before)),
        )
        return claimed == 1

    def footprint(self, workspace_id: str) -> StorageFootprint:
        mine: dict[str, int] = {}
        everyone: dict[str, int] = {}
        for table in GROWING_TABLES:
            counted = self._q(
                f"SELECT COUNT(*) AS n, SUM(CASE WHEN workspace_id = ? THEN 1 ELSE 0 END) AS mine"
                f" FROM {table}",
                (workspace_id,),
            )[0]
            everyone[table] = int(counted["n"])
            mine[table] = int(counted["mine"] or 0)
        runs = self._q(
            "SELECT last_run_at FROM retention_policies WHERE workspace_id = ?", (workspace_id,)
        )
        backend, size, free = self._size()
        return StorageFootprint(
            backend=backend,
            database_bytes=size,
            free_bytes=free,
            workspace_rows=mine,
            database_rows=everyone,
            retention_last_run_at=self._dialect.opt_ts_out(runs[0]["last_run_at"])
            if runs
            else None,
        )

    @abstractmethod
    def _size(self) -> tuple[str, int, int | None]:
        """The backend's name, the database's bytes, and the bytes free on its disk (if known)."""

    # -- what a policy selects ---------------------------------------------------------------
    def expired_observations(
        self, workspace_id: str, recorded_before: datetime, *, user_id: str | None = None
    ) -> dict[str, list[str]]:
        sql = "SELECT user_id, id FROM observations WHERE workspace_id = ? AND recorded_at < ?"
        params: list[object] = [workspace_id, self._dialect.ts_in(recorded_before)]
        if user_id is not None:
            sql += " AND user_id = ?"
            params.append(user_id)
        found: dict[str, list[str]] = {}
        for r in self._q(sql + " ORDER BY user_id, recorded_at, id", params):
            found.setdefault(r["user_id"], []).append(r["id"])
        return found

    def inactive_users(
        self, workspace_id: str, active_since: datetime, *, user_id: str | None = None
    ) -> list[User]:
        since = self._dialect.ts_in(active_since)
        only, params = (" AND u.id = ?", [user_id]) if user_id is not None else ("", [])
        rows = self._q(
            f"SELECT * FROM users u WHERE u.workspace_id = ?{only} AND u.created_at < ?"
            " AND NOT EXISTS (SELECT 1 FROM observations o WHERE o.workspace_id = u.workspace_id"
            " AND o.user_id = u.id AND o.recorded_at >= ?)"
            " AND NOT EXISTS (SELECT 1 FROM beliefs b WHERE b.workspace_id = u.workspace_id"
            " AND b.user_id = u.id AND b.updated_at >= ?)"
            " AND NOT EXISTS (SELECT 1 FROM trace_users r JOIN traces t"
            " ON t.workspace_id = r.workspace_id AND t.id = r.trace_id"
            " WHERE r.workspace_id = u.workspace_id AND r.user_id = u.id AND t.created_at >= ?)"
            # Feedback or a signal recorded about the user is activity too (a "returned" most).
            " AND NOT EXISTS (SELECT 1 FROM outcomes x WHERE x.workspace_id = u.workspace_id"
            " AND x.user_id = u.id AND x.recorded_at >= ?)"
            " ORDER BY u.external_id",
            (workspace_id, *params, since, since, since, since, since),
        )
        return [rows_to.user(self._dialect, r) for r in rows]

    def expired_traces(self, workspace_id: str, created_before: datetime) -> dict[str, list[str]]:
        rows = self._q(
            "SELECT t.id, r.user_id FROM traces t LEFT JOIN trace_users r"
            " ON r.workspace_id = t.workspace_id AND r.trace_id = t.id"
            " WHERE t.workspace_id = ? AND t.created_at < ? ORDER BY t.id",
            (workspace_id, self._dialect.ts_in(created_before)),
        )
        found: dict[str, list[str]] = {}
        for r in rows:
            users = found.setdefault(r["id"], [])
            if r["user_id"] is not None:
                users.append(r["user_id"])
        return found

    # -- the audit log -----------------------------------------------------------------------
    def audit_key(self, workspace_id: str, candidate: str | None) -> str | None:
        if candidate is None:
            rows = self._q("SELECT secret FROM audit_keys WHERE workspace_id = ?", (workspace_id,))
            return str(rows[0]["secret"]) if rows else None
        return self._secret_once("audit_keys", workspace_id, candidate)

    def append_audit(self, record: AuditRecord) -> None:
        d = self._dialect
        self._x(
            f"INSERT INTO audit_log ({', '.join(AUDIT_COLUMNS)}) VALUES ({marks(8)})",
            (
                record.workspace_id,
                record.id,
                d.ts_in(record.at),
                record.action.value,
                record.policy,
                record.subject,
                d.json_in(record.counts),
                bool(record.verified),
            ),
        )

    def list_audit(
        self,
        workspace_id: str,
        *,
        subject: str | None = None,
        after_id: str | None = None,
        limit: int | None = None,
    ) -> list[AuditRecord]:
        d = self._dialect
        clauses, params = ["workspace_id = ?"], [workspace_id]
        if subject is not None:
            clauses.append("subject = ?")
            params.append(subject)
        if after_id is not None:
            clauses.append("id > ?")
            params.append(after_id)
        sql = f"SELECT * FROM audit_log WHERE {' AND '.join(clauses)} ORDER BY id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [
            AuditRecord(
                id=r["id"],
                workspace_id=r["workspace_id"],
                at=d.ts_out(r["at"]),
                action=AuditAction(r["action"]),
                policy=r["policy"],
                subject=r["subject"],
                counts=d.json_out(r["counts"]),
                verified=bool(r["verified"]),
            )
            for r in self._q(sql, params)
        ]
