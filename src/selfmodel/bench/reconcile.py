"""Reconciliation: does the store hold exactly what a client was told it holds?

A client that sent observations with its own message ids, was given job ids for queued work and
forgot some users keeps a ``Ledger``; ``reconcile`` reads the store and counts every way it can
disagree: an observation lost or stored twice, a queued job not finished (or dead-lettered), a
forgotten user with rows left, an evidence link to an observation that is gone, an observation
counted twice as evidence for one belief (or its event recorded twice), support counted by
occasion but off from the evidence, two active copies of one belief. A replayed job or a
half-done one shows up here; a clean run reports zeros.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from selfmodel.domain import BeliefStatus, EvidenceStance, JobStatus
from selfmodel.storage import BeliefFilter, Store

ALL_STATUSES = tuple(BeliefStatus)
MAX_EXAMPLES = 10  # disagreements described in words; the counts cover them all


@dataclass
class Ledger:
    """What the client was told: the ground truth a reconciliation checks the store against."""

    # Live user (external id) → message ids the server acknowledged storing (new or duplicate).
    sent: dict[str, set[str]] = field(default_factory=dict)
    # Message ids whose request failed: they may or may not be stored, but at most once.
    uncertain: dict[str, set[str]] = field(default_factory=dict)
    # External id → internal id, of every user the client wrote to.
    user_ids: dict[str, str] = field(default_factory=dict)
    forgotten: set[str] = field(default_factory=set)
    # Job id → external id of its user: work the server queued for an observe call.
    jobs: dict[str, str] = field(default_factory=dict)

    def observed(self, user: str, user_id: str, ids: list[str], job_id: str | None) -> None:
        self.user_ids[user] = user_id
        self.sent.setdefault(user, set()).update(ids)
        if job_id is not None:
            self.jobs[job_id] = user

    def failed(self, user: str, ids: list[str]) -> None:
        self.uncertain.setdefault(user, set()).update(ids)

    def forget(self, user: str) -> None:
        self.forgotten.add(user)
        self.sent.pop(user, None)
        self.uncertain.pop(user, None)


@dataclass
class Reconciliation:
    """Disagreements between a ledger and the store, by kind; all zero when nothing diverged."""

    lost_observations: int = 0
    duplicated_observations: int = 0
    unfinished_jobs: int = 0
    forget_leftovers: int = 0
    dangling_evidence: int = 0
    duplicated_evidence: int = 0
    duplicated_events: int = 0
    miscounted_support: int = 0
    duplicated_beliefs: int = 0
    examples: list[str] = field(default_factory=list)  # the first few, to say what diverged

    @property
    def lost(self) -> int:
        """Things the client was promised that are not (all) there."""
        return self.lost_observations + self.unfinished_jobs + self.dangling_evidence

    @property
    def duplicated(self) -> int:
        """Things there more often than they happened."""
        return (
            self.duplicated_observations
            + self.duplicated_evidence
            + self.duplicated_events
            + self.miscounted_support
            + self.duplicated_beliefs
        )

    @property
    def clean(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.forget_leftovers == 0

    def count(self, kind: str, n: int, example: str) -> None:
        if n <= 0:
            return
        setattr(self, kind, getattr(self, kind) + n)
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"{kind}: {example}")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "lost": self.lost, "duplicated": self.duplicated}


def reconcile(store: Store, workspace_id: str, ledger: Ledger) -> Reconciliation:
    """Compare ``store`` with what ``ledger`` says the client was told (read-only)."""
    found = Reconciliation()
    for user in ledger.forgotten:
        _check_forgotten(store, workspace_id, ledger, user, found)
    for user in ledger.sent:
        _check_observations(store, workspace_id, ledger, user, found)
    for job_id, user in ledger.jobs.items():
        if user in ledger.forgotten:
            continue  # its jobs are gone with it: _check_forgotten counts any left
        job = store.get_job(job_id)
        if job is None or job.status != JobStatus.DONE:
            status = job.status.value if job else "missing"
            found.count("unfinished_jobs", 1, f"job {job_id} of {user}: {status}")
    for user in ledger.sent:
        _check_self_model(store, workspace_id, ledger.user_ids[user], user, found)
    return found


def _check_forgotten(
    store: Store, ws: str, ledger: Ledger, user: str, found: Reconciliation
) -> None:
    left = []
    if store.get_user(ws, user) is not None:
        left.append("user")
    user_id = ledger.user_ids.get(user)
    if user_id is not None:
        left += ["observation"] * len(store.list_observations(ws, [user_id]))
        left += ["belief"] * len(
            store.list_beliefs(ws, BeliefFilter(user_ids=(user_id,), statuses=ALL_STATUSES))
        )
        left += ["event"] * len(store.list_events(ws, user_id=user_id))
        left += ["job"] * len(store.list_jobs(ws, user_id=user_id))
    found.count("forget_leftovers", len(left), f"{user}: {', '.join(sorted(set(left)))}")


def _check_observations(
    store: Store, ws: str, ledger: Ledger, user: str, found: Reconciliation
) -> None:
    user_id = ledger.user_ids[user]
    stored = Counter(o.external_id for o in store.list_observations(ws, [user_id]))
    for message_id, n in stored.items():
        found.count("duplicated_observations", n - 1, f"{user}: message {message_id} ×{n}")
    missing = ledger.sent[user] - set(stored)
    found.count("lost_observations", len(missing), f"{user}: {sorted(missing)[:3]}")


def _check_self_model(
    store: Store, ws: str, user_id: str, user: str, found: Reconciliation
) -> None:
    observations = {o.id: o for o in store.list_observations(ws, [user_id])}
    beliefs = store.list_beliefs(ws, BeliefFilter(user_ids=(user_id,), statuses=ALL_STATUSES))
    links = store.list_evidence(ws, [b.id for b in beliefs])
    dangling = [e for e in links if e.observation_id not in observations]
    found.count("dangling_evidence", len(dangling), f"{user}: {len(dangling)} link(s)")
    per_pair = Counter((e.belief_id, e.observation_id) for e in links)
    twice = sum(n - 1 for n in per_pair.values())
    found.count("duplicated_evidence", twice, f"{user}: an observation linked twice to a belief")
    events = Counter(
        (e.belief_id, e.observation_id, e.type)
        for e in store.list_events(ws, user_id=user_id)
        if e.observation_id is not None
    )
    repeated = sum(n - 1 for n in events.values())
    found.count("duplicated_events", repeated, f"{user}: one observation's event recorded twice")
    for belief in beliefs:
        if belief.status == BeliefStatus.REJECTED:
            continue  # it files what supports it without counting it: the user said "not me"
        # Support is counted by occasion: the distinct days of the supporting observations.
        days = {
            observations[e.observation_id].occurred_at.date()
            for e in links
            if e.belief_id == belief.id
            and e.stance == EvidenceStance.SUPPORTS
            and e.observation_id in observations
        }
        off = belief.support_count != len(days)
        found.count(
            "miscounted_support",
            int(off),
            f"{user}: {belief.statement!r} support {belief.support_count}, {len(days)} day(s)",
        )
    active = Counter(b.statement for b in beliefs if b.status == BeliefStatus.ACTIVE)
    for statement, n in active.items():
        found.count("duplicated_beliefs", n - 1, f"{user}: {statement!r} active ×{n}")


__all__ = ["Ledger", "Reconciliation", "reconcile"]
