"""The audit of one workspace, put together from its sections (``audit_report``)."""

from __future__ import annotations

from collections.abc import Sequence

from selfmodel.audit.context_decay import context_decay
from selfmodel.audit.debug_loops import Replayed, debug_loops
from selfmodel.audit.evaluation_drift import evaluation_drift
from selfmodel.audit.grading import costliest
from selfmodel.audit.metric_alignment import metric_misalignment
from selfmodel.audit.personalization_gaps import personalization_gaps
from selfmodel.audit.readiness import readiness
from selfmodel.audit.recorded import Recorded
from selfmodel.config import Settings
from selfmodel.domain.audit import AuditReport
from selfmodel.domain.personalization import PersonalizationReport
from selfmodel.domain.report import JoinedReport
from selfmodel.evaluation.monitor import DriftReport


def audit_report(
    recorded: Recorded,
    *,
    drift: DriftReport,
    personalization: PersonalizationReport,
    joined: JoinedReport,
    replays: Sequence[Replayed],
    settings: Settings,
) -> AuditReport:
    """The five problems and readiness, from what the store recorded and the reports over it
    (the drift report, the personalization report, the joined report, the sample replayed)."""
    audit = settings.audit
    problems = [
        evaluation_drift(recorded, drift, audit, min_runs=settings.monitoring.quality_min_runs),
        context_decay(recorded, audit),
        debug_loops(recorded, replays, audit),
        metric_misalignment(recorded, joined, audit),
        personalization_gaps(recorded, personalization, audit),
    ]
    return AuditReport(
        workspace=recorded.workspace.name,
        generated_at=recorded.now,
        start=recorded.start,
        end=recorded.end,
        backend=recorded.footprint.backend,
        costliest=costliest(problems),
        problems=problems,
        readiness=readiness(recorded, audit),
        settings={k: float(v) for k, v in audit.model_dump().items()},
    )


__all__ = ["audit_report"]
