"""Watching the workspace for drift: read-only reports over traces and belief history."""

from __future__ import annotations

from datetime import datetime

from selfmodel.engine.base import EngineBase
from selfmodel.evaluation.drift import DEFAULT_ALPHA
from selfmodel.evaluation.monitor import (
    DEFAULT_CURRENT_DAYS,
    DEFAULT_REFERENCE_DAYS,
    DriftReport,
    drift_report,
)


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
