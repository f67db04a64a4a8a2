"""The joined report: what engineers watch beside what people did, on one page.

Engineering metrics come from the traces of ``context`` calls (latency, tokens of the block, its
specificity — ``evaluation/personalization.py``) and from recorded eval runs (mean recall);
outcomes are those tied to a traced call (``trace_id``), so each is attributed to the variant
and the day of the call it judges. Groups: the experiment variants the calls ran under, and two
segments of users — those the self-model covers (enough confident beliefs) and those it does
not. Per day, each engineering metric and each outcome; then Pearson's r of each pair over the
days both have (docs/experiments.md, "The joined report").
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta

import numpy as np
from scipy import stats

from selfmodel.domain import EvalRun, Outcome, Workspace
from selfmodel.domain.outcomes import VALUED_KINDS
from selfmodel.domain.personalization import DEFAULT_MIN_BELIEFS, DEFAULT_MIN_CONFIDENCE
from selfmodel.domain.report import (
    DEFAULT_REPORT_DAYS,
    ENGINEERING_METRICS,
    MAX_REPORT_DAYS,
    Correlation,
    DaySummary,
    GroupSummary,
    JoinedReport,
    OutcomeSummary,
)
from selfmodel.domain.time import to_utc, utcnow
from selfmodel.embedding import Embedder
from selfmodel.errors import InvalidInputError
from selfmodel.evaluation.personalization import (
    Block,
    blocks_between,
    coverage,
    specificities,
)
from selfmodel.storage import Store

# Fewer days than this and a correlation is not computed (r of two points is always ±1).
MIN_CORRELATION_DAYS = 3
COVERED, UNCOVERED = "covered users", "users below coverage"
OVERALL = "all calls"


def _label(outcome: Outcome) -> str:
    return f"metric:{outcome.name}" if outcome.name else outcome.kind.value


def _is_valued(label: str) -> bool:
    return label.startswith("metric:") or label in {k.value for k in VALUED_KINDS}


def joined_report(
    store: Store,
    workspace: Workspace,
    embedder: Embedder,
    *,
    now: datetime | None = None,
    days: float = DEFAULT_REPORT_DAYS,
) -> JoinedReport:
    """Engineering metrics beside outcomes over the ``days`` before ``now``."""
    if not (math.isfinite(days) and 0 < days <= MAX_REPORT_DAYS):
        raise InvalidInputError(f"days must be in (0, {MAX_REPORT_DAYS:g}]", field="days")
    end = to_utc(now) if now is not None else utcnow()
    start = end - timedelta(days=days)
    users = {u.id: u for u in store.list_users(workspace.id)}
    blocks = blocks_between(store, workspace.id, users, start, end)
    specific = specificities(blocks, embedder)
    tied: dict[str, list[Outcome]] = defaultdict(list)
    by_trace = {b.trace.id: b for b in blocks}
    for user_id in {b.user.id for b in blocks}:
        for outcome in store.list_outcomes(workspace.id, user_id):
            if outcome.trace_id in by_trace:
                tied[outcome.trace_id].append(outcome)
    labels = sorted({_label(o) for found in tied.values() for o in found})
    covered = coverage(
        store, workspace.id, blocks, DEFAULT_MIN_BELIEFS, DEFAULT_MIN_CONFIDENCE, end
    )
    below = {u.user for u in covered.below}

    def summary(name: str, members: Sequence[Block]) -> GroupSummary:
        return _summary(name, members, specific, tied, labels)

    variants: dict[str, list[Block]] = defaultdict(list)
    for block in blocks:
        variants[block.variant].append(block)
    segments = [
        summary(COVERED, [b for b in blocks if b.user.external_id not in below]),
        summary(UNCOVERED, [b for b in blocks if b.user.external_id in below]),
    ]
    runs = [r for r in store.list_eval_runs(workspace.id) if to_utc(r.finished_at) < end]
    daily = _daily(blocks, specific, tied, labels, runs, start, end)
    notes = []
    if not blocks:
        notes.append("no context call about one user in this window")
    if blocks and not labels:
        notes.append("no outcome names a traced context call (record_outcome(..., trace_id=…))")
    return JoinedReport(
        workspace=workspace.name,
        start=start,
        end=end,
        overall=summary(OVERALL, blocks),
        recall=runs[0].mean_recall if runs else None,
        recall_run=runs[0].id if runs else None,
        variants=[summary(name, members) for name, members in sorted(variants.items())],
        segments=[s for s in segments if s.traces],
        daily=daily,
        correlations=_correlations(daily, labels),
        notes=notes,
    )


def _mean(values: Iterable[float]) -> float | None:
    found = list(values)
    return float(np.mean(found)) if found else None


def _outcomes(
    members: Sequence[Block], tied: dict[str, list[Outcome]], labels: Sequence[str]
) -> dict[str, tuple[int, float | None]]:
    """Per outcome label: how many events, and the mean value or the events per call."""
    found: dict[str, tuple[int, float | None]] = {}
    for label in labels:
        events = [o for b in members for o in tied.get(b.trace.id, []) if _label(o) == label]
        if _is_valued(label):
            value = _mean(o.value for o in events if o.value is not None)
        else:
            value = len(events) / len(members) if members else None
        found[label] = (len(events), value)
    return found


def _summary(
    name: str,
    members: Sequence[Block],
    specific: dict[str, float],
    tied: dict[str, list[Outcome]],
    labels: Sequence[str],
) -> GroupSummary:
    latency = [b.trace.latency_ms for b in members]
    return GroupSummary(
        name=name,
        traces=len(members),
        users=len({b.user.id for b in members}),
        latency_ms_p50=float(np.percentile(latency, 50)) if latency else None,
        latency_ms_p95=float(np.percentile(latency, 95)) if latency else None,
        tokens=_mean(b.tokens for b in members),
        specificity=_mean(specific[b.trace.id] for b in members),
        outcomes=[
            OutcomeSummary(metric=label, events=n, value=value, per_call=not _is_valued(label))
            for label, (n, value) in _outcomes(members, tied, labels).items()
        ],
    )


def _daily(
    blocks: Sequence[Block],
    specific: dict[str, float],
    tied: dict[str, list[Outcome]],
    labels: Sequence[str],
    runs: Sequence[EvalRun],
    start: datetime,
    end: datetime,
) -> list[DaySummary]:
    by_day: dict[date, list[Block]] = defaultdict(list)
    for block in blocks:
        by_day[to_utc(block.trace.created_at).date()].append(block)
    recall_by_day: dict[date, list[float]] = defaultdict(list)
    for run in runs:
        finished = to_utc(run.finished_at)
        if start <= finished and run.mean_recall is not None:
            recall_by_day[finished.date()].append(run.mean_recall)
    found = []
    day = start.date()
    while day <= end.date():
        members = by_day.get(day, [])
        engineering: dict[str, float | None] = {
            "latency_ms": _mean(b.trace.latency_ms for b in members),
            "tokens": _mean(b.tokens for b in members),
            "specificity": _mean(specific[b.trace.id] for b in members),
            "recall": _mean(recall_by_day.get(day, [])),
        }
        outcomes = {label: value for label, (_, value) in _outcomes(members, tied, labels).items()}
        if not members:
            outcomes = dict.fromkeys(labels)
        found.append(
            DaySummary(day=day, traces=len(members), engineering=engineering, outcomes=outcomes)
        )
        day += timedelta(days=1)
    return found


def _correlations(daily: Sequence[DaySummary], labels: Sequence[str]) -> list[Correlation]:
    found = []
    for metric in ENGINEERING_METRICS:
        for label in labels:
            pairs = [
                (d.engineering[metric], d.outcomes[label])
                for d in daily
                if d.engineering.get(metric) is not None and d.outcomes.get(label) is not None
            ]
            x = np.array([p[0] for p in pairs], dtype=float)
            y = np.array([p[1] for p in pairs], dtype=float)
            r = p = None
            if len(pairs) >= MIN_CORRELATION_DAYS and x.std() > 0 and y.std() > 0:
                result = stats.pearsonr(x, y)
                r, p = float(result.statistic), float(result.pvalue)
            found.append(
                Correlation(engineering=metric, outcome=label, days=len(pairs), r=r, p_value=p)
            )
    return found


def series(
    daily: Sequence[DaySummary], pick: Callable[[DaySummary], float | None]
) -> list[float | None]:
    """One daily series of the report (for plots)."""
    return [pick(d) for d in daily]


__all__ = ["COVERED", "OVERALL", "UNCOVERED", "joined_report", "series"]
