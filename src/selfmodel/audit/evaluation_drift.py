"""Evaluation drift: does the eval suite still speak for production?

- **eval age**: how old the last recorded eval run is (none in the window: failing);
- **coverage**: the share of the window's context calls whose configuration (ranking weights and
  token budget) an eval run of the window scored — an experiment's variant nobody evaluated is
  production running blind;
- **regressions**: change points in each suite's scores (the drift report's quality series) and
  the regression and quality alerts of the window;
- **input drift** and **self-model drift**: the drift report's tests (MMD of the queries, PSI of
  their lengths and of the kinds of belief formed; the rate of supersessions and contradictions)
  and the alerts the worker raised in the window.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta

from selfmodel.audit.grading import (
    against,
    graded,
    measured,
    not_measured,
    plural,
    section,
    sentence,
    share,
)
from selfmodel.audit.recorded import Call, Recorded
from selfmodel.config import AuditSettings
from selfmodel.domain import Alert, AlertKind, AlertStatus, EvalRun
from selfmodel.domain.audit import AuditStatus, Check, Figure, Plot, Reference, Section, Series
from selfmodel.domain.time import to_utc
from selfmodel.evaluation.monitor import DriftReport

KEY = "evaluation_drift"
RUN_COMMAND = "selfmodel eval run --golden FILE"
REFERENCES_SHOWN = 5


def evaluation_drift(
    recorded: Recorded, drift: DriftReport, settings: AuditSettings, *, min_runs: int
) -> Section:
    """The evaluation drift section (``min_runs``: of a suite, for a change-point test)."""
    alerts = [a for a in recorded.alerts if _in_window(a, recorded)]
    return section(
        KEY,
        "Evaluation drift",
        "Does the eval suite still predict production quality?",
        [
            _age(recorded, settings),
            _coverage(recorded, settings),
            _regressions(drift, alerts, min_runs),
            _input_drift(drift, alerts),
            _self_model_drift(drift, alerts),
        ],
    )


def _in_window(alert: Alert, recorded: Recorded) -> bool:
    return (
        to_utc(alert.last_seen_at) >= recorded.start and to_utc(alert.first_seen_at) < recorded.end
    )


def _runs_before_end(recorded: Recorded) -> list[EvalRun]:
    return [r for r in recorded.eval_runs if to_utc(r.finished_at) < recorded.end]


def _age(recorded: Recorded, settings: AuditSettings) -> Check:
    runs = _runs_before_end(recorded)
    if not runs:
        return not_measured(
            "eval_age",
            "Age of the last eval run",
            "No eval run is recorded in this workspace.",
            RUN_COMMAND,
        )
    latest = runs[0]
    age = (recorded.end - to_utc(latest.finished_at)) / timedelta(days=1)
    in_window = [r for r in runs if to_utc(r.finished_at) >= recorded.start]
    if not in_window:
        status = AuditStatus.FAILING
    else:
        status = graded(age, settings.audit_eval_max_age_days, float("inf"), higher_is_better=False)
    suite_runs = sorted(
        (r for r in runs if r.suite == latest.suite and r.mean_recall is not None),
        key=lambda r: r.finished_at,
    )
    return measured(
        key="eval_age",
        title="Age of the last eval run",
        status=status,
        finding=f"The last eval run ({latest.suite}) finished {age:.1f} days before the end of "
        f"the window; {plural(len(in_window), 'run')} in the window.",
        figures=[
            Figure(name="age of the last run", value=age, unit="days"),
            Figure(name="runs in the window", value=len(in_window)),
            Figure(name="suites", value=len({r.suite for r in runs})),
        ],
        thresholds={"audit_eval_max_age_days": settings.audit_eval_max_age_days},
        references=[Reference(kind="eval_run", id=latest.id, note="the last run")],
        plots=[
            Plot(
                title=f"Mean recall@{latest.k} of suite {latest.suite} over its runs",
                x_label="run finished",
                y_label="mean recall",
                x=[f"{r.finished_at:%Y-%m-%d}" for r in suite_runs],
                series=[Series(name=latest.suite, values=[r.mean_recall for r in suite_runs])],
            )
        ],
        action=f"Run the suite on every deploy or nightly (`{RUN_COMMAND}`), so it keeps up with "
        "what production serves.",
    )


def _configuration(ranking: object, budget: object) -> str:
    return json.dumps({"ranking": ranking, "budget": budget}, sort_keys=True)


def _coverage(recorded: Recorded, settings: AuditSettings) -> Check:
    calls = recorded.calls
    if not calls:
        return not_measured(
            "eval_coverage",
            "Production configurations an eval scored",
            "No context call was traced in the window.",
            'selfmodel context USER "QUERY"',
        )
    runs = [r for r in _runs_before_end(recorded) if to_utc(r.finished_at) >= recorded.start]
    scored = {_configuration(r.config.get("ranking"), r.config.get("budget_tokens")) for r in runs}

    def covered(call: Call) -> bool:
        config = call.trace.config
        return _configuration(config.get("ranking"), config.get("budget_tokens")) in scored

    missed = [c for c in calls if not covered(c)]
    value = 1 - len(missed) / len(calls)
    status, thresholds = against(settings, "eval_coverage", value)
    configurations = {_configuration(c.trace.config.get("ranking"), c.budget) for c in missed}
    return measured(
        key="eval_coverage",
        title="Production configurations an eval scored",
        status=status,
        finding=f"{share(value)} of the window's {plural(len(calls), 'context call')} ran under "
        "a configuration an eval run of the window scored"
        + (
            f"; {len(missed)} ran under {plural(len(configurations), 'configuration')} none did."
            if missed
            else "."
        ),
        figures=[
            Figure(name="calls under an evaluated configuration", value=value, unit="share"),
            Figure(name="calls", value=len(calls)),
            Figure(name="configurations not evaluated", value=len(configurations)),
        ],
        thresholds=thresholds,
        references=[
            Reference(kind="trace", id=c.trace.id, note=f"budget {c.budget}, not evaluated")
            for c in missed[:REFERENCES_SHOWN]
        ],
        action="Run the eval suite under each configuration production serves (`selfmodel eval "
        "run --budget N --ranking NAME=VALUE` per experiment variant).",
    )


def _alerts_of(alerts: Sequence[Alert], *kinds: AlertKind) -> list[Alert]:
    return [a for a in alerts if a.kind in kinds]


def _alert_status(found: Sequence[Alert]) -> AuditStatus | None:
    if any(a.status is AlertStatus.OPEN for a in found):
        return AuditStatus.FAILING
    return AuditStatus.AT_RISK if found else None


def _alert_references(found: Sequence[Alert]) -> list[Reference]:
    return [
        Reference(kind="alert", id=a.id, note=f"{a.kind.value}, {a.status.value}")
        for a in found[:REFERENCES_SHOWN]
    ]


def _regressions(drift: DriftReport, alerts: Sequence[Alert], min_runs: int) -> Check:
    found = _alerts_of(alerts, AlertKind.QUALITY_DRIFT, AlertKind.REGRESSION)
    tested = [q for q in drift.quality if q.note is None]
    fell = [q for q in tested if q.drifted]
    if not tested and not found:
        return not_measured(
            "regressions",
            "Regressions in eval scores",
            "No suite has enough runs for a change-point test (a suite is tested from its "
            f"{min_runs}th run; run it after every deploy), and no regression alert was raised "
            "in the window.",
            RUN_COMMAND,
        )
    status = AuditStatus.FAILING if fell else (_alert_status(found) or AuditStatus.HEALTHY)
    shown = fell[0] if fell else (tested[0] if tested else None)
    references = _alert_references(found)
    figures = [
        Figure(name="suites tested", value=len(tested)),
        Figure(name="alerts", value=len(found)),
    ]
    if fell:
        last = fell[0].changes[-1]
        finding = (
            f"Suite {fell[0].suite} fell from mean recall {last.before_mean:.3f} to "
            f"{last.after_mean:.3f} from run {last.run_id} on (p = {last.p_value:.2g})."
        )
        references.insert(
            0, Reference(kind="eval_run", id=last.run_id, note="first run after the fall")
        )
        figures.append(Figure(name="fall", value=last.before_mean - last.after_mean, unit="recall"))
    elif found:
        alerts_found = plural(len(found), "regression or quality alert")
        finding = f"{alerts_found} in the window ({found[0].message})."
    else:
        finding = (
            f"No change point in the scores of {plural(len(tested), 'suite')} with enough runs."
        )
    # The trend is drawn by the eval age check; here only when it fell.
    plots = (
        [
            Plot(
                title=f"Mean recall@{shown.k} of suite {shown.suite}, oldest run first",
                x_label="run started",
                y_label="mean recall",
                x=[f"{at:%Y-%m-%d}" for at in shown.started],
                series=[Series(name=shown.suite, values=list(shown.scores))],
            )
        ]
        if shown is not None and fell
        else []
    )
    return measured(
        key="regressions",
        title="Regressions in eval scores",
        status=status,
        finding=finding,
        figures=figures,
        references=references,
        plots=plots,
        action="Compare the run before the fall with the one after (`selfmodel eval compare A B`) "
        "and revert or fix the change between them.",
    )


def _input_drift(drift: DriftReport, alerts: Sequence[Alert]) -> Check:
    found = _alerts_of(alerts, AlertKind.INPUT_DRIFT, AlertKind.CATEGORICAL_SHIFT)
    d = drift.input_drift
    tested_shifts = [
        s for s in drift.categorical if sum(s.reference_counts) and sum(s.current_counts)
    ]
    if d.note is not None and not found and not tested_shifts:
        return not_measured(
            "input_drift",
            "Input drift",
            f"The drift test did not run: {d.note}.",
            "selfmodel eval drift",
        )
    shifted = [s for s in drift.categorical if s.drifted]
    drifted = d.drifted or bool(shifted)
    status = AuditStatus.FAILING if drifted else (_alert_status(found) or AuditStatus.HEALTHY)
    parts = []
    if d.note is None:
        parts.append(
            f"the current window's {d.current_queries} queries "
            + ("differ from" if d.drifted else "match")
            + f" the reference window's {d.reference_queries} (MMD² {d.statistic:.4f}, "
            f"p = {d.p_value:.4f}, α = {drift.alpha:g})"
        )
    parts.extend(f"{s.name} shifted (PSI {s.psi:.2f}, p = {s.p_value:.2g})" for s in shifted)
    if found:
        parts.append(f"{plural(len(found), 'input alert')} in the window")
    figures = [
        Figure(name="reference queries", value=d.reference_queries),
        Figure(name="current queries", value=d.current_queries),
        Figure(name="MMD²", value=d.statistic),
        Figure(name="p-value", value=d.p_value),
        *(Figure(name=f"PSI of {s.name}", value=s.psi) for s in tested_shifts),
    ]
    plots = [
        Plot(
            title=f"{s.name}: share of each window",
            kind="bars",
            x_label=s.name,
            y_label="share of the window",
            x=list(s.categories),
            series=[
                Series(name="reference window", values=_shares(s.reference_counts)),
                Series(name="current window", values=_shares(s.current_counts)),
            ],
        )
        for s in tested_shifts
    ]
    return measured(
        key="input_drift",
        title="Input drift",
        status=status,
        finding=sentence(parts) or "No drift test ran; the alerts of the window say the rest.",
        figures=figures,
        thresholds={"drift_alpha": drift.alpha},
        references=_alert_references(found),
        plots=plots,
        action="Add the new kinds of queries to the golden set and run it again (`selfmodel eval "
        "report --out eval.html` shows which queries moved).",
    )


def _shares(counts: Sequence[int]) -> list[float | None]:
    total = sum(counts)
    return [n / total if total else None for n in counts]


def _self_model_drift(drift: DriftReport, alerts: Sequence[Alert]) -> Check:
    found = _alerts_of(alerts, AlertKind.SELF_MODEL_DRIFT)
    s = drift.self_model
    if s.note is not None and not found:
        return not_measured(
            "self_model_drift",
            "Self-model drift",
            f"The self-model drift test did not run: {s.note}.",
            "selfmodel eval drift",
        )
    status = AuditStatus.FAILING if s.drifted else (_alert_status(found) or AuditStatus.HEALTHY)
    if s.note is None:
        finding = (
            f"{share(s.current.change_rate)} of the current window's {s.current.events} belief "
            f"events supersede or contradict a belief, against {share(s.reference.change_rate)} "
            f"of {s.reference.events} before (p = {s.p_value:.2g})."
        )
    else:
        finding = (
            f"{plural(len(found), 'self-model drift alert')} in the window ({found[0].message})."
        )
    references = (
        _alert_references(found)
        + [
            Reference(kind="user", id=u.user, note=f"{u.changes} changes")
            for u in s.changed_most
            if u.changes
        ][:REFERENCES_SHOWN]
    )
    return measured(
        key="self_model_drift",
        title="Self-model drift",
        status=status,
        finding=finding,
        figures=[
            Figure(name="change rate, reference", value=s.reference.change_rate, unit="share"),
            Figure(name="change rate, current", value=s.current.change_rate, unit="share"),
            Figure(name="p-value", value=s.p_value),
        ],
        thresholds={"drift_alpha": drift.alpha},
        references=references,
        plots=[
            Plot(
                title="Belief events that supersede or contradict a belief",
                kind="bars",
                x_label="window",
                y_label="share of belief events",
                x=["reference", "current"],
                series=[
                    Series(
                        name="change rate",
                        values=[s.reference.change_rate, s.current.change_rate],
                    )
                ],
            )
        ],
        action="Read what changed for the users listed (`selfmodel show USER --all`) and check the "
        "extractor's reading of their recent messages before trusting their models.",
    )


__all__ = ["KEY", "evaluation_drift"]
