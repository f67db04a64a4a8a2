"""``RetentionStore``: policies, what they select, deleting observations (evidence keeps its
quote), the checks after a deletion, and the audit log — the same on both backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np

from selfmodel.domain import Outcome, OutcomeKind, User, Workspace, new_id
from selfmodel.domain.retention import AuditAction, AuditRecord, RetentionPolicy
from selfmodel.domain.time import utcnow
from selfmodel.storage import Store
from tests.store_contract.records import belief, evidence, observation, trace


def audit(ws: Workspace, subject: str | None = None, **counts: int) -> AuditRecord:
    return AuditRecord(
        id=new_id("aud"),
        workspace_id=ws.id,
        at=utcnow(),
        action=AuditAction.FORGET,
        subject=subject,
        counts=counts or {"users": 1},
        verified=True,
    )


# -- policies and runs ---------------------------------------------------------------------------
def test_a_policy_keeps_everything_until_set_and_belongs_to_one_workspace(
    store: Store, ws: Workspace
) -> None:
    other = store.get_or_create_workspace("other")
    assert store.get_retention_policy(ws.id) == RetentionPolicy()
    wanted = RetentionPolicy(observations_max_age_days=30, inactive_user_days=365)
    assert store.set_retention_policy(ws.id, wanted, utcnow()) == wanted
    assert store.get_retention_policy(other.id) == RetentionPolicy()
    cleared = RetentionPolicy(traces_max_age_days=7)
    assert store.set_retention_policy(ws.id, cleared, utcnow()) == cleared


def test_one_retention_run_per_interval_is_claimed(store: Store, ws: Workspace) -> None:
    now = utcnow()
    assert not store.claim_retention_run(ws.id, now, now)  # no policy, nothing to run
    store.set_retention_policy(ws.id, RetentionPolicy(traces_max_age_days=1), now)
    assert store.claim_retention_run(ws.id, now, now - timedelta(hours=1))
    assert not store.claim_retention_run(ws.id, now, now - timedelta(hours=1))
    later = now + timedelta(hours=2)
    assert store.claim_retention_run(ws.id, later, later - timedelta(hours=1))


def test_the_footprint_counts_the_workspace_apart_from_the_database(
    store: Store, ws: Workspace, maya: User
) -> None:
    other = store.get_or_create_workspace("other")
    bob = store.get_or_create_user(other.id, "bob")
    store.insert_observations([observation(maya, "one"), observation(maya, "two")])
    store.insert_observations([observation(bob, "three")])
    store.insert_trace(trace(maya))
    before = store.footprint(ws.id)
    assert before.backend in {"sqlite", "postgresql"}
    assert before.database_bytes > 0
    assert before.workspace_rows["observations"] == 2
    assert before.database_rows["observations"] == 3
    assert before.workspace_rows["users"] == 1 and before.database_rows["users"] == 2
    assert (
        before.workspace_rows["traces"] == 1
        and store.footprint(other.id).workspace_rows["traces"] == 0
    )
    assert before.retention_last_run_at is None
    at = utcnow()
    store.set_retention_policy(ws.id, RetentionPolicy(traces_max_age_days=7), at)
    assert store.claim_retention_run(ws.id, at, at - timedelta(hours=1))
    assert store.footprint(ws.id).retention_last_run_at == at


# -- what policies select ------------------------------------------------------------------------
def test_observations_are_selected_by_when_they_were_recorded(
    store: Store, ws: Workspace, maya: User
) -> None:
    tom = store.get_or_create_user(ws.id, "tom")
    long_ago = utcnow() - timedelta(days=40)
    old, new = (
        observation(maya, "old", recorded_at=long_ago),
        observation(maya, "new"),
    )
    # Happened long ago, learnt today: an imported history is not deleted the day it arrives.
    imported = observation(tom, "imported", minutes=-60 * 24 * 400, recorded_at=utcnow())
    store.insert_observations([old, new, imported])
    cutoff = utcnow() - timedelta(days=30)
    assert store.expired_observations(ws.id, cutoff) == {maya.id: [old.id]}
    assert store.expired_observations(ws.id, cutoff, user_id=tom.id) == {}


def test_users_without_activity_since_a_moment_are_inactive(
    store: Store, ws: Workspace, maya: User
) -> None:
    tom = store.get_or_create_user(ws.id, "tom")
    ana = store.get_or_create_user(ws.id, "ana")
    since = utcnow() + timedelta(days=10)  # all three were created before
    store.insert_observations([observation(maya, "said today")])
    store.insert_observations([observation(tom, "said later", minutes=60 * 24 * 20)])
    store.insert_belief(belief(ana, "Ana likes tea", updated_at=since + timedelta(days=1)))
    assert [u.external_id for u in store.inactive_users(ws.id, since)] == ["maya"]
    assert store.inactive_users(ws.id, since, user_id=tom.id) == []
    assert store.inactive_users(ws.id, utcnow() - timedelta(days=1)) == []  # all are new


def test_traces_are_selected_by_age_with_the_users_they_read(
    store: Store, ws: Workspace, maya: User
) -> None:
    old = replace(trace(maya), created_at=utcnow() - timedelta(days=10))
    store.insert_trace(old)
    store.insert_trace(trace(maya))
    assert store.expired_traces(ws.id, utcnow() - timedelta(days=5)) == {old.id: [maya.id]}
    assert store.delete_traces(ws.id, [old.id]) == 1
    assert store.get_trace(ws.id, old.id) is None


# -- deleting observations and checking ----------------------------------------------------------
def test_deleting_observations_keeps_the_words_their_evidence_quotes(
    store: Store, ws: Workspace, maya: User
) -> None:
    spanned = observation(maya, "I love hiking. Also my PIN is 4321.")
    whole = observation(maya, "Tea, always tea.")
    quoted = observation(maya, "I keep bees.")
    kept = observation(maya, "I swim.")
    store.insert_observations([spanned, whole, quoted, kept])
    b = belief(maya, "Maya likes hiking")
    store.insert_belief(b)
    store.add_evidence(ws.id, maya.id, evidence(b.id, spanned.id, span_start=0, span_end=13))
    store.add_evidence(ws.id, maya.id, evidence(b.id, whole.id))
    store.add_evidence(ws.id, maya.id, evidence(b.id, quoted.id, quote="bees"))
    vector = np.ones(4, dtype=np.float32) / 2
    store.put_vectors(ws.id, maya.id, "observation", "m", [(spanned.id, vector), (kept.id, vector)])
    citing = replace(trace(maya), payload={"candidates": [{"id": spanned.id, "text": "PIN"}]})
    store.insert_trace(citing)
    store.insert_trace(trace(maya))
    gone = [spanned.id, whole.id, quoted.id]
    assert store.remaining_of_observations(ws.id, maya.id, gone) == {
        "observations": 3,
        "vectors": 1,
        "evidence_without_quote": 2,
        "traces": 1,
    }  # the check sees what is there

    counts = store.delete_observations(ws.id, maya.id, gone).counts

    assert counts == {"evidence_quoted": 2, "traces": 1, "vectors": 1, "observations": 3}
    assert store.remaining_of_observations(ws.id, maya.id, gone) == {}
    quotes = {e.observation_id: e.quote for e in store.list_evidence(ws.id, [b.id])}
    assert quotes == {spanned.id: "I love hiking", whole.id: "Tea, always tea.", quoted.id: "bees"}
    assert [o.id for o in store.list_observations(ws.id, [maya.id])] == [kept.id]
    assert store.get_vectors(ws.id, [maya.id], "observation", "m").ids == [kept.id]
    assert [t.id for t in store.list_traces(ws.id, maya.id)] != [citing.id]
    assert len(store.list_traces(ws.id, maya.id)) == 1


def test_after_forget_nothing_of_the_user_remains(store: Store, ws: Workspace, maya: User) -> None:
    store.insert_observations([observation(maya, "I keep bees.")])
    store.insert_trace(trace(maya))
    assert store.remaining_of_user(ws.id, maya.id) == {
        "trace_users": 1,
        "observations": 1,
        "users": 1,
    }
    store.delete_user(ws.id, maya.id)
    assert store.remaining_of_user(ws.id, maya.id) == {}


# -- the audit log ---------------------------------------------------------------------------
def test_the_audit_key_is_made_once_and_reading_makes_none(store: Store, ws: Workspace) -> None:
    assert store.audit_key(ws.id, None) is None
    first = store.audit_key(ws.id, "k" * 43)
    assert first == "k" * 43
    assert store.audit_key(ws.id, "other-candidate") == first
    assert store.audit_key(ws.id, None) == first


def test_audit_records_are_listed_oldest_first_per_workspace(store: Store, ws: Workspace) -> None:
    other = store.get_or_create_workspace("other")
    records = [audit(ws, "a1"), audit(ws, "b2", observations=3, vectors=3), audit(ws, "a1")]
    for record in records:
        store.append_audit(record)
    store.append_audit(audit(other, "a1"))
    assert store.list_audit(ws.id) == records
    assert store.list_audit(ws.id, subject="a1") == [records[0], records[2]]
    assert store.list_audit(ws.id, after_id=records[0].id, limit=1) == [records[1]]
    assert [r.workspace_id for r in store.list_audit(other.id)] == [other.id]


def test_an_outcome_recorded_since_the_moment_keeps_a_user_active(
    store: Store, ws: Workspace, maya: User
) -> None:
    tom = store.get_or_create_user(ws.id, "tom")
    since = utcnow() + timedelta(days=10)
    later = since + timedelta(days=1)
    returned = Outcome(
        id=new_id("out"),
        workspace_id=ws.id,
        user_id=tom.id,
        kind=OutcomeKind.RETURNED,
        value=11.0,
        occurred_at=later,
        recorded_at=later,
    )
    store.insert_outcome(returned)
    assert [u.external_id for u in store.inactive_users(ws.id, since)] == ["maya"]
    assert store.inactive_users(ws.id, since, user_id=tom.id) == []
