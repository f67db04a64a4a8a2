"""The audit: the five problems and readiness of this workspace, from its own telemetry."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from selfmodel.audit.debug_loops import Replayed, replay_sample
from selfmodel.audit.recorded import read_recorded
from selfmodel.audit.report import audit_report
from selfmodel.audit.thresholds import MAX_DAYS
from selfmodel.domain.audit import AuditReport
from selfmodel.domain.time import parse_timestamp, to_utc, utcnow
from selfmodel.engine.debugging import Debugging
from selfmodel.engine.evaluation import Evaluation
from selfmodel.errors import InvalidInputError, SelfModelError

log = logging.getLogger("selfmodel.audit")

# What an audit does before its replays, for a progress bar: read the store, the drift report,
# the personalization report, the joined report (each replay is one more step).
STEPS = ("reading telemetry", "drift", "personalization", "metrics and outcomes")
Progress = Callable[[int, int, str], None]


class Auditing(Debugging, Evaluation):
    """``audit``: per problem a status, its evidence and the next action (docs/audit.md)."""

    def audit(
        self,
        *,
        since: datetime | date | str | None = None,
        now: datetime | None = None,
        on_progress: Progress | None = None,
    ) -> AuditReport:
        """Audit the workspace over [``since``, ``now``) (default: the ``audit_days`` before
        now): evaluation drift, context decay, debug loops, metric misalignment, personalization
        gaps, and readiness to run at scale, each check graded against the audit settings
        (``SELFMODEL_AUDIT_*``) or marked not measured with the command that would measure it.

        Reads only; replays a seeded sample of the window's traces (``audit_replay_sample``).
        ``on_progress(done, total, step)`` is called as it goes.

        Raises:
            InvalidInputError: ``since`` not before ``now``, or a window longer than a year.
        """
        settings = self._c.settings.audit
        end = to_utc(now) if now is not None else utcnow()
        start = (
            parse_timestamp(since, field="since")
            if since is not None
            else end - timedelta(days=settings.audit_days)
        )
        if start >= end:
            raise InvalidInputError("since must be before the end of the window", field="since")
        days = (end - start) / timedelta(days=1)
        if days > MAX_DAYS:
            raise InvalidInputError(
                f"the window is longer than {MAX_DAYS:g} days: give a later since", field="since"
            )
        advance = on_progress or (lambda done, total, step: None)
        recorded = read_recorded(self._c.store, self.workspace, start, end, utcnow())
        sample = replay_sample(recorded.calls, settings.audit_replay_sample)
        total = len(STEPS) + len(sample)
        advance(1, total, STEPS[1])
        drift = self.drift(now=end)
        advance(2, total, STEPS[2])
        personalization = self.personalization(now=end, days=days)
        advance(3, total, STEPS[3])
        joined = self.report(now=end, days=days)
        replays = []
        for n, trace_id in enumerate(sample, start=len(STEPS)):
            advance(n, total, "replaying traces")
            replays.append(self._replayed(trace_id))
        advance(total, total, "done")
        return audit_report(
            recorded,
            drift=drift,
            personalization=personalization,
            joined=joined,
            replays=replays,
            settings=self._c.settings,
        )

    def _replayed(self, trace_id: str) -> Replayed:
        try:
            result = self.replay(trace_id)
        except SelfModelError as exc:
            # Counted as not reproduced, and named: a trace that cannot be replayed is a debug
            # loop that cannot be closed.
            log.warning("audit: trace %s could not be replayed: %s", trace_id, exc.message)
            return Replayed(trace_id, False, f"not replayable: {exc.message}")
        return Replayed(trace_id, result.reproduced, ", ".join(result.differences))


__all__ = ["STEPS", "Auditing"]
