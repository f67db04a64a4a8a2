"""``SQLTraces``: traces of ``context`` calls and the users each read, for both SQL backends."""

from __future__ import annotations

from selfmodel.domain import TraceRecord
from selfmodel.storage.sql_base import SQLBase, marks
from selfmodel.storage.traces import TraceStore


class SQLTraces(SQLBase, TraceStore):
    """``TraceStore`` in shared SQL (mixed into ``SQLStore``)."""

    def insert_trace(self, trace: TraceRecord) -> None:
        d = self._dialect
        with self.transaction():
            self._x(
                "INSERT INTO traces (workspace_id, id, query, latency_ms, config, payload,"
                f" created_at) VALUES ({marks(7)})",
                (
                    trace.workspace_id,
                    trace.id,
                    trace.query,
                    trace.latency_ms,
                    d.json_in(trace.config),
                    d.json_in(trace.payload),
                    d.ts_in(trace.created_at),
                ),
            )
            for user_id in trace.user_ids:
                self._x(
                    "INSERT INTO trace_users (workspace_id, user_id, trace_id) VALUES (?, ?, ?)",
                    (trace.workspace_id, user_id, trace.id),
                )

    def get_trace(self, workspace_id: str, trace_id: str) -> TraceRecord | None:
        d = self._dialect
        rows = self._q(
            "SELECT * FROM traces WHERE workspace_id = ? AND id = ?",
            (workspace_id, trace_id),
        )
        if not rows:
            return None
        r = rows[0]
        users = self._q(
            "SELECT user_id FROM trace_users WHERE workspace_id = ? AND trace_id = ?",
            (workspace_id, trace_id),
        )
        return TraceRecord(
            id=r["id"],
            workspace_id=r["workspace_id"],
            user_ids=tuple(u["user_id"] for u in users),
            query=r["query"],
            created_at=d.ts_out(r["created_at"]),
            latency_ms=r["latency_ms"],
            config=d.json_out(r["config"]),
            payload=d.json_out(r["payload"]),
        )
