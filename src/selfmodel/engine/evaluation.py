"""Recorded eval runs and alerts of the workspace; drift checks that raise alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from selfmodel.config import check_webhook_url
from selfmodel.domain import Alert, AlertStatus, EvalItemScore, EvalRun
from selfmodel.domain.time import utcnow
from selfmodel.engine.base import EngineBase, parse_enum
from selfmodel.engine.monitoring import Monitoring
from selfmodel.errors import InvalidInputError
from selfmodel.evaluation.alerts import WORKSPACE_WEBHOOK_SETTING, AlertBook, AlertChanges
from selfmodel.evaluation.eval_report import project_2d, render_report
from selfmodel.evaluation.monitor import DriftReport, window_queries
from selfmodel.evaluation.records import EvalRuns

# A webhook URL longer than this is not one a person typed.
MAX_WEBHOOK_URL_CHARS = 2_000
# Queries a window the report plots (a seeded subset beyond): a scatter of more is a blot.
MAX_POINTS = 300
REPORT_SEED = 0


def _at_most(rng: np.random.Generator, items: list[str], limit: int) -> list[str]:
    if len(items) <= limit:
        return items
    return [items[i] for i in sorted(rng.choice(len(items), size=limit, replace=False))]


@dataclass(frozen=True)
class DriftCheck:
    """A drift check that was acted on: the report, and what it did to the alerts."""

    report: DriftReport
    changes: AlertChanges


class Evaluation(Monitoring, EngineBase):
    """Eval runs (read), alerts (list, resolve) and drift checks that raise them."""

    # -- eval runs ---------------------------------------------------------------------------
    def eval_runs(self, *, suite: str | None = None) -> list[EvalRun]:
        """The workspace's recorded eval runs, the last recorded first (``selfmodel eval run``
        records them)."""
        runs = EvalRuns(self._c.store).runs(self.workspace)
        return [r for r in runs if suite is None or r.suite == suite]

    def eval_run(self, run_id: str) -> EvalRun:
        """One recorded run. Raises ``EvalRunNotFoundError`` (another workspace's run too)."""
        return EvalRuns(self._c.store).run(self.workspace, run_id)

    def eval_items(self, run_id: str) -> list[EvalItemScore]:
        """A recorded run's item scores, in suite order."""
        return EvalRuns(self._c.store).items(self.workspace, run_id)

    # -- alerts ------------------------------------------------------------------------------
    def _alert_book(self) -> AlertBook:
        return AlertBook(self._c.store, self.workspace, self._c.settings.monitoring)

    def alerts(self, *, status: AlertStatus | str | None = None) -> list[Alert]:
        """The workspace's alerts (drift and regressions), the last raised first."""
        wanted = None if status is None else parse_enum(AlertStatus, status, "status")
        return self._alert_book().alerts(status=wanted)

    def alert(self, alert_id: str) -> Alert:
        """One alert. Raises ``AlertNotFoundError`` (another workspace's alert too)."""
        return self._alert_book().get(alert_id)

    def resolve_alert(self, alert_id: str) -> Alert:
        """Close an alert by hand; the next check that finds the same drift opens a new one."""
        return self._alert_book().resolve(alert_id)

    def request_drift_check(self) -> None:
        """Ask for a drift check of the workspace now; the next worker that looks runs it
        (``selfmodel worker``, or the one in ``selfmodel serve``) and raises its alerts."""
        self._c.store.request_drift_check(self.workspace.id, utcnow())

    def check_drift(self, *, now: datetime | None = None) -> DriftCheck:
        """Run the drift report (settings' windows and thresholds) and act on it: raise an
        alert for each new drift, mark ongoing ones as seen, resolve those that ended, and POST
        the new ones to the webhook. What the worker runs on its schedule."""
        report = self.drift(now=now)
        book = self._alert_book()
        changes = book.record(report.findings, checked=report.checked)
        delivered = book.deliver(changes.raised)
        return DriftCheck(
            report, AlertChanges(tuple(delivered), changes.seen_again, changes.resolved)
        )

    def report_html(self, *, now: datetime | None = None) -> str:
        """One self-contained HTML page: eval scores over runs with their change points, the
        two windows' queries and beliefs side by side, the users who changed most, the open
        alerts (``selfmodel eval report``). Reads only."""
        report = self.drift(now=now)
        reference, current = window_queries(
            self._c.store, self.workspace, report.reference, report.current
        )
        points = None
        if len(reference) >= 2 and len(current) >= 2:
            rng = np.random.default_rng(REPORT_SEED)
            shown = [_at_most(rng, q, MAX_POINTS) for q in (reference, current)]
            vectors = self._c.embedder.embed([*shown[0], *shown[1]])
            points = project_2d(vectors[: len(shown[0])], vectors[len(shown[0]) :])
        return render_report(report, self.alerts(status=AlertStatus.OPEN), points)

    def set_alert_webhook(self, url: str | None) -> None:
        """Where this workspace's new alerts are POSTed (``None``: the setting
        ``SELFMODEL_ALERT_WEBHOOK_URL`` again). Raises ``InvalidInputError`` for a URL that is
        not http(s) with a host."""
        settings = dict(self.workspace.settings)
        if url is None:
            settings.pop(WORKSPACE_WEBHOOK_SETTING, None)
        else:
            if not isinstance(url, str) or len(url) > MAX_WEBHOOK_URL_CHARS:
                raise InvalidInputError("the webhook URL is not a URL", field="url")
            try:
                check_webhook_url(url)
            except ValueError as exc:
                raise InvalidInputError(str(exc), field="url") from None
            settings[WORKSPACE_WEBHOOK_SETTING] = url
        self.workspace = self._c.store.update_workspace_settings(self.workspace.id, settings)
