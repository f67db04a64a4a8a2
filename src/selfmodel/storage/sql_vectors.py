"""``SQLVectors``: vectors (float32 bytes, scored in the application), watermarks and the
incremental reads of warm indexes, for both SQL backends."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from selfmodel.domain import Belief, BeliefStatus, EvidenceStance, ExperimentStatus, Observation
from selfmodel.storage import sql_rows as rows_to
from selfmodel.storage.sql_base import USER_REVISION, Row, SQLBase, marks
from selfmodel.storage.vectors import (
    BELIEF_VECTORS,
    OBSERVATION_VECTORS,
    ChangedBeliefs,
    ContextStart,
    StoredVectors,
    UserWatermark,
    VectorStore,
)

VECTOR_COLUMNS = (
    "workspace_id",
    "user_id",
    "item_type",
    "model",
    "item_id",
    "dim",
    "vector",
    "revision",
)
VECTOR_KEY = ("workspace_id", "user_id", "item_type", "model", "item_id")
# A vector row's values, the last stamped with the user's revision.
VECTOR_MARKS = f"{marks(7)}, {USER_REVISION}"
# Copies the vector about to be replaced (if written at an earlier revision) into the history.
HISTORY_COPY = (
    "INSERT INTO vector_history (workspace_id, user_id, item_type, model, item_id, dim, vector,"
    " revision, replaced_at) SELECT workspace_id, user_id, item_type, model, item_id, dim, vector,"
    f" revision, {USER_REVISION} FROM vectors WHERE workspace_id = ? AND user_id = ?"
    f" AND item_type = ? AND model = ? AND item_id = ? AND revision < {USER_REVISION}"
)


def _no_vectors() -> StoredVectors:
    return StoredVectors([], np.zeros((0, 0), dtype=np.float32))


def _watermark(row: Row) -> UserWatermark:
    """A user's watermark from their row of ``users``."""
    return UserWatermark(row["id"], int(row["revision"]), int(row["pruned_revision"]))


def _stored(items: Sequence[tuple[str, bytes | None]]) -> StoredVectors:
    """Item ids and their stored float32 bytes, as one matrix in that order; an item without
    (None: nothing stored) is left out."""
    present = [(item_id, blob) for item_id, blob in items if blob is not None]
    if not present:
        return _no_vectors()
    matrix = np.stack([np.frombuffer(bytes(blob), dtype=np.float32) for _, blob in present])
    return StoredVectors([str(item_id) for item_id, _ in present], matrix)


def _stored_vector(alias: str) -> str:
    """A column of each row of the table ``alias`` names: the vector stored for it of one item
    type and model (the column's two parameters), or NULL.

    Looked up row by row by the vectors' whole key: the lookup then plans on the key's index
    whatever the planner knows of the table (a database not yet analysed).
    """
    return (
        f"(SELECT v.vector FROM vectors v WHERE v.workspace_id = {alias}.workspace_id"
        f" AND v.user_id = {alias}.user_id AND v.item_type = ? AND v.model = ?"
        f" AND v.item_id = {alias}.id) AS stored_vector"
    )


class SQLVectors(SQLBase, VectorStore):
    """``VectorStore`` in shared SQL (mixed into ``SQLStore``)."""

    # -- vectors -----------------------------------------------------------------------------
    def put_vectors(
        self,
        workspace_id: str,
        user_id: str,
        item_type: str,
        model: str,
        items: Sequence[tuple[str, np.ndarray]],
        *,
        new_items: bool = False,
    ) -> None:
        user = (workspace_id, user_id)
        with self.transaction():
            for item_id, vector in items:
                data = np.asarray(vector, dtype=np.float32)
                values = (*user, item_type, model, item_id, data.shape[0], data.tobytes(), *user)
                if new_items:  # no vector to keep in the history, none to replace
                    self._append_soon("vectors", VECTOR_COLUMNS, VECTOR_MARKS, values)
                    continue
                # The vector it replaces is kept in the history, readable as of the revisions
                # it served.
                history = (*user, *user, item_type, model, item_id, *user)
                upsert = self._dialect.upsert("vectors", VECTOR_COLUMNS, VECTOR_KEY, VECTOR_MARKS)
                self._write_all([(HISTORY_COPY, history), (upsert, values)])

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
        return _stored([(r["item_id"], r["vector"]) for r in rows])

    def get_vectors_by_id(
        self,
        workspace_id: str,
        user_ids: Sequence[str],
        item_type: str,
        model: str,
        ids: Sequence[str],
    ) -> StoredVectors:
        if not user_ids:
            return _no_vectors()
        found: list[tuple[str, bytes]] = []
        in_users, user_params = self._dialect.in_list("user_id", user_ids)
        for chunk in self._chunks(ids):
            in_ids, params = self._dialect.in_list("item_id", chunk)
            found += [
                (r["item_id"], r["vector"])
                for r in self._q(
                    f"SELECT item_id, vector FROM vectors WHERE workspace_id = ? AND {in_users}"
                    f" AND item_type = ? AND model = ? AND {in_ids}",
                    (workspace_id, *user_params, item_type, model, *params),
                )
            ]
        return _stored(found)

    def vectors_as_of(
        self, workspace_id: str, user_id: str, item_type: str, model: str, revision: int
    ) -> StoredVectors:
        params = (workspace_id, user_id, item_type, model, revision)
        where = "WHERE workspace_id = ? AND user_id = ? AND item_type = ? AND model = ?"
        rows = [
            *self._q(f"SELECT item_id, vector FROM vectors {where} AND revision <= ?", params),
            *self._q(
                f"SELECT item_id, vector FROM vector_history {where} AND revision <= ?"
                " AND replaced_at > ?",
                (*params, revision),
            ),
        ]
        # A row of each table cannot both hold at one revision: each item appears once.
        return _stored([(r["item_id"], r["vector"]) for r in rows])

    # -- change tracking ---------------------------------------------------------------------
    def user_revisions(self, workspace_id: str, user_ids: Sequence[str]) -> tuple[int, ...]:
        return tuple(m.revision for m in self.scope_watermark(workspace_id, user_ids))

    def scope_watermark(
        self, workspace_id: str, user_ids: Sequence[str]
    ) -> tuple[UserWatermark, ...]:
        if not user_ids:
            return ()
        in_ids, in_params = self._dialect.in_list("id", user_ids)
        found = {
            r["id"]: _watermark(r)
            for r in self._q(
                f"SELECT id, revision, pruned_revision FROM users WHERE workspace_id = ?"
                f" AND {in_ids}",
                (workspace_id, *in_params),
            )
        }
        return tuple(found.get(uid, UserWatermark(uid)) for uid in user_ids)

    def start_context(self, workspace_id: str, external_ids: Sequence[str]) -> ContextStart:
        if not external_ids:
            return ContextStart([], experiments_running=False)
        in_ids, in_params = self._dialect.in_list("external_id", external_ids)
        # The experiments' check rides along: most workspaces run none, and a context call then
        # reads none (a statement fewer on every call).
        rows = self._q(
            "SELECT *, EXISTS (SELECT 1 FROM experiments WHERE workspace_id = ? AND status = ?)"
            f" AS experiments_running FROM users WHERE workspace_id = ? AND {in_ids}",
            (workspace_id, ExperimentStatus.RUNNING.value, workspace_id, *in_params),
        )
        return ContextStart(
            [(rows_to.user(self._dialect, r), _watermark(r)) for r in rows],
            experiments_running=any(r["experiments_running"] for r in rows),
        )

    def list_observations_since(
        self, workspace_id: str, user_id: str, after_revision: int, model: str
    ) -> tuple[list[Observation], StoredVectors]:
        # Put in order here, as below: the statement then plans on the user's revision index
        # whatever the planner knows of the table.
        rows = self._q(
            f"SELECT o.*, {_stored_vector('o')} FROM observations o"
            " WHERE o.workspace_id = ? AND o.user_id = ? AND o.revision > ?",
            (OBSERVATION_VECTORS, model, workspace_id, user_id, after_revision),
        )
        found = sorted(
            ((rows_to.observation(self._dialect, r), r["stored_vector"]) for r in rows),
            key=lambda row: (row[0].occurred_at, row[0].id),
        )
        return [o for o, _ in found], _stored([(o.id, vector) for o, vector in found])

    def list_beliefs_with_vectors(
        self, workspace_id: str, user_id: str, statuses: Sequence[BeliefStatus], model: str
    ) -> tuple[list[Belief], StoredVectors]:
        in_statuses, params = self._dialect.in_list("b.status", [s.value for s in statuses])
        # The rows put in order here: a database not yet analysed then still plans the user's
        # index (with ORDER BY in the statement, PostgreSQL walked the workspace's beliefs by
        # id, filtering out everyone else's).
        rows = self._q(
            f"SELECT b.*, {_stored_vector('b')} FROM beliefs b"
            f" WHERE b.workspace_id = ? AND b.user_id = ? AND {in_statuses}",
            (BELIEF_VECTORS, model, workspace_id, user_id, *params),
        )
        rows = sorted(rows, key=lambda r: str(r["id"]), reverse=True)
        beliefs = [rows_to.belief(self._dialect, r) for r in rows]
        return beliefs, _stored([(r["id"], r["stored_vector"]) for r in rows])

    def list_beliefs_changed_since(
        self, workspace_id: str, user_id: str, after_revision: int, model: str
    ) -> ChangedBeliefs:
        d = self._dialect
        # The order ``list_evidence`` reads a belief's links in. By the columns of the index on
        # (workspace, belief) exactly: a plan made before the table was analysed walked the
        # index on the user's observations and filtered all of the user's evidence instead.
        supporting = d.id_array(
            "SELECT e.observation_id AS id FROM evidence e WHERE e.workspace_id = b.workspace_id"
            " AND e.belief_id = b.id AND e.stance = ? ORDER BY e.created_at, e.observation_id"
        )
        # From the versions written since to each belief by id: as ``id IN (…)``, PostgreSQL
        # walked the user's beliefs and probed the versions once per belief (185 buffers for
        # 37 beliefs, growing with them; this way 13).
        rows = self._q(
            f"SELECT b.*, {_stored_vector('b')}, {supporting} AS supporting,"
            " (SELECT revision FROM users WHERE workspace_id = ? AND id = ?) AS user_revision"
            " FROM (SELECT DISTINCT belief_id FROM belief_versions WHERE workspace_id = ?"
            " AND user_id = ? AND revision > ?) changed"
            " JOIN beliefs b ON b.workspace_id = ? AND b.id = changed.belief_id",
            (
                BELIEF_VECTORS,
                model,
                EvidenceStance.SUPPORTS.value,
                workspace_id,
                user_id,
                workspace_id,
                user_id,
                after_revision,
                workspace_id,
            ),
        )
        rows = sorted(rows, key=lambda r: str(r["id"]), reverse=True)
        return ChangedBeliefs(
            [rows_to.belief(d, r) for r in rows],
            _stored([(r["id"], r["stored_vector"]) for r in rows]),
            {str(r["id"]): d.ids_out(r["supporting"]) for r in rows},
            int(rows[0]["user_revision"]) if rows else None,
        )
