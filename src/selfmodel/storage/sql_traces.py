"""``SQLTraces``: traces of ``context`` calls and the users each read, for both SQL backends."""

from __future__ import annotations

from typing import Any

from selfmodel.domain import TraceRecord
from selfmodel.storage.sql_base import SQLBase, marks
from selfmodel.storage.traces import ItemUses, TraceStore

INSERT_TRACE = (
    "INSERT INTO traces (workspace_id, id, query, latency_ms, config, payload, created_at)"
    f" VALUES ({marks(7)})"
)
INSERT_TRACE_USER = "INSERT INTO trace_users (workspace_id, user_id, trace_id) VALUES (?, ?, ?)"


class SQLTraces(SQLBase, TraceStore):
    """``TraceStore`` in shared SQL (mixed into ``SQLStore``)."""

    def insert_trace(self, trace: TraceRecord) -> None:
        d = self._dialect
        row = (
            trace.workspace_id,
            trace.id,
            trace.query,
            trace.latency_ms,
            d.json_in(trace.config),
            d.json_in(trace.payload, as_text=True),
            d.ts_in(trace.created_at),
        )
        users = [(INSERT_TRACE_USER, (trace.workspace_id, u, trace.id)) for u in trace.user_ids]
        self._write_all([(INSERT_TRACE, row), *users])

    def get_trace(self, workspace_id: str, trace_id: str) -> TraceRecord | None:
        rows = self._q(
            "SELECT * FROM traces WHERE workspace_id = ? AND id = ?",
            (workspace_id, trace_id),
        )
        return self._traces(workspace_id, rows)[0] if rows else None

    def list_traces(self, workspace_id: str, user_id: str) -> list[TraceRecord]:
        rows = self._q(
            "SELECT t.* FROM traces t JOIN trace_users u"
            " ON u.workspace_id = t.workspace_id AND u.trace_id = t.id"
            " WHERE t.workspace_id = ? AND u.user_id = ? ORDER BY t.created_at, t.id",
            (workspace_id, user_id),
        )
        return self._traces(workspace_id, rows)

    def item_uses(self, workspace_id: str, user_id: str, item_id: str) -> ItemUses:
        chose = self._dialect.json_list_has("t.payload", "chosen", "id")
        rows = self._q(
            "SELECT COUNT(*) AS n, MIN(t.created_at) AS first, MAX(t.created_at) AS last"
            " FROM traces t JOIN trace_users u"
            " ON u.workspace_id = t.workspace_id AND u.trace_id = t.id"
            f" WHERE t.workspace_id = ? AND u.user_id = ? AND {chose}",
            (workspace_id, user_id, item_id),
        )
        found, d = rows[0], self._dialect
        return ItemUses(int(found["n"]), d.opt_ts_out(found["first"]), d.opt_ts_out(found["last"]))

    def recent_traces(
        self, workspace_id: str, user_id: str, *, limit: int, before: TraceRecord | None = None
    ) -> list[TraceRecord]:
        older, params = "", [workspace_id, user_id]
        if before is not None:
            # Keyset paging: traces made in the same instant are told apart by id.
            at = self._dialect.ts_in(before.created_at)
            older = " AND (t.created_at < ? OR (t.created_at = ? AND t.id < ?))"
            params += [at, at, before.id]
        rows = self._q(
            "SELECT t.* FROM traces t JOIN trace_users u"
            " ON u.workspace_id = t.workspace_id AND u.trace_id = t.id"
            f" WHERE t.workspace_id = ? AND u.user_id = ?{older}"
            " ORDER BY t.created_at DESC, t.id DESC LIMIT ?",
            (*params, limit),
        )
        return self._traces(workspace_id, rows)

    def _traces(self, workspace_id: str, rows: list[Any]) -> list[TraceRecord]:
        d = self._dialect
        users: dict[str, list[str]] = {}
        ids = [r["id"] for r in rows]
        for start in range(0, len(ids), d.chunk_size):
            chunk = ids[start : start + d.chunk_size]
            for u in self._q(
                "SELECT trace_id, user_id FROM trace_users WHERE workspace_id = ?"
                f" AND trace_id IN ({marks(len(chunk))})",
                (workspace_id, *chunk),
            ):
                users.setdefault(u["trace_id"], []).append(u["user_id"])
        return [
            TraceRecord(
                id=r["id"],
                workspace_id=r["workspace_id"],
                user_ids=tuple(users.get(r["id"], ())),
                query=r["query"],
                created_at=d.ts_out(r["created_at"]),
                latency_ms=r["latency_ms"],
                config=d.json_out(r["config"]),
                payload=d.json_out(r["payload"]),
            )
            for r in rows
        ]
