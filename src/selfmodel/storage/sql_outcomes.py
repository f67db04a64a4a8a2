"""``SQLOutcomes``: outcomes of users, for both SQL backends."""

from __future__ import annotations

from selfmodel.domain import Outcome, OutcomeKind
from selfmodel.errors import ConflictError
from selfmodel.storage import sql_rows as rows_to
from selfmodel.storage.outcomes import OutcomeStore
from selfmodel.storage.sql_base import SQLBase, marks

_COLUMNS = (
    "workspace_id",
    "user_id",
    "id",
    "external_id",
    "trace_id",
    "kind",
    "name",
    "value",
    "label",
    "used_item_ids",
    "occurred_at",
    "recorded_at",
)


class SQLOutcomes(SQLBase, OutcomeStore):
    """``OutcomeStore`` in shared SQL (mixed into ``SQLStore``)."""

    def insert_outcome(self, outcome: Outcome) -> None:
        d = self._dialect
        used = None if outcome.used_item_ids is None else list(outcome.used_item_ids)
        # A repeated caller id inserts nothing (both backends alike) and is a conflict here;
        # the engine looks for it first, under the user's lock, to answer a retry.
        inserted = self._x(
            f"INSERT INTO outcomes ({', '.join(_COLUMNS)}) VALUES ({marks(len(_COLUMNS))})"
            " ON CONFLICT (workspace_id, user_id, external_id) WHERE external_id IS NOT NULL"
            " DO NOTHING",
            (
                outcome.workspace_id,
                outcome.user_id,
                outcome.id,
                outcome.external_id,
                outcome.trace_id,
                outcome.kind.value,
                outcome.name,
                outcome.value,
                outcome.label,
                None if used is None else d.json_in(used, strict=True),
                d.ts_in(outcome.occurred_at),
                d.ts_in(outcome.recorded_at),
            ),
        )
        if not inserted:
            raise ConflictError(
                f"outcome id {outcome.external_id!r} is already recorded for this user",
                id=outcome.external_id,
            )

    def get_outcome_by_external_id(
        self, workspace_id: str, user_id: str, external_id: str
    ) -> Outcome | None:
        rows = self._q(
            "SELECT * FROM outcomes WHERE workspace_id = ? AND user_id = ? AND external_id = ?",
            (workspace_id, user_id, external_id),
        )
        return rows_to.outcome(self._dialect, rows[0]) if rows else None

    def list_outcomes(
        self,
        workspace_id: str,
        user_id: str,
        *,
        trace_id: str | None = None,
        kind: OutcomeKind | None = None,
    ) -> list[Outcome]:
        sql = "SELECT * FROM outcomes WHERE workspace_id = ? AND user_id = ?"
        params: list[object] = [workspace_id, user_id]
        if trace_id is not None:
            sql += " AND trace_id = ?"
            params.append(trace_id)
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind.value)
        rows = self._q(sql + " ORDER BY id", params)
        return [rows_to.outcome(self._dialect, r) for r in rows]
