"""Watching the workspace for drift: read-only reports over traces and belief history."""

from __future__ import annotations

from datetime import datetime

from selfmodel.engine.base import EngineBase
from selfmodel.evaluation.monitor import DriftReport, drift_report


class Monitoring(EngineBase):
    """Drift of the workspace's queries and self-models (docs/evaluation.md, "Drift")."""

    def drift(
        self,
        *,
        now: datetime | None = None,
        reference_days: float | None = None,
        current_days: float | None = None,
        alpha: float | None = None,
    ) -> DriftReport:
        """Compare the last ``current_days`` before ``now`` with the ``reference_days`` before.

        Reads traces, belief history and eval runs (quality drift: change points in each
        suite's scores), re-embeds the traced queries; writes nothing. A window
        with too little data is reported as such (``note``), not raised. Left out, the windows,
        α and the other thresholds are the settings' (``SELFMODEL_DRIFT_*``).

        Raises:
            InvalidInputError: a window of no positive length, or α outside (0, 1).
        """
        m = self._c.settings.monitoring
        return drift_report(
            self._c.store,
            self.workspace,
            self._c.embedder,
            now=now,
            reference_days=m.drift_reference_days if reference_days is None else reference_days,
            current_days=m.drift_current_days if current_days is None else current_days,
            alpha=m.drift_alpha if alpha is None else alpha,
            permutations=m.drift_permutations,
            psi_threshold=m.drift_psi_threshold,
            min_queries=m.drift_min_queries,
            quality_alpha=m.quality_alpha,
            quality_min_runs=m.quality_min_runs,
        )
