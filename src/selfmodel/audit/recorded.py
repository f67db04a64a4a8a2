"""What the store recorded that the audit reads, read once: ``Recorded``.

Context calls are placed in the window by the moment they were asked as (a trace's ``now``, as
the drift check dates them); a user's history at a call is the observations that had happened
(``occurred_at``) by then. Storage growth counts rows by when selfmodel *recorded* them, against
the wall clock, since that is what fills the disk. Everything is read through the store's
interfaces, so both backends give the same audit; nothing is written.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from selfmodel.domain import (
    Alert,
    Belief,
    BeliefEvent,
    EvalRun,
    Experiment,
    Outcome,
    TraceRecord,
    User,
    Workspace,
)
from selfmodel.domain.audit import StorageFootprint
from selfmodel.domain.jobs import Job, JobStatus
from selfmodel.domain.retention import AuditRecord, RetentionPolicy
from selfmodel.domain.time import to_utc
from selfmodel.evaluation.monitor import asked_at, workspace_traces
from selfmodel.storage import BeliefFilter, Store

BELIEF = "belief"
# Kinds of row whose record times storage growth is counted from (the other tables grow with
# them: evidence and vectors with observations and beliefs, versions with events).
GROWTH_KINDS = ("observations", "beliefs", "belief_events", "traces", "outcomes")


@dataclass(frozen=True)
class Call:
    """One traced context call of the window."""

    trace: TraceRecord
    asked_at: datetime
    user: User | None  # the one user whose model it read (None: several at once)
    history: int | None  # that user's observations that had happened by then
    tokens: int
    budget: int | None
    full: bool  # no room was left for another of the block's lines

    @property
    def chosen(self) -> list[dict[str, object]]:
        return [c for c in self.trace.payload.get("chosen", []) if isinstance(c, dict)]


@dataclass(frozen=True)
class Recorded:
    """Everything the audit reads about one workspace, for the window [start, end)."""

    workspace: Workspace
    start: datetime
    end: datetime
    now: datetime  # the wall clock: storage is counted against it
    users: dict[str, User]
    calls: list[Call]
    observations: dict[str, int]  # per user id, all time
    beliefs: dict[str, Belief]  # every status
    events: list[BeliefEvent]
    evidence: dict[str, int]  # evidence rows per belief chosen in the window
    outcomes: list[Outcome]
    eval_runs: list[EvalRun]  # newest first
    alerts: list[Alert]
    experiments: list[Experiment]
    exposures: dict[str, int]  # per experiment id
    jobs: dict[JobStatus, int]
    unfinished: list[Job]
    dead: list[Job]
    footprint: StorageFootprint
    policy: RetentionPolicy
    deletions: list[AuditRecord]
    recorded_at: dict[str, list[datetime]] = field(default_factory=dict)  # GROWTH_KINDS
    peak_writes_per_s: float | None = None  # observations recorded in the busiest minute / 60

    def within(self, moment: datetime) -> bool:
        return self.start <= to_utc(moment) < self.end


def read_recorded(
    store: Store, workspace: Workspace, start: datetime, end: datetime, now: datetime
) -> Recorded:
    """Read the workspace's telemetry for the window [start, end)."""
    ws = workspace.id
    users = {u.id: u for u in store.list_users(ws)}
    said: dict[str, list[datetime]] = defaultdict(list)
    obs_recorded: list[datetime] = []
    for user_id in users:
        for o in store.list_observations(ws, [user_id]):
            said[user_id].append(to_utc(o.occurred_at))
            obs_recorded.append(to_utc(o.recorded_at))
    for moments in said.values():
        moments.sort()
    traces = workspace_traces(store, workspace, list(users.values()))
    calls = [_call(t, asked, users, said) for t in traces if start <= (asked := asked_at(t)) < end]
    calls.sort(key=lambda c: (c.asked_at, c.trace.id))
    beliefs = {b.id: b for b in store.list_beliefs(ws, BeliefFilter(tuple(users), statuses=()))}
    events = [e for user_id in users for e in store.list_events(ws, user_id=user_id)]
    chosen = sorted({str(c.get("id")) for call in calls for c in call.chosen if _is_belief(c)})
    evidence: dict[str, int] = dict.fromkeys(chosen, 0)
    for e in store.list_evidence(ws, chosen) if chosen else []:
        evidence[e.belief_id] += 1
    outcomes = [o for user_id in users for o in store.list_outcomes(ws, user_id)]
    experiments = store.list_experiments(ws)
    return Recorded(
        workspace=workspace,
        start=start,
        end=end,
        now=now,
        users=users,
        calls=calls,
        observations={user_id: len(said.get(user_id, [])) for user_id in users},
        beliefs=beliefs,
        events=events,
        evidence=evidence,
        outcomes=outcomes,
        eval_runs=store.list_eval_runs(ws),
        alerts=store.list_alerts(ws),
        experiments=experiments,
        exposures={x.id: len(store.list_exposures(ws, experiment_id=x.id)) for x in experiments},
        jobs=store.job_counts(ws),
        unfinished=store.list_jobs(ws, statuses=(JobStatus.QUEUED, JobStatus.RUNNING)),
        dead=store.list_jobs(ws, statuses=(JobStatus.DEAD,)),
        footprint=store.footprint(ws),
        policy=store.get_retention_policy(ws),
        deletions=store.list_audit(ws),
        recorded_at={
            "observations": obs_recorded,
            "beliefs": [to_utc(b.created_at) for b in beliefs.values()],
            "belief_events": [to_utc(e.at) for e in events],
            "traces": [to_utc(t.created_at) for t in traces],
            "outcomes": [to_utc(o.recorded_at) for o in outcomes],
        },
        peak_writes_per_s=_peak_per_second(obs_recorded),
    )


def _is_belief(item: dict[str, object]) -> bool:
    return item.get("item_type") == BELIEF


def _call(
    trace: TraceRecord, asked: datetime, users: dict[str, User], said: dict[str, list[datetime]]
) -> Call:
    one = users.get(trace.user_ids[0]) if len(trace.user_ids) == 1 else None
    history = bisect_right(said.get(one.id, []), asked) if one is not None else None
    tokens = int(trace.payload.get("tokens", 0) or 0)
    budget = trace.config.get("budget_tokens")
    lines = [
        int(c.get("tokens", 0) or 0) for c in trace.payload.get("chosen", []) if isinstance(c, dict)
    ]
    # Full: what is left of the budget would not hold even the smallest line the block holds
    # (each line costs its tokens and a newline, as the budget walk counts them).
    full = bool(lines) and isinstance(budget, int) and budget - tokens < min(lines) + 1
    return Call(
        trace=trace,
        asked_at=asked,
        user=one,
        history=history,
        tokens=tokens,
        budget=budget if isinstance(budget, int) else None,
        full=full,
    )


def _peak_per_second(moments: list[datetime]) -> float | None:
    """Observations recorded in the busiest minute, per second."""
    if not moments:
        return None
    per_minute: dict[datetime, int] = defaultdict(int)
    for moment in moments:
        per_minute[moment.replace(second=0, microsecond=0)] += 1
    return max(per_minute.values()) / 60.0


__all__ = ["BELIEF", "GROWTH_KINDS", "Call", "Recorded", "read_recorded"]
