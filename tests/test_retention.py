"""Retention policies delete what they should, keep what they promise, and record it — on both
backends.

Data is aged by running the policy "as of" a later moment (``run_retention(now=…)``, the
worker's ``clock``), the way the rest of the suite reads confidence as of a moment. Each deletion
is proved the way forget is: the marker strings a test seeds are searched for in every byte of the
SQLite file and its WAL, or every row of every PostgreSQL table.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from selfmodel import SelfModel
from selfmodel.domain.retention import AuditAction, RetentionPolicy
from selfmodel.domain.time import utcnow
from selfmodel.errors import InvalidPolicyError
from selfmodel.worker import Worker
from tests.support.stored import location_of, stored_text

MARKER = "Quetzalcoatl-marmalade"
LIKES_HIKING = "I love hiking in the Alps."
SAYS_NOTHING_ABOUT_HER = f"{MARKER} was the password on the whiteboard."


def later(days: float) -> datetime:
    return utcnow() + timedelta(days=days)


def seed_maya(sm: SelfModel) -> str:
    """Maya's belief from one message, a marker only in another, and a trace quoting it; returns
    the belief's id."""
    sm.observe("maya", [LIKES_HIKING, SAYS_NOTHING_ABOUT_HER])
    sm.context("maya", "What was on the whiteboard?")
    (belief,) = sm.beliefs("maya")
    assert "hiking" in belief.statement and MARKER not in belief.statement
    assert MARKER.encode() in stored_text(location_of(sm))
    return belief.id


def test_old_observations_go_and_beliefs_keep_their_quoted_evidence(any_sm: SelfModel) -> None:
    belief_id = seed_maya(any_sm)
    any_sm.observe("tom", "I play chess.")
    any_sm.set_retention_policy({"observations_max_age_days": 30})

    assert any_sm.run_retention(now=later(29)).deletions == []  # nothing is old enough yet
    report = any_sm.run_retention(now=later(31))

    assert sorted(d.user for d in report.deletions) == ["maya", "tom"]
    assert all(d.verified for d in report.deletions)
    assert MARKER.encode() not in stored_text(location_of(any_sm))
    # The belief stays, and so does "why we think this": the words its evidence quotes.
    detail = any_sm.belief(belief_id)
    assert detail.belief.status.value == "active"
    assert [e.said for e in detail.evidence] == [LIKES_HIKING]
    assert detail.evidence[0].observation is None
    exported = any_sm.export("maya")
    assert exported["observations"] == [] and exported["traces"] == []
    assert [e["quote"] for e in exported["evidence"]] == [LIKES_HIKING]
    # Retrieval no longer returns the deleted moments; the self-model still answers.
    block = any_sm.context("maya", f"What was the password? {MARKER}")
    assert MARKER not in block.text and "hiking" in block.text


def test_the_mirror_still_shows_the_quoted_words_after_the_message_is_gone(
    any_sm: SelfModel,
) -> None:
    from selfmodel.mirror.views import belief_view

    belief_id = seed_maya(any_sm)
    any_sm.set_retention_policy({"observations_max_age_days": 1})
    any_sm.run_retention(now=later(2))
    view = belief_view(any_sm.belief(belief_id), ("The user", "the user", "maya"))
    assert [q.text for q in view.quotes] == [LIKES_HIKING]


def test_each_deletion_is_in_the_audit_log_without_text_or_user_id(any_sm: SelfModel) -> None:
    seed_maya(any_sm)
    any_sm.set_retention_policy({"observations_max_age_days": 30})
    any_sm.run_retention(now=later(31))

    (record,) = any_sm.audit_log()
    assert record.action is AuditAction.OBSERVATIONS
    assert record.policy == "observations_max_age_days=30"
    assert record.counts["observations"] == 2 and record.counts["vectors"] == 2
    assert record.counts["traces"] == 1 and record.verified
    assert record.subject and "maya" not in record.model_dump_json()
    assert any_sm.audit_log(user="maya") == [record]
    assert any_sm.audit_log(user="tom") == []


def test_running_again_deletes_and_records_nothing_more(any_sm: SelfModel) -> None:
    seed_maya(any_sm)
    any_sm.set_retention_policy({"observations_max_age_days": 30, "traces_max_age_days": 30})
    first = any_sm.run_retention(now=later(31))
    assert first.rows > 0
    again = any_sm.run_retention(now=later(31))
    assert again.deletions == [] and len(any_sm.audit_log()) == len(first.deletions)


def test_a_dry_run_deletes_nothing(any_sm: SelfModel) -> None:
    seed_maya(any_sm)
    any_sm.set_retention_policy(
        {"observations_max_age_days": 1, "inactive_user_days": 1, "traces_max_age_days": 1}
    )
    location = location_of(any_sm)
    before_bytes, before_export = stored_text(location), any_sm.export("maya")

    report = any_sm.run_retention(now=later(400), dry_run=True)

    assert report.dry_run and {d.action for d in report.deletions} == {
        AuditAction.INACTIVE_USER,
        AuditAction.OBSERVATIONS,
        AuditAction.TRACES,
    }
    assert all(d.verified is None for d in report.deletions)
    assert stored_text(location) == before_bytes
    after_export = any_sm.export("maya")
    before_export.pop("exported_at"), after_export.pop("exported_at")
    assert after_export == before_export
    assert any_sm.audit_log() == []


def test_observations_still_to_be_understood_are_kept_until_they_are(any_sm: SelfModel) -> None:
    queued = any_sm.observe("maya", LIKES_HIKING, wait=False)
    any_sm.set_retention_policy({"observations_max_age_days": 1})
    assert any_sm.run_retention(now=later(2)).deletions == []
    any_sm.process_jobs("w1")
    (belief,) = any_sm.beliefs("maya")  # understood from the kept message
    deleted = any_sm.run_retention(now=later(2)).deletions
    assert [d.counts["observations"] for d in deleted] == [len(queued.new_observation_ids)]
    assert [e.said for e in any_sm.belief(belief.id).evidence] == [LIKES_HIKING]


def test_inactive_users_are_forgotten_as_forget_does(any_sm: SelfModel) -> None:
    seed_maya(any_sm)
    user_id = any_sm.user("maya").id
    any_sm.set_retention_policy({"inactive_user_days": 365})
    assert any_sm.run_retention(now=later(300)).deletions == []  # active within the year

    report = any_sm.run_retention(now=later(366))

    (deleted,) = report.deletions
    assert deleted.action is AuditAction.INACTIVE_USER and deleted.verified
    assert deleted.user == "maya" and deleted.counts["users"] == 1
    assert any_sm.users() == []
    location = location_of(any_sm)
    stored = stored_text(location)
    assert MARKER.encode() not in stored and b"hiking" not in stored
    assert user_id.encode() not in stored and b"maya" not in stored
    (record,) = any_sm.audit_log(user="maya")  # the record outlives the user it records
    assert record.policy == "inactive_user_days=365"


def test_forget_is_recorded_and_the_record_survives_it(any_sm: SelfModel) -> None:
    seed_maya(any_sm)
    counts = any_sm.forget("maya")
    (record,) = any_sm.audit_log()
    assert record.action is AuditAction.FORGET and record.policy is None and record.verified
    assert record.counts == {k: v for k, v in counts.counts.items() if v}
    assert any_sm.audit_log(user="maya") == [record]
    assert b"maya" not in stored_text(location_of(any_sm))


def test_old_traces_go_with_the_traces_policy(any_sm: SelfModel) -> None:
    any_sm.observe("maya", LIKES_HIKING)
    trace_id = any_sm.context("maya", f"Where does she hike? {MARKER}").trace_id
    any_sm.set_retention_policy({"traces_max_age_days": 7})
    (deleted,) = any_sm.run_retention(now=later(8)).deletions
    assert deleted.action is AuditAction.TRACES and deleted.counts == {"traces": 1}
    assert any_sm.export("maya")["traces"] == []
    assert MARKER.encode() not in stored_text(location_of(any_sm))
    assert any_sm.audit_log()[0].subject is None  # no one user is meant
    assert trace_id not in json.dumps(any_sm.export("maya"))


def test_the_worker_applies_each_workspace_policy_once_per_interval(any_sm: SelfModel) -> None:
    seed_maya(any_sm)
    other = any_sm.in_workspace("other")
    other.observe("tom", "I play chess.")  # no policy there: kept
    any_sm.set_retention_policy({"observations_max_age_days": 30})
    month_on = utcnow() + timedelta(days=31)

    Worker(any_sm, clock=lambda: month_on).run(until_idle=True)
    assert any_sm.export("maya")["observations"] == []
    assert len(other.export("tom")["observations"]) == 1
    assert [r.action for r in any_sm.audit_log()] == [AuditAction.OBSERVATIONS]

    # Another worker within the interval finds the run claimed; later, it runs (nothing left).
    any_sm.observe("maya", "I swim on Sundays.")
    assert Worker(any_sm, clock=lambda: month_on).run_retention() == 0
    two_months_on = month_on + timedelta(days=31)
    assert Worker(any_sm, clock=lambda: two_months_on).run_retention() > 0


def test_policy_values_out_of_bounds_are_refused_with_a_typed_error(any_sm: SelfModel) -> None:
    for bad in ({"observations_max_age_days": 0}, {"inactive_user_days": -3}):
        with pytest.raises(InvalidPolicyError):
            any_sm.set_retention_policy(bad)
    for bad in ({"traces_max_age_days": 36_501}, {"observations_max_age_days": True}):
        with pytest.raises(InvalidPolicyError):
            any_sm.set_retention_policy(bad)
    with pytest.raises(InvalidPolicyError, match="unknown retention policy field 'days'"):
        any_sm.set_retention_policy({"days": 3})
    with pytest.raises(InvalidPolicyError):
        any_sm.set_retention_policy({"observations_max_age_days": "30"})
    assert any_sm.retention_policy() == RetentionPolicy()  # nothing was stored


def test_a_policy_changes_field_by_field_and_is_per_workspace(any_sm: SelfModel) -> None:
    any_sm.set_retention_policy({"observations_max_age_days": 30, "inactive_user_days": 365})
    changed = any_sm.set_retention_policy({"inactive_user_days": None})
    assert changed == RetentionPolicy(observations_max_age_days=30)
    assert any_sm.set_retention_policy(RetentionPolicy()) == RetentionPolicy()  # whole
    any_sm.set_retention_policy({"traces_max_age_days": 7})
    assert any_sm.in_workspace("other").retention_policy() == RetentionPolicy()
