"""Watching the workspace: drift, and how personal its context blocks are — read-only reports
over traces, outcomes and belief history."""

from __future__ import annotations

from datetime import datetime

from selfmodel.domain.report import DEFAULT_REPORT_DAYS, JoinedReport
from selfmodel.engine.base import EngineBase
from selfmodel.evaluation.drift import DEFAULT_ALPHA
from selfmodel.evaluation.monitor import (
    DEFAULT_CURRENT_DAYS,
    DEFAULT_REFERENCE_DAYS,
    DriftReport,
    drift_report,
)
from selfmodel.evaluation.personalization import (
    DEFAULT_DAYS,
    DEFAULT_MIN_BELIEFS,
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_MIN_OFFERS,
    PersonalizationReport,
    personalization_report,
)
from selfmodel.evaluation.report import joined_report


class Monitoring(EngineBase):
    """Drift of the workspace's queries and self-models (docs/evaluation.md, "Drift")."""

    def drift(
        self,
        *,
        now: datetime | None = None,
        reference_days: float = DEFAULT_REFERENCE_DAYS,
        current_days: float = DEFAULT_CURRENT_DAYS,
        alpha: float = DEFAULT_ALPHA,
    ) -> DriftReport:
        """Compare the last ``current_days`` before ``now`` with the ``reference_days`` before.

        Reads traces and belief history, re-embeds the traced queries; writes nothing. A window
        with too little data is reported as such (``note``), not raised.

        Raises:
            InvalidInputError: a window of no positive length, or α outside (0, 1).
        """
        return drift_report(
            self._c.store,
            self.workspace,
            self._c.embedder,
            now=now,
            reference_days=reference_days,
            current_days=current_days,
            alpha=alpha,
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
