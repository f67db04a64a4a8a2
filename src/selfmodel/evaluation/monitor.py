"""Drift in production, read from what the store already records (docs/evaluation.md, "Drift").

Two windows of time are compared: a reference window and the current one just after it.

- *Input drift*: the queries of the ``context`` traces asked in each window, re-embedded with the
  engine's embedder, by the MMD permutation test (``drift.mmd_test``).
- *Categorical shifts*: query lengths (word-count buckets) and the kinds of beliefs formed in
  each window, by PSI and chi-square (``drift.categorical_shift``).
- *Self-model drift*: the belief history. The share of events that supersede or contradict a
  belief, per window, tested for a rise (``drift.rate_shift``); the mean confidence change;
  per user the kinds gained or lost and the beliefs that moved; the users who changed most.
- *Quality drift*: the mean recall of each suite over its recorded runs (up to the end of the
  current window), by change-point detection (``quality.quality_series``).

Each drift found is a ``Finding`` (kind, key, message, details), from which ``alerts.py`` raises
or refreshes an alert record.

A trace is dated by the ``now`` it was asked as (its payload), which is the wall clock unless
the caller placed it in time; a belief event by the observation that caused it (``occurred_at``,
when the person said it), else by when it was recorded — so importing a year of history does not
look like a week of upheaval.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from selfmodel.domain import (
    AlertKind,
    Belief,
    BeliefEvent,
    BeliefEventType,
    TraceRecord,
    User,
    Workspace,
)
from selfmodel.domain.time import parse_timestamp, to_utc, utcnow
from selfmodel.embedding import Embedder
from selfmodel.errors import InvalidInputError
from selfmodel.evaluation.drift import (
    DEFAULT_ALPHA,
    DEFAULT_PERMUTATIONS,
    DEFAULT_SEED,
    CategoricalShift,
    TwoSampleTest,
    categorical_shift,
    mmd_test,
    rate_shift,
)
from selfmodel.evaluation.quality import QualitySeries, quality_series
from selfmodel.evaluation.thresholds import (
    DRIFT_CURRENT_DAYS,
    DRIFT_MAX_WINDOW_DAYS,
    DRIFT_MIN_QUERIES,
    DRIFT_REFERENCE_DAYS,
    PSI_SIGNIFICANT,
    QUALITY_ALPHA,
    QUALITY_MIN_RUNS,
)
from selfmodel.storage import BeliefFilter, Store

# The defaults and the reason for each: thresholds.py (and the settings, MonitoringSettings).
DEFAULT_CURRENT_DAYS = DRIFT_CURRENT_DAYS
DEFAULT_REFERENCE_DAYS = DRIFT_REFERENCE_DAYS
MIN_QUERIES = DRIFT_MIN_QUERIES
# Queries per window embedded and tested (a seeded random subset beyond it): the kernel matrix
# grows with the square of the sample, and 500 per window already detects small shifts.
MAX_QUERIES = 500
MAX_WINDOW_DAYS = DRIFT_MAX_WINDOW_DAYS
# Word-count buckets of a query: a keyword lookup, a short question, a sentence, a pasted text.
QUERY_LENGTH_BUCKETS = ((1, 3, "1-3"), (4, 7, "4-7"), (8, 15, "8-15"), (16, None, "16+"))
# Events that revise what the model said before (rather than add to or reinforce it).
CHANGES = frozenset({BeliefEventType.SUPERSEDED, BeliefEventType.CONTRADICTED})
# Events after which a belief no longer holds.
ENDINGS = frozenset(
    {
        BeliefEventType.SUPERSEDED,
        BeliefEventType.REJECTED,
        BeliefEventType.DECAYED,
        BeliefEventType.FORGOTTEN,
    }
)
# Events whose belief "moved" (listed under a user who changed).
MOVES = CHANGES | {BeliefEventType.WEAKENED, BeliefEventType.REJECTED, BeliefEventType.EDITED}
# How many of the users who changed most a report lists.
DEFAULT_USERS_SHOWN = 10


@dataclass(frozen=True)
class Window:
    """[start, end) in UTC."""

    start: datetime
    end: datetime

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class InputDrift:
    reference_queries: int
    current_queries: int
    statistic: float | None  # unbiased MMD²; None when not enough data
    p_value: float | None
    drifted: bool
    note: str | None = None


@dataclass(frozen=True)
class BeliefMove:
    belief_id: str
    statement: str
    kind: str
    event: str
    at: datetime
    confidence_before: float | None
    confidence_after: float | None


@dataclass(frozen=True)
class UserChange:
    """One user's self-model in the current window."""

    user: str  # the product's own id
    events: int
    changes: int  # supersessions and contradictions
    confidence_shift: float  # summed confidence change over the window's events
    kinds_gained: tuple[str, ...]
    kinds_lost: tuple[str, ...]
    moved: tuple[BeliefMove, ...]


@dataclass(frozen=True)
class WindowActivity:
    users: int  # users with at least one event
    events: int
    superseded: int
    contradicted: int
    change_rate: float | None  # (superseded + contradicted) / events
    mean_confidence_shift: float | None  # over events that carry both confidences


@dataclass(frozen=True)
class SelfModelDrift:
    reference: WindowActivity
    current: WindowActivity
    change_rate_rise: float | None  # current change rate − reference change rate
    p_value: float | None
    drifted: bool
    kinds_gained: dict[str, int]  # kind → users who gained it in the current window
    kinds_lost: dict[str, int]
    changed_most: tuple[UserChange, ...]
    note: str | None = None


@dataclass(frozen=True)
class Finding:
    """A drift found by a check: what an alert is raised from (``key`` says what drifted)."""

    kind: AlertKind
    key: str
    message: str
    details: dict[str, Any]
    # The message as an alert record keeps it, when the report's own names people: a stored
    # alert holds statistics and ids of runs only, so forgetting a user never has to look there.
    summary: str | None = None


@dataclass(frozen=True)
class DriftReport:
    """What moved between the reference window and the current one, and the alerts it raises."""

    workspace: str
    now: datetime
    reference: Window
    current: Window
    alpha: float
    input_drift: InputDrift
    categorical: tuple[CategoricalShift, ...]
    self_model: SelfModelDrift
    quality: tuple[QualitySeries, ...] = ()
    findings: tuple[Finding, ...] = field(default=())

    @property
    def alerts(self) -> tuple[str, ...]:
        """One line per drift found (each finding's message)."""
        return tuple(f.message for f in self.findings)

    @property
    def checked(self) -> frozenset[str]:
        """The keys this report could have found drifted: an open alert of such a key that the
        report does not find again has ended. A check without enough data decides nothing."""
        keys = {
            f"categorical:{shift.name}"
            for shift in self.categorical
            if sum(shift.reference_counts) and sum(shift.current_counts)
        }
        if self.input_drift.note is None:
            keys.add("input")
        if self.self_model.note is None:
            keys.add("self_model")
        keys |= {f"quality:{q.key}" for q in self.quality if q.note is None}
        return frozenset(keys)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (timestamps in ISO 8601)."""
        data: dict[str, Any] = _jsonable(asdict(self))
        data["alerts"] = list(self.alerts)
        return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def windows(now: datetime, *, reference_days: float, current_days: float) -> tuple[Window, Window]:
    """The reference window and the current one, which ends at ``now``.

    Raises:
        InvalidInputError: a window of no positive length.
    """
    for name, days in (("reference_days", reference_days), ("current_days", current_days)):
        if not isinstance(days, (int, float)) or not 0 < days <= MAX_WINDOW_DAYS:
            raise InvalidInputError(
                f"{name} must be a number of days in (0, {MAX_WINDOW_DAYS}]", field=name
            )
    now = to_utc(now)
    current = Window(now - timedelta(days=current_days), now)
    reference = Window(current.start - timedelta(days=reference_days), current.start)
    return reference, current


def query_length_bucket(query: str) -> str:
    words = len(query.split())
    for low, high, label in QUERY_LENGTH_BUCKETS:
        if words >= low and (high is None or words <= high):
            return label
    return QUERY_LENGTH_BUCKETS[0][2]  # an all-blank query cannot be traced; never reached


def drift_report(
    store: Store,
    workspace: Workspace,
    embedder: Embedder,
    *,
    now: datetime | None = None,
    reference_days: float = DEFAULT_REFERENCE_DAYS,
    current_days: float = DEFAULT_CURRENT_DAYS,
    alpha: float = DEFAULT_ALPHA,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = DEFAULT_SEED,
    users_shown: int = DEFAULT_USERS_SHOWN,
    psi_threshold: float = PSI_SIGNIFICANT,
    min_queries: int = MIN_QUERIES,
    quality_alpha: float = QUALITY_ALPHA,
    quality_min_runs: int = QUALITY_MIN_RUNS,
) -> DriftReport:
    """Compare the current window with the reference window, and look for change points in
    the eval scores of every suite recorded up to ``now``; read-only.

    A window with too little data gives a report that says so (``note``) and raises no alert
    for that part: a quiet week is not an error a cron job should fail on.

    Raises:
        InvalidInputError: a window of no positive length, or α outside (0, 1).
    """
    if not 0 < alpha < 1:
        raise InvalidInputError("alpha must be between 0 and 1", field="alpha")
    if permutations < 1:
        raise InvalidInputError("permutations must be positive", field="permutations")
    moment = to_utc(now) if now is not None else utcnow()
    reference, current = windows(moment, reference_days=reference_days, current_days=current_days)
    users = store.list_users(workspace.id)
    traces = workspace_traces(store, workspace, users)
    ref_queries = [t.query for t in traces if reference.holds(asked_at(t))]
    cur_queries = [t.query for t in traces if current.holds(asked_at(t))]
    input_drift = _input_drift(
        embedder,
        ref_queries,
        cur_queries,
        alpha=alpha,
        permutations=permutations,
        seed=seed,
        min_queries=max(min_queries, 2),
    )
    history = _BeliefHistory.read(store, workspace, users)
    categorical = (
        categorical_shift(
            "query length (words)",
            [query_length_bucket(q) for q in ref_queries],
            [query_length_bucket(q) for q in cur_queries],
            categories=[label for _, _, label in QUERY_LENGTH_BUCKETS],
            alpha=alpha,
            psi_threshold=psi_threshold,
        ),
        categorical_shift(
            "kind of belief formed",
            history.kinds_formed(reference),
            history.kinds_formed(current),
            alpha=alpha,
            psi_threshold=psi_threshold,
        ),
    )
    self_model = history.drift(reference, current, alpha=alpha, users_shown=users_shown)
    report = DriftReport(
        workspace=workspace.name,
        now=moment,
        reference=reference,
        current=current,
        alpha=alpha,
        input_drift=input_drift,
        categorical=categorical,
        self_model=self_model,
        quality=quality_series(
            [r for r in store.list_eval_runs(workspace.id) if to_utc(r.started_at) < moment],
            alpha=quality_alpha,
            min_runs=quality_min_runs,
            seed=seed,
        ),
    )
    return replace(report, findings=findings_of(report))


def findings_of(report: DriftReport) -> tuple[Finding, ...]:
    """One finding per drift the report found: what an alert is raised from."""
    found: list[Finding] = []
    d = report.input_drift
    if d.drifted:
        found.append(
            Finding(
                AlertKind.INPUT_DRIFT,
                "input",
                f"input drift: the current window's {d.current_queries} queries differ from the "
                f"reference window's {d.reference_queries} (MMD² {d.statistic:.4f}, "
                f"p = {d.p_value:.4f} < α = {report.alpha:g})",
                {**_jsonable(asdict(d)), **_windows(report)},
            )
        )
    for shift in report.categorical:
        if shift.drifted:
            found.append(
                Finding(
                    AlertKind.CATEGORICAL_SHIFT,
                    f"categorical:{shift.name}",
                    f"categorical shift in {shift.name}: PSI {shift.psi:.3f}, "
                    f"p = {shift.p_value:.2g} (reference "
                    f"{_counts(shift, shift.reference_counts)}; current "
                    f"{_counts(shift, shift.current_counts)})",
                    {**_jsonable(asdict(shift)), **_windows(report)},
                )
            )
    s = report.self_model
    if s.drifted:
        users = [u.user for u in s.changed_most if u.changes]
        head = (
            f"self-model drift: {s.current.change_rate:.0%} of the current window's belief "
            f"events supersede or contradict a belief, against {s.reference.change_rate:.0%} "
            f"before (p = {s.p_value:.2g})"
        )
        found.append(
            Finding(
                AlertKind.SELF_MODEL_DRIFT,
                "self_model",
                f"{head}; changed most: {', '.join(users) or 'none listed'}",
                {
                    "reference": _jsonable(asdict(s.reference)),
                    "current": _jsonable(asdict(s.current)),
                    "change_rate_rise": s.change_rate_rise,
                    "p_value": s.p_value,
                    "users_changed": len(users),
                    **_windows(report),
                },
                summary=f"{head}; {len(users)} users changed most (named by the drift report)",
            )
        )
    for series in report.quality:
        if series.drifted:
            last = series.changes[-1]
            found.append(
                Finding(
                    AlertKind.QUALITY_DRIFT,
                    f"quality:{series.key}",
                    f"quality drift: suite {series.suite} fell from mean recall@{series.k} "
                    f"{last.before_mean:.3f} to {last.after_mean:.3f} from run {last.run_id} "
                    f"on ({len(series.scores) - last.position} of {len(series.scores)} runs; "
                    f"Pettitt p = {last.p_value:.3g})",
                    {
                        "suite": series.suite,
                        "dataset_sha256": series.dataset_sha256,
                        "first_run_after": last.run_id,
                        "before_mean": last.before_mean,
                        "after_mean": last.after_mean,
                        "p_value": last.p_value,
                        "runs": len(series.scores),
                    },
                )
            )
    return tuple(found)


def _windows(report: DriftReport) -> dict[str, str]:
    return {
        "reference": f"{report.reference.start.isoformat()}/{report.reference.end.isoformat()}",
        "current": f"{report.current.start.isoformat()}/{report.current.end.isoformat()}",
    }


def _counts(shift: CategoricalShift, counts: Sequence[int]) -> str:
    return ", ".join(f"{c}: {n}" for c, n in zip(shift.categories, counts, strict=True) if n)


def window_queries(
    store: Store, workspace: Workspace, reference: Window, current: Window
) -> tuple[list[str], list[str]]:
    """The traced queries asked in each window (what the input drift test compares)."""
    traces = workspace_traces(store, workspace, store.list_users(workspace.id))
    return (
        [t.query for t in traces if reference.holds(asked_at(t))],
        [t.query for t in traces if current.holds(asked_at(t))],
    )


def workspace_traces(
    store: Store, workspace: Workspace, users: Sequence[User]
) -> list[TraceRecord]:
    """Every trace of the workspace once (a trace of several users is filed under each)."""
    seen: dict[str, TraceRecord] = {}
    for user in users:
        for trace in store.list_traces(workspace.id, user.id):
            seen.setdefault(trace.id, trace)
    return list(seen.values())


def asked_at(trace: TraceRecord) -> datetime:
    """The moment a trace's call was asked as: its ``now``, else when it was recorded."""
    stated = trace.payload.get("now")
    if isinstance(stated, str):
        return parse_timestamp(stated, field="now")
    return to_utc(trace.created_at)


def _input_drift(
    embedder: Embedder,
    reference: list[str],
    current: list[str],
    *,
    alpha: float,
    permutations: int,
    seed: int,
    min_queries: int,
) -> InputDrift:
    if len(reference) < min_queries or len(current) < min_queries:
        return InputDrift(
            reference_queries=len(reference),
            current_queries=len(current),
            statistic=None,
            p_value=None,
            drifted=False,
            note=f"not enough data: {len(reference)} reference and {len(current)} current "
            f"queries, at least {min_queries} each needed",
        )
    rng = np.random.default_rng(seed)
    sampled = [_at_most(rng, queries, MAX_QUERIES) for queries in (reference, current)]
    vectors = embedder.embed([*sampled[0], *sampled[1]])
    test: TwoSampleTest = mmd_test(
        vectors[: len(sampled[0])],
        vectors[len(sampled[0]) :],
        permutations=permutations,
        alpha=alpha,
        seed=seed,
    )
    return InputDrift(
        reference_queries=len(reference),
        current_queries=len(current),
        statistic=test.statistic,
        p_value=test.p_value,
        drifted=test.drifted,
    )


def _at_most(rng: np.random.Generator, items: list[str], limit: int) -> list[str]:
    if len(items) <= limit:
        return items
    return [items[i] for i in sorted(rng.choice(len(items), size=limit, replace=False))]


@dataclass(frozen=True)
class _DatedEvent:
    at: datetime
    user: User
    event: BeliefEvent
    belief: Belief | None  # None when the belief is gone (forgotten)


@dataclass
class _BeliefHistory:
    events: list[_DatedEvent]  # oldest first
    by_user: dict[str, list[_DatedEvent]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for d in self.events:
            self.by_user.setdefault(d.user.id, []).append(d)

    @classmethod
    def read(cls, store: Store, workspace: Workspace, users: Sequence[User]) -> _BeliefHistory:
        dated: list[_DatedEvent] = []
        for user in users:
            events = store.list_events(workspace.id, user_id=user.id)
            if not events:
                continue
            beliefs = {
                b.id: b
                for b in store.list_beliefs(workspace.id, BeliefFilter((user.id,), statuses=()))
            }
            causes = {e.observation_id for e in events if e.observation_id}
            said_at = {
                o.id: o.occurred_at for o in store.get_observations(workspace.id, list(causes))
            }
            for e in events:
                at = said_at.get(e.observation_id or "", e.at)
                dated.append(_DatedEvent(to_utc(at), user, e, beliefs.get(e.belief_id)))
        dated.sort(key=lambda d: d.at)
        return cls(dated)

    def within(self, window: Window) -> list[_DatedEvent]:
        return [d for d in self.events if window.holds(d.at)]

    def kinds_formed(self, window: Window) -> list[str]:
        return [
            d.belief.kind.value
            for d in self.within(window)
            if d.event.type is BeliefEventType.CREATED and d.belief is not None
        ]

    def kinds_held(self, user_id: str, before: datetime) -> set[str]:
        """The kinds of the user's beliefs that held just before ``before``, replayed."""
        alive: dict[str, str] = {}
        for d in self.by_user.get(user_id, []):
            if d.at >= before:
                break
            if d.belief is None:
                continue
            if d.event.type is BeliefEventType.CREATED:
                alive[d.belief.id] = d.belief.kind.value
            elif d.event.type in ENDINGS:
                alive.pop(d.belief.id, None)
        return set(alive.values())

    def drift(
        self, reference: Window, current: Window, *, alpha: float, users_shown: int
    ) -> SelfModelDrift:
        ref_events, cur_events = self.within(reference), self.within(current)
        ref, cur = _activity(ref_events), _activity(cur_events)
        per_user = self._user_changes(cur_events, current)
        gained: dict[str, int] = defaultdict(int)
        lost: dict[str, int] = defaultdict(int)
        for change in per_user:
            for kind in change.kinds_gained:
                gained[kind] += 1
            for kind in change.kinds_lost:
                lost[kind] += 1
        changed_most = tuple(
            sorted(
                (u for u in per_user if u.changes or u.kinds_lost or u.kinds_gained),
                key=lambda u: (-u.changes, -abs(u.confidence_shift), u.user),
            )[:users_shown]
        )
        note = None
        test = TwoSampleTest(statistic=0.0, p_value=1.0, drifted=False)
        if not ref.events or not cur.events:
            note = f"not enough data: {ref.events} reference and {cur.events} current belief events"
        else:
            test = rate_shift(
                ref.superseded + ref.contradicted,
                ref.events,
                cur.superseded + cur.contradicted,
                cur.events,
                alpha=alpha,
            )
        return SelfModelDrift(
            reference=ref,
            current=cur,
            change_rate_rise=None if note else test.statistic,
            p_value=None if note else test.p_value,
            drifted=test.drifted,
            kinds_gained=dict(sorted(gained.items())),
            kinds_lost=dict(sorted(lost.items())),
            changed_most=changed_most,
            note=note,
        )

    def _user_changes(self, events: list[_DatedEvent], window: Window) -> list[UserChange]:
        by_user: dict[str, list[_DatedEvent]] = defaultdict(list)
        for d in events:
            by_user[d.user.id].append(d)
        changes = []
        for user_id, own in by_user.items():
            before = self.kinds_held(user_id, window.start)
            after = self.kinds_held(user_id, window.end)
            changes.append(
                UserChange(
                    user=own[0].user.external_id,
                    events=len(own),
                    changes=sum(1 for d in own if d.event.type in CHANGES),
                    confidence_shift=sum(_shift(d.event) or 0.0 for d in own),
                    kinds_gained=tuple(sorted(after - before)),
                    kinds_lost=tuple(sorted(before - after)),
                    moved=tuple(_move(d) for d in own if d.event.type in MOVES),
                )
            )
        return changes


def _shift(event: BeliefEvent) -> float | None:
    if event.confidence_before is None or event.confidence_after is None:
        return None
    return event.confidence_after - event.confidence_before


def _move(d: _DatedEvent) -> BeliefMove:
    return BeliefMove(
        belief_id=d.event.belief_id,
        statement=d.belief.statement if d.belief else "(forgotten)",
        kind=d.belief.kind.value if d.belief else "",
        event=d.event.type.value,
        at=d.at,
        confidence_before=d.event.confidence_before,
        confidence_after=d.event.confidence_after,
    )


def _activity(events: list[_DatedEvent]) -> WindowActivity:
    superseded = sum(1 for d in events if d.event.type is BeliefEventType.SUPERSEDED)
    contradicted = sum(1 for d in events if d.event.type is BeliefEventType.CONTRADICTED)
    shifts = [s for d in events if (s := _shift(d.event)) is not None]
    return WindowActivity(
        users=len({d.user.id for d in events}),
        events=len(events),
        superseded=superseded,
        contradicted=contradicted,
        change_rate=(superseded + contradicted) / len(events) if events else None,
        mean_confidence_shift=float(np.mean(shifts)) if shifts else None,
    )
