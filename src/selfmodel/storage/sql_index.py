"""Retrieval-side storage both SQL backends share: vectors, freshness watermarks, traces."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from selfmodel.storage.base import StoredVectors, TraceRecord, UserWatermark
from selfmodel.storage.sql_base import SQLBase, marks

VECTOR_COLUMNS = (
    "workspace_id",
    "user_id",
    "item_type",
    "model",
    "item_id",
    "dim",
    "vector",
)
VECTOR_KEY = ("workspace_id", "user_id", "item_type", "model", "item_id")


def _no_vectors() -> StoredVectors:
    return StoredVectors([], np.zeros((0, 0), dtype=np.float32))


class SQLIndex(SQLBase):
    """Vector, watermark and trace methods of ``SQLStore`` (mixed in)."""

    # -- vectors -----------------------------------------------------------------------------
    def put_vectors(
        self,
        workspace_id: str,
        user_id: str,
        item_type: str,
        model: str,
        items: Sequence[tuple[str, np.ndarray]],
    ) -> None:
        sql = self._dialect.upsert("vectors", VECTOR_COLUMNS, VECTOR_KEY)
        with self.transaction():
            for item_id, vector in items:
                data = np.asarray(vector, dtype=np.float32)
                self._x(
                    sql,
                    (
                        workspace_id,
                        user_id,
                        item_type,
                        model,
                        item_id,
                        data.shape[0],
                        data.tobytes(),
                    ),
                )

    def get_vectors(
        self, workspace_id: str, user_ids: Sequence[str], item_type: str, model: str
    ) -> StoredVectors:
        if not user_ids:
            return _no_vectors()
        in_users, params = self._dialect.in_list("user_id", user_ids)
        rows = self._q(
            f"SELECT item_id, vector FROM vectors WHERE workspace_id = ? AND {in_users}"
            " AND item_type = ? AND model = ? ORDER BY item_id",
            (workspace_id, *params, item_type, model),
        )
        if not rows:
            return _no_vectors()
        matrix = np.stack([np.frombuffer(bytes(r["vector"]), dtype=np.float32) for r in rows])
        return StoredVectors([r["item_id"] for r in rows], matrix)

    def get_vectors_by_id(
        self,
        workspace_id: str,
        user_ids: Sequence[str],
        item_type: str,
        model: str,
        ids: Sequence[str],
    ) -> StoredVectors:
        found: list[str] = []
        vectors: list[np.ndarray] = []
        if not user_ids:
            return _no_vectors()
        in_users, user_params = self._dialect.in_list("user_id", user_ids)
        for chunk in self._chunks(ids):
            in_ids, params = self._dialect.in_list("item_id", chunk)
            for r in self._q(
                f"SELECT item_id, vector FROM vectors WHERE workspace_id = ? AND {in_users}"
                f" AND item_type = ? AND model = ? AND {in_ids}",
                (workspace_id, *user_params, item_type, model, *params),
            ):
                found.append(r["item_id"])
                vectors.append(np.frombuffer(bytes(r["vector"]), dtype=np.float32))
        if not found:
            return _no_vectors()
        return StoredVectors(found, np.stack(vectors))

    # -- change tracking ---------------------------------------------------------------------
    def scope_watermark(
        self, workspace_id: str, user_ids: Sequence[str]
    ) -> tuple[UserWatermark, ...]:
        if not user_ids:
            return ()
        d = self._dialect
        in_users, in_params = d.in_list("user_id", user_ids)
        params = (workspace_id, *in_params)
        where = f"WHERE workspace_id = ? AND {in_users} GROUP BY user_id"
        observations = {
            r["user_id"]: (r["n"], d.opt_ts_out(r["at"]))
            for r in self._q(
                f"SELECT user_id, COUNT(*) AS n, MAX(recorded_at) AS at FROM observations {where}",
                params,
            )
        }
        beliefs = {
            r["user_id"]: (r["n"], d.opt_ts_out(r["at"]))
            for r in self._q(
                f"SELECT user_id, COUNT(*) AS n, MAX(updated_at) AS at FROM beliefs {where}",
                params,
            )
        }
        vectors = {
            r["user_id"]: r["n"]
            for r in self._q(f"SELECT user_id, COUNT(*) AS n FROM vectors {where}", params)
        }
        marks_out = []
        for uid in user_ids:
            obs_count, recorded = observations.get(uid, (0, None))
            bel_count, updated = beliefs.get(uid, (0, None))
            marks_out.append(
                UserWatermark(
                    user_id=uid,
                    observations=obs_count,
                    observations_recorded_at=recorded,
                    beliefs=bel_count,
                    beliefs_updated_at=updated,
                    vectors=vectors.get(uid, 0),
                )
            )
        return tuple(marks_out)

    # -- traces ------------------------------------------------------------------------------
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
