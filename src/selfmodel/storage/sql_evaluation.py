"""``SQLEvaluation``: recorded eval runs and their item scores, for both SQL backends."""

from __future__ import annotations

from collections.abc import Sequence

from selfmodel.domain import EvalItemScore, EvalRun
from selfmodel.storage import sql_rows as rows_to
from selfmodel.storage.evaluation import EvalStore
from selfmodel.storage.sql_base import SQLBase, marks

_RUN_COLUMNS = (
    "workspace_id",
    "id",
    "suite",
    "suite_kind",
    "dataset_sha256",
    "config_sha256",
    "config",
    "code_version",
    "k",
    "item_count",
    "mean_recall",
    "summary",
    "started_at",
    "finished_at",
)
_ITEM_COLUMNS = (
    "workspace_id",
    "run_id",
    "position",
    "item_id",
    "category",
    "recall",
    "evidence_found",
    "evidence_total",
    "violations",
    "tokens",
    "latency_ms",
)


class SQLEvaluation(SQLBase, EvalStore):
    """``EvalStore`` in shared SQL (mixed into ``SQLStore``)."""

    def insert_eval_run(self, run: EvalRun, items: Sequence[EvalItemScore]) -> None:
        d = self._dialect
        with self.transaction():
            self._x(
                f"INSERT INTO eval_runs ({', '.join(_RUN_COLUMNS)})"
                f" VALUES ({marks(len(_RUN_COLUMNS))})",
                (
                    run.workspace_id,
                    run.id,
                    run.suite,
                    run.suite_kind,
                    run.dataset_sha256,
                    run.config_sha256,
                    d.json_in(run.config, strict=True),
                    d.json_in(run.code_version, strict=True),
                    run.k,
                    run.item_count,
                    run.mean_recall,
                    d.json_in(run.summary, strict=True),
                    d.ts_in(run.started_at),
                    d.ts_in(run.finished_at),
                ),
            )
            for position, item in enumerate(items):
                self._x(
                    f"INSERT INTO eval_items ({', '.join(_ITEM_COLUMNS)})"
                    f" VALUES ({marks(len(_ITEM_COLUMNS))})",
                    (
                        run.workspace_id,
                        run.id,
                        position,
                        item.item_id,
                        item.category,
                        item.recall,
                        item.evidence_found,
                        item.evidence_total,
                        item.violations,
                        item.tokens,
                        item.latency_ms,
                    ),
                )

    def get_eval_run(self, workspace_id: str, run_id: str) -> EvalRun | None:
        rows = self._q(
            "SELECT * FROM eval_runs WHERE workspace_id = ? AND id = ?", (workspace_id, run_id)
        )
        return rows_to.eval_run(self._dialect, rows[0]) if rows else None

    def list_eval_runs(self, workspace_id: str) -> list[EvalRun]:
        # Ids are time-ordered (made when a run is recorded): newest first, and a stable order
        # for cursors even when runs overlapped.
        rows = self._q(
            "SELECT * FROM eval_runs WHERE workspace_id = ? ORDER BY id DESC",
            (workspace_id,),
        )
        return [rows_to.eval_run(self._dialect, r) for r in rows]

    def list_eval_items(self, workspace_id: str, run_id: str) -> list[EvalItemScore]:
        rows = self._q(
            "SELECT * FROM eval_items WHERE workspace_id = ? AND run_id = ? ORDER BY position",
            (workspace_id, run_id),
        )
        return [rows_to.eval_item(r) for r in rows]
