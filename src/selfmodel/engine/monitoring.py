"""Watching the workspace: drift, and how personal its context blocks are — read-only reports
over traces, outcomes and belief history."""

from __future__ import annotations

from datetime import datetime

from selfmodel.domain.report import DEFAULT_REPORT_DAYS, JoinedReport
from selfmodel.engine.base import EngineBase
from selfmodel.evaluation.joined_report import joined_report
from selfmodel.evaluation.monitor import DriftReport, drift_report
from selfmodel.evaluation.personalization import (
    DEFAULT_DAYS,
    DEFAULT_MIN_BELIEFS,
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_MIN_OFFERS,
    PersonalizationReport,
    personalization_report,
)


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

    def personalization(
        self,
        *,
        now: datetime | None = None,
        days: float = DEFAULT_DAYS,
        min_beliefs: int = DEFAULT_MIN_BELIEFS,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        min_offers: int = DEFAULT_MIN_OFFERS,
    ) -> PersonalizationReport:
        """How personal the context blocks of the ``days`` before ``now`` were: specificity and
        distinctiveness per experiment variant, coverage of the users served, and which
        offered beliefs answers used (docs/experiments.md, "Personalization metrics").

        Reads traces, outcomes and beliefs, embeds the chosen items' texts; writes nothing.
        """
        return personalization_report(
            self._c.store,
            self.workspace.id,
            self._c.embedder,
            now=now,
            days=days,
            min_beliefs=min_beliefs,
            min_confidence=min_confidence,
            min_offers=min_offers,
        )

    def report(
        self, *, now: datetime | None = None, days: float = DEFAULT_REPORT_DAYS
    ) -> JoinedReport:
        """Engineering metrics (latency, tokens, specificity, recall) beside outcomes over the
        ``days`` before ``now``: per experiment variant, per segment (users the self-model
        covers or not), per day, and the correlation of each engineering metric with each
        outcome across the days (docs/experiments.md, "The joined report"). Writes nothing."""
        return joined_report(self._c.store, self.workspace, self._c.embedder, now=now, days=days)
