"""``SQLExperiments``: experiments and exposures, for both SQL backends."""

from __future__ import annotations

from datetime import datetime

from selfmodel.domain import Experiment, ExperimentStatus, Exposure, Outcome, OutcomeKind
from selfmodel.errors import ConflictError
from selfmodel.storage import sql_rows as rows_to
from selfmodel.storage.experiments import ExperimentStore
from selfmodel.storage.sql_base import SQLBase, marks

_COLUMNS = (
    "workspace_id",
    "id",
    "name",
    "description",
    "variants",
    "control",
    "layer",
    "traffic",
    "bucket_start",
    "bucket_end",
    "salt",
    "status",
    "created_at",
    "stopped_at",
)


class SQLExperiments(SQLBase, ExperimentStore):
    """``ExperimentStore`` in shared SQL (mixed into ``SQLStore``)."""

    def lock_experiments(self, workspace_id: str) -> None:
        # The workspace row stands for its experiments (on SQLite the transaction already
        # holds the file's write lock, and ``for_update`` is empty).
        self._q(
            "SELECT id FROM workspaces WHERE id = ?" + self._dialect.for_update, (workspace_id,)
        )

    def insert_experiment(self, experiment: Experiment) -> None:
        d = self._dialect
        variants = [v.model_dump(mode="json") for v in experiment.variants]
        inserted = self._x(
            f"INSERT INTO experiments ({', '.join(_COLUMNS)}) VALUES ({marks(len(_COLUMNS))})"
            " ON CONFLICT (workspace_id, name) DO NOTHING",
            (
                experiment.workspace_id,
                experiment.id,
                experiment.name,
                experiment.description,
                d.json_in(variants, strict=True),
                experiment.control,
                experiment.layer,
                experiment.traffic,
                experiment.bucket_start,
                experiment.bucket_end,
                experiment.salt,
                experiment.status.value,
                d.ts_in(experiment.created_at),
                d.ts_in(experiment.stopped_at),
            ),
        )
        if not inserted:
            raise ConflictError(
                f"an experiment named {experiment.name!r} exists already", name=experiment.name
            )

    def get_experiment(self, workspace_id: str, name_or_id: str) -> Experiment | None:
        rows = self._q(
            "SELECT * FROM experiments WHERE workspace_id = ? AND (id = ? OR name = ?)",
            (workspace_id, name_or_id, name_or_id),
        )
        return rows_to.experiment(self._dialect, rows[0]) if rows else None

    def list_experiments(
        self, workspace_id: str, *, status: ExperimentStatus | None = None
    ) -> list[Experiment]:
        sql = "SELECT * FROM experiments WHERE workspace_id = ?"
        params: list[object] = [workspace_id]
        if status is not None:
            sql += " AND status = ?"
            params.append(status.value)
        rows = self._q(sql + " ORDER BY id", params)
        return [rows_to.experiment(self._dialect, r) for r in rows]

    def stop_experiment(self, workspace_id: str, experiment_id: str, stopped_at: datetime) -> bool:
        return bool(
            self._x(
                "UPDATE experiments SET status = ?, stopped_at = ?"
                " WHERE workspace_id = ? AND id = ? AND status = ?",
                (
                    ExperimentStatus.STOPPED.value,
                    self._dialect.ts_in(stopped_at),
                    workspace_id,
                    experiment_id,
                    ExperimentStatus.RUNNING.value,
                ),
            )
        )

    def record_exposure(self, exposure: Exposure) -> Exposure:
        self._x(
            "INSERT INTO experiment_exposures"
            " (workspace_id, user_id, experiment_id, variant, exposed_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (workspace_id, user_id, experiment_id) DO NOTHING",
            (
                exposure.workspace_id,
                exposure.user_id,
                exposure.experiment_id,
                exposure.variant,
                self._dialect.ts_in(exposure.exposed_at),
            ),
        )
        kept = self.list_exposures(
            exposure.workspace_id, experiment_id=exposure.experiment_id, user_id=exposure.user_id
        )
        return kept[0] if kept else exposure

    def list_exposures(
        self, workspace_id: str, *, experiment_id: str | None = None, user_id: str | None = None
    ) -> list[Exposure]:
        sql = "SELECT * FROM experiment_exposures WHERE workspace_id = ?"
        params: list[object] = [workspace_id]
        if experiment_id is not None:
            sql += " AND experiment_id = ?"
            params.append(experiment_id)
        if user_id is not None:
            sql += " AND user_id = ?"
            params.append(user_id)
        rows = self._q(sql + " ORDER BY exposed_at, user_id, experiment_id", params)
        return [rows_to.exposure(self._dialect, r) for r in rows]

    def exposed_outcomes(
        self, workspace_id: str, experiment_id: str, kind: OutcomeKind, name: str | None = None
    ) -> list[Outcome]:
        sql = (
            "SELECT o.* FROM outcomes o JOIN experiment_exposures x"
            " ON x.workspace_id = o.workspace_id AND x.user_id = o.user_id"
            " WHERE x.workspace_id = ? AND x.experiment_id = ? AND o.kind = ?"
        )
        params: list[object] = [workspace_id, experiment_id, kind.value]
        if name is not None:
            sql += " AND o.name = ?"
            params.append(name)
        rows = self._q(sql + " ORDER BY o.user_id, o.id", params)
        return [rows_to.outcome(self._dialect, r) for r in rows]
