"""Readiness: can this deployment keep understanding its users as it grows?

- **population**: users, observations and active beliefs per user (distributions), and whether
  any history is longer than what the scale benchmark measures;
- **backlog**: the queue now — jobs waiting and the age of the oldest, dead letters;
- **latency**: p50 and p95 of the window's context calls, per day;
- **storage**: the database's size, the workspace's share of it, rows recorded per month, the
  growth of the last 30 days projected to the horizon, against the disk's free space (SQLite);
- **SQLite**: whether the deployment has outgrown the embedded database (size, projected size,
  the peak rate of writes its single writer takes), and the PostgreSQL move it should make;
- **backups**: not recorded anywhere selfmodel can read, so never assumed: the command to run;
- **retention**: the workspace's policy, whether a worker applies it, and whether every deletion
  was verified.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from selfmodel.audit.context_decay import HISTORY_EDGES, history_bin, p95
from selfmodel.audit.grading import against, graded, measured, not_measured, plural, section, size
from selfmodel.audit.recorded import GROWTH_KINDS, Recorded
from selfmodel.config import AuditSettings
from selfmodel.domain import BeliefStatus
from selfmodel.domain.audit import AuditStatus, Check, Figure, Plot, Reference, Section, Series
from selfmodel.domain.retention import RETENTION_FIELDS
from selfmodel.domain.time import to_utc

KEY = "readiness"
GB = 1e9
DAYS_PER_MONTH = 30.0
MONTHS_SHOWN = 12
ERROR_SHOWN = 80  # characters of a dead job's last error a reference quotes
REFERENCES_SHOWN = 5
POSTGRES_MOVE = (
    "Plan the move to PostgreSQL (docs/deployment.md): point SELFMODEL_DB at a postgresql:// URL, "
    "run the API and `selfmodel worker` processes against it, and ingest the histories there."
)


def readiness(recorded: Recorded, settings: AuditSettings) -> Section:
    """The readiness section."""
    growth = _growth(recorded)
    return section(
        KEY,
        "Readiness to run at scale",
        "Can this deployment keep understanding its users as it grows?",
        [
            _population(recorded, settings),
            _backlog(recorded, settings),
            _latency(recorded, settings),
            _storage(recorded, settings, growth),
            _sqlite(recorded, settings, growth),
            _backup(recorded),
            _retention(recorded),
        ],
    )


def _spread(values: Sequence[int]) -> tuple[float, float, float]:
    return (
        float(np.percentile(values, 50)),
        float(np.percentile(values, 95)),
        float(max(values)),
    )


def _histogram(title: str, what: str, values: Sequence[int]) -> Plot:
    counts = Counter(history_bin(v) for v in values)
    labels = [history_bin(0)] + [history_bin(edge + 1) for edge in HISTORY_EDGES]
    shown = [label for label in labels if counts[label]]
    return Plot(
        title=title,
        kind="bars",
        x_label=what,
        y_label="users",
        x=shown,
        series=[Series(name="users", values=[float(counts[label]) for label in shown])],
    )


def _population(recorded: Recorded, settings: AuditSettings) -> Check:
    if not recorded.users:
        return not_measured(
            "population",
            "Users, observations and beliefs",
            "The workspace has no user yet.",
            "selfmodel ingest FILE",
        )
    observations = [recorded.observations.get(u, 0) for u in recorded.users]
    active: Counter[str] = Counter(
        b.user_id for b in recorded.beliefs.values() if b.status is BeliefStatus.ACTIVE
    )
    beliefs = [active.get(u, 0) for u in recorded.users]
    o50, o95, omax = _spread(observations)
    b50, b95, bmax = _spread(beliefs)
    limit = settings.audit_max_user_observations
    beyond = [u for u in recorded.users if recorded.observations.get(u, 0) > limit]
    status = AuditStatus.AT_RISK if beyond else AuditStatus.HEALTHY
    return measured(
        key="population",
        title="Users, observations and beliefs",
        status=status,
        finding=f"{plural(len(recorded.users), 'user')}; observations per user p50 {o50:.0f}, p95 "
        f"{o95:.0f}, max {omax:.0f}; active beliefs per user p50 {b50:.0f}, p95 {b95:.0f}, max "
        f"{bmax:.0f}"
        + (f"; {len(beyond)} users past the {limit} observations benchmarked." if beyond else "."),
        figures=[
            Figure(name="users", value=len(recorded.users)),
            Figure(name="observations", value=sum(observations)),
            Figure(name="observations per user, p95", value=o95),
            Figure(name="observations per user, max", value=omax),
            Figure(name="active beliefs per user, p50", value=b50),
            Figure(name="active beliefs per user, max", value=bmax),
        ],
        thresholds={"audit_max_user_observations": float(limit)},
        references=[
            Reference(kind="user", id=recorded.users[u].external_id, note="longest history")
            for u in beyond[:REFERENCES_SHOWN]
        ],
        plots=[
            _histogram("Observations per user", "observations", observations),
            _histogram("Active beliefs per user", "active beliefs", beliefs),
        ],
        action="Measure the longest histories' latency and memory on this machine (`selfmodel "
        "bench scale`) and set an observation retention for them.",
    )


def _backlog(recorded: Recorded, settings: AuditSettings) -> Check:
    waiting = recorded.unfinished
    oldest = min((to_utc(j.created_at) for j in waiting), default=None)
    age = (recorded.now - oldest).total_seconds() if oldest is not None else 0.0
    status, thresholds = against(settings, "backlog_age_s", age)
    if recorded.dead and status is AuditStatus.HEALTHY:
        status = AuditStatus.AT_RISK
    users = recorded.users
    return measured(
        key="backlog",
        title="Ingestion backlog and dead letters",
        status=status,
        finding=f"{plural(len(waiting), 'job')} waiting"
        + (f", the oldest for {age:.0f} s" if waiting else "")
        + f"; {plural(len(recorded.dead), 'dead letter')} (messages never understood).",
        figures=[
            Figure(name="jobs waiting", value=len(waiting)),
            Figure(name="oldest waiting", value=age, unit="s"),
            Figure(name="dead letters", value=len(recorded.dead)),
        ],
        thresholds=thresholds,
        references=[
            Reference(
                kind="job",
                id=j.id,
                note=f"dead, user {users[j.user_id].external_id if j.user_id in users else '?'}: "
                f"{(j.last_error or '')[:ERROR_SHOWN]}",
            )
            for j in recorded.dead[:REFERENCES_SHOWN]
        ],
        action="Run more workers (`selfmodel worker --concurrency N`) and read the dead letters' "
        "errors: their observations are stored but not part of anyone's model.",
    )


def _latency(recorded: Recorded, settings: AuditSettings) -> Check:
    calls = recorded.calls
    if not calls:
        return not_measured(
            "latency",
            "Latency of context calls",
            "No context call was traced in the window.",
            'selfmodel context USER "QUERY"',
        )
    latencies = [c.trace.latency_ms for c in calls]
    p50, p95_all = float(np.percentile(latencies, 50)), p95(latencies) or 0.0
    status, thresholds = against(settings, "context_p95_ms", p95_all)
    per_day: dict[str, list[float]] = defaultdict(list)
    for call in calls:
        per_day[f"{call.asked_at:%Y-%m-%d}"].append(call.trace.latency_ms)
    days = sorted(per_day)
    slowest = sorted(calls, key=lambda c: -c.trace.latency_ms)[:REFERENCES_SHOWN]
    return measured(
        key="latency",
        title="Latency of context calls",
        status=status,
        finding=f"{plural(len(calls), 'context call')}: p50 {p50:.0f} ms, p95 {p95_all:.0f} ms.",
        figures=[
            Figure(name="p50", value=p50, unit="ms"),
            Figure(name="p95", value=p95_all, unit="ms"),
            Figure(name="calls", value=len(calls)),
        ],
        thresholds=thresholds,
        references=[
            Reference(kind="trace", id=c.trace.id, note=f"{c.trace.latency_ms:.0f} ms")
            for c in slowest
        ],
        plots=[
            Plot(
                title="p95 latency of context calls, per day",
                x_label="day",
                y_label="ms",
                x=days,
                series=[Series(name="p95", values=[p95(per_day[d]) for d in days])],
            )
        ],
        action="Open the slowest traces (`selfmodel trace ID`); cold indexes after a restart and "
        "very long histories are the usual causes (`selfmodel bench scale`).",
    )


class _Growth:
    """Storage now and per month, and its projection to the horizon."""

    def __init__(self, recorded: Recorded) -> None:
        f = recorded.footprint
        mine, everyone = sum(f.workspace_rows.values()), sum(f.database_rows.values())
        self.workspace_bytes = f.database_bytes * mine / everyone if everyone else 0.0
        moments = [m for kind in GROWTH_KINDS for m in recorded.recorded_at.get(kind, [])]
        since = recorded.now - timedelta(days=DAYS_PER_MONTH)
        recent = sum(1 for m in moments if since <= m <= recorded.now)
        self.rows_last_month = recent
        # Other tables (evidence, vectors, versions) grow with the rows counted here, so the
        # workspace's bytes per counted row carry them along.
        self.bytes_per_month = self.workspace_bytes * recent / len(moments) if moments else 0.0
        self.months: dict[str, int] = Counter(f"{m:%Y-%m}" for m in moments)

    def projected(self, database_bytes: int, months: float) -> float:
        return database_bytes + self.bytes_per_month * months


def _growth(recorded: Recorded) -> _Growth:
    return _Growth(recorded)


def _month_labels(now: datetime, count: int) -> list[str]:
    labels = []
    year, month = now.year, now.month
    for _ in range(count):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return labels[::-1]


def _storage(recorded: Recorded, settings: AuditSettings, growth: _Growth) -> Check:
    f = recorded.footprint
    horizon = settings.audit_horizon_months
    projected = growth.projected(f.database_bytes, horizon)
    needed = growth.bytes_per_month * horizon
    if f.free_bytes is None:
        status = AuditStatus.HEALTHY
        disk = "the database server's free space is not visible from here"
    else:
        status = graded(needed, f.free_bytes / 2, float(f.free_bytes), higher_is_better=False)
        disk = f"{size(f.free_bytes)} free on its disk"
    months = _month_labels(recorded.now, MONTHS_SHOWN)
    steps = list(range(int(np.ceil(horizon)) + 1))
    return measured(
        key="storage",
        title="Storage growth and projection",
        status=status,
        finding=f"The database holds {size(f.database_bytes)} ({f.backend}), about "
        f"{size(growth.workspace_bytes)} of it this workspace's; the last 30 days added "
        f"{plural(growth.rows_last_month, 'row')}, about {size(growth.bytes_per_month)} a "
        f"month, so {size(projected)} in {horizon:g} months; {disk}.",
        figures=[
            Figure(name="database", value=f.database_bytes, unit="bytes"),
            Figure(name="this workspace (estimated)", value=growth.workspace_bytes, unit="bytes"),
            Figure(name="growth per month", value=growth.bytes_per_month, unit="bytes"),
            Figure(name=f"projected in {horizon:g} months", value=projected, unit="bytes"),
            Figure(name="free on disk", value=f.free_bytes, unit="bytes"),
        ],
        thresholds={"audit_horizon_months": horizon},
        plots=[
            Plot(
                title="Rows recorded per month (observations, beliefs, history, traces, outcomes)",
                kind="bars",
                x_label="month recorded",
                y_label="rows",
                x=months,
                series=[Series(name="rows", values=[float(growth.months[m]) for m in months])],
            ),
            Plot(
                title=f"Projected database size over {horizon:g} months (GB)",
                x_label="months from now",
                y_label="GB",
                x=[str(m) for m in steps],
                series=[
                    Series(
                        name="projected",
                        values=[growth.projected(f.database_bytes, m) / GB for m in steps],
                    )
                ],
            ),
        ],
        action="Free or add disk before the projection reaches it, or set a retention policy "
        "(`selfmodel retention set --traces-max-age-days 90`).",
    )


def _sqlite(recorded: Recorded, settings: AuditSettings, growth: _Growth) -> Check:
    f = recorded.footprint
    thresholds = {
        "audit_sqlite_max_gb": settings.audit_sqlite_max_gb,
        "audit_sqlite_writes_per_s": settings.audit_sqlite_writes_per_s,
    }
    if f.backend != "sqlite":
        return Check(
            key="sqlite",
            title="Has it outgrown SQLite?",
            status=AuditStatus.HEALTHY,
            finding=f"The deployment runs on {f.backend}: many API processes and workers can "
            "share it, and its tables are keyed by user for sharding (docs/deployment.md).",
            thresholds=thresholds,
        )
    gigabytes = f.database_bytes / GB
    projected_bytes = growth.projected(f.database_bytes, settings.audit_horizon_months)
    projected = projected_bytes / GB
    peak = recorded.peak_writes_per_s or 0.0
    limit, writes = settings.audit_sqlite_max_gb, settings.audit_sqlite_writes_per_s
    if gigabytes > limit or peak > writes:
        status = AuditStatus.FAILING
    elif projected > limit or peak > writes / 2:
        status = AuditStatus.AT_RISK
    else:
        status = AuditStatus.HEALTHY
    verdict = {
        AuditStatus.HEALTHY: "SQLite is enough for now",
        AuditStatus.AT_RISK: "it will outgrow SQLite within the horizon",
        AuditStatus.FAILING: "it has outgrown SQLite",
    }[status]
    return measured(
        key="sqlite",
        title="Has it outgrown SQLite?",
        status=status,
        finding=f"{verdict[:1].upper()}{verdict[1:]}: {size(f.database_bytes)} now, "
        f"{size(projected_bytes)} projected in {settings.audit_horizon_months:g} months (limit "
        f"{limit:g} GB); the "
        f"busiest minute wrote {peak:.1f} observations a second (limit {writes:g}).",
        figures=[
            Figure(name="size", value=gigabytes, unit="GB"),
            Figure(name="projected size", value=projected, unit="GB"),
            Figure(name="peak writes", value=peak, unit="observations/s"),
        ],
        thresholds=thresholds,
        action=POSTGRES_MOVE,
    )


def _backup(recorded: Recorded) -> Check:
    if recorded.footprint.backend == "sqlite":
        command = "selfmodel backup BACKUP.db"
    else:
        command = "pg_dump -Fc"  # or base backups with WAL archiving (docs/deployment.md)
    return not_measured(
        "backup",
        "Backups",
        "selfmodel does not record backups, so the audit cannot tell when the last one was "
        "made or whether it restores: run one on a schedule, keep the copies off this machine "
        "and restore one now and then.",
        command,
    )


def _retention(recorded: Recorded) -> Check:
    policy, f = recorded.policy, recorded.footprint
    days = {name: getattr(policy, name) for name in RETENTION_FIELDS}
    unverified = [r for r in recorded.deletions if not r.verified]
    set_ = ", ".join(f"{name} {value}" for name, value in days.items() if value is not None)
    last = f.retention_last_run_at
    if unverified:
        status = AuditStatus.FAILING
        finding = (
            f"{len(unverified)} of {len(recorded.deletions)} deletions were not verified: "
            "something of what was deleted can still be read."
        )
        action = "Read the unverified audit records (`selfmodel audit-log --json`) and run the "
        action += "deletion again; the error log names what was left."
    elif policy.keeps_everything:
        status = AuditStatus.AT_RISK
        finding = "No retention policy: observations, traces and inactive users are kept for ever."
        action = "Decide how long traces and raw messages are kept (`selfmodel retention set "
        action += "--traces-max-age-days 90`)."
    elif last is None:
        status = AuditStatus.AT_RISK
        finding = f"The policy ({set_}) has never been applied by a worker."
        action = "Run a worker (`selfmodel worker`, or `selfmodel serve` with its own) so the "
        action += "policy is applied hourly."
    else:
        status = AuditStatus.HEALTHY
        finding = (
            f"Policy {set_}; last applied {last:%Y-%m-%d %H:%M} UTC; "
            f"{plural(len(recorded.deletions), 'deletion')} recorded, all verified."
        )
        action = None
    return Check(
        key="retention",
        title="Retention",
        status=status,
        finding=finding,
        figures=[
            *(Figure(name=name, value=value, unit="days") for name, value in days.items()),
            Figure(name="deletions recorded", value=len(recorded.deletions)),
            Figure(name="deletions not verified", value=len(unverified)),
        ],
        references=[
            Reference(kind="audit_record", id=r.id, note=f"{r.action.value}, not verified")
            for r in unverified[:REFERENCES_SHOWN]
        ],
        next_action=action,
    )


__all__ = ["KEY", "readiness"]
