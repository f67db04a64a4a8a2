"""Metric misalignment: do the numbers engineers watch connect to what people do?

- **outcome coverage**: the share of the window's context calls that some outcome names (per day
  too) — what ties a call's latency, tokens and specificity to what followed it;
- **experiments**: the experiments that ran during the window, and the users they exposed;
- **correlation**: from the joined report over the window, whether any engineering metric
  (latency, tokens, specificity, recall) moved with an outcome across days (Pearson's r at
  ``audit_correlation_alpha``); none that does means the dashboards and the outcomes tell
  separate stories.
"""

from __future__ import annotations

from collections import defaultdict

from selfmodel.audit.grading import against, measured, not_measured, plural, section, share
from selfmodel.audit.recorded import Recorded
from selfmodel.config import AuditSettings
from selfmodel.domain.audit import AuditStatus, Check, Figure, Plot, Reference, Section, Series
from selfmodel.domain.report import JoinedReport
from selfmodel.domain.time import to_utc

KEY = "metric_misalignment"
REFERENCES_SHOWN = 5


def metric_misalignment(
    recorded: Recorded, joined: JoinedReport, settings: AuditSettings
) -> Section:
    """The metric misalignment section."""
    return section(
        KEY,
        "Metric misalignment",
        "Do the engineering metrics connect to retention and satisfaction?",
        [
            _outcome_coverage(recorded, settings),
            _experiments(recorded),
            _correlation(joined, settings),
        ],
    )


def _outcome_coverage(recorded: Recorded, settings: AuditSettings) -> Check:
    calls = recorded.calls
    if not calls:
        return not_measured(
            "outcome_coverage",
            "Context calls with an outcome",
            "No context call was traced in the window.",
            'selfmodel context USER "QUERY"',
        )
    named = {o.trace_id for o in recorded.outcomes if o.trace_id is not None}
    value = sum(1 for c in calls if c.trace.id in named) / len(calls)
    status, thresholds = against(settings, "outcome_coverage", value)
    per_day: dict[str, list[bool]] = defaultdict(list)
    for call in calls:
        per_day[f"{call.asked_at:%Y-%m-%d}"].append(call.trace.id in named)
    days = sorted(per_day)
    return measured(
        key="outcome_coverage",
        title="Context calls with an outcome",
        status=status,
        finding=f"{share(value)} of the window's {plural(len(calls), 'context call')} are named "
        "by an outcome.",
        figures=[
            Figure(name="calls with an outcome", value=value, unit="share"),
            Figure(name="calls", value=len(calls)),
        ],
        thresholds=thresholds,
        plots=[
            Plot(
                title="Share of context calls with an outcome, per day",
                x_label="day the call was asked",
                y_label="share of calls",
                x=days,
                series=[
                    Series(
                        name="with an outcome",
                        values=[sum(per_day[d]) / len(per_day[d]) for d in days],
                    )
                ],
            )
        ],
        action="Record an implicit signal for every answer (accepted, continued, task_completed) "
        "with its trace_id, not only the rare explicit rating.",
    )


def _experiments(recorded: Recorded) -> Check:
    ran = [
        x
        for x in recorded.experiments
        if to_utc(x.created_at) < recorded.end
        and (x.stopped_at is None or to_utc(x.stopped_at) >= recorded.start)
    ]
    if not ran and not recorded.calls:
        return not_measured(
            "experiments",
            "Experiments running",
            "No experiment ran and no context call was traced in the window: nothing to compare "
            "yet.",
            "selfmodel experiment create NAME --variant control --variant treatment:KEY=VALUE",
        )
    exposed = sum(recorded.exposures.get(x.id, 0) for x in ran)
    running = [x for x in ran if x.stopped_at is None]
    status = AuditStatus.HEALTHY if ran else AuditStatus.AT_RISK
    return measured(
        key="experiments",
        title="Experiments running",
        status=status,
        finding=f"{plural(len(ran), 'experiment')} ran during the window ({len(running)} still "
        f"running), exposing {plural(exposed, 'user')}."
        if ran
        else "No experiment ran during the window: changes reach people without a comparison.",
        figures=[
            Figure(name="experiments in the window", value=len(ran)),
            Figure(name="running", value=len(running)),
            Figure(name="users exposed", value=exposed),
        ],
        references=[
            Reference(kind="experiment", id=x.id, note=f"{x.name}, {x.status.value}")
            for x in ran[:REFERENCES_SHOWN]
        ],
        action="Ship the next change as an experiment (`selfmodel experiment create NAME --variant "
        "control --variant treatment:KEY=VALUE`) so its effect on outcomes is measured.",
    )


def _correlation(joined: JoinedReport, settings: AuditSettings) -> Check:
    computed = [c for c in joined.correlations if c.r is not None and c.p_value is not None]
    if not computed:
        return not_measured(
            "correlation",
            "Engineering metrics that move with outcomes",
            "No engineering metric and outcome share three days of data in the window "
            f"({joined.overall.traces} traced calls, outcomes "
            f"{', '.join(o.metric for o in joined.overall.outcomes) or 'none'}); a correlation "
            "needs three days of calls with outcomes naming them.",
            "selfmodel report --days 28",
        )
    alpha = settings.audit_correlation_alpha
    significant = sorted(
        (c for c in computed if (c.p_value or 1.0) < alpha), key=lambda c: c.p_value or 1.0
    )
    strongest = max(computed, key=lambda c: abs(c.r or 0.0))
    status = AuditStatus.HEALTHY if significant else AuditStatus.AT_RISK
    shown = significant[0] if significant else strongest
    return measured(
        key="correlation",
        title="Engineering metrics that move with outcomes",
        status=status,
        finding=f"{len(significant)} of {len(computed)} pairs of an engineering metric and an "
        f"outcome correlate across days at p < {alpha:g}; the "
        + ("strongest" if significant else "closest")
        + f" is {shown.engineering} with {shown.outcome} (r {shown.r:+.2f}, p {shown.p_value:.2g},"
        f" {shown.days} days).",
        figures=[
            Figure(name="pairs correlated", value=len(significant)),
            Figure(name="pairs tested", value=len(computed)),
            Figure(name=f"r of {shown.engineering} × {shown.outcome}", value=shown.r),
        ],
        thresholds={"audit_correlation_alpha": alpha},
        plots=[
            Plot(
                title="Pearson's r of each engineering metric with each outcome, across days",
                kind="bars",
                x_label="engineering metric × outcome",
                y_label="r",
                x=[f"{c.engineering} × {c.outcome}" for c in computed],
                series=[Series(name="r", values=[c.r for c in computed])],
            )
        ],
        action="Stop steering by metrics that do not move with outcomes: test the one you tune "
        "most as an experiment against the outcome you care about (`selfmodel report`).",
    )


__all__ = ["KEY", "metric_misalignment"]
