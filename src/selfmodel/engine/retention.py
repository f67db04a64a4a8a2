"""Retention: a workspace's policies, run on demand or by the worker, and the audit log.

Each deletion runs in one unit of work that holds the user: what the policy selects is read
again under the lock (so two workers, or a run and a new message, never half-delete), deleted,
checked (``remaining_*``: nothing of it left readable) and recorded in the audit log — all in
one transaction, so a deletion is never made without its record nor recorded without being made.
The audit log names users by a keyed hash of their id, never the id itself (docs/deployment.md).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta

from selfmodel.domain import DeletedCounts, JobStatus, User, Workspace, new_id
from selfmodel.domain.retention import (
    RETENTION_FIELDS,
    AuditAction,
    AuditRecord,
    Deletion,
    RetentionPolicy,
    RetentionReport,
)
from selfmodel.domain.time import to_utc, utcnow
from selfmodel.engine.base import Components, EngineBase, check_user_id
from selfmodel.errors import InvalidInputError, InvalidPolicyError, StorageError

# Hex digits of the HMAC-SHA256 kept as an audit subject: 128 bits, no collisions in practice.
SUBJECT_HEX_DIGITS = 32
MAX_AUDIT_PAGE = 1_000
# Jobs still to run over an observation: it stays until they have understood it.
UNFINISHED_JOBS = (JobStatus.QUEUED, JobStatus.RUNNING)

logger = logging.getLogger("selfmodel.retention")


def audit_subject(c: Components, workspace: Workspace, external_id: str) -> str:
    """How the audit log names a user: HMAC-SHA256 of their id under the workspace's audit key
    (made on first use).

    The operator can still answer "was this person deleted?" (hash the id they are asked about
    and look it up), but the log itself does not hold the id it records the deletion of.
    """
    key = c.store.audit_key(workspace.id, secrets.token_urlsafe(32))
    if key is None:  # a candidate was given, so one is stored: the store broke its contract
        raise StorageError(f"no audit key stored for workspace {workspace.name!r}")
    return _subject(key, external_id)


def _subject(key: str, external_id: str) -> str:
    digest = hmac.new(key.encode(), external_id.encode(), hashlib.sha256).hexdigest()
    return digest[:SUBJECT_HEX_DIGITS]


def forget_recorded(
    c: Components,
    workspace: Workspace,
    user: User,
    *,
    action: AuditAction = AuditAction.FORGET,
    policy: str | None = None,
) -> tuple[DeletedCounts, AuditRecord]:
    """Forget ``user`` in one unit of work: delete every row about them, check that none is
    left, and append the audit record. Returns the counts and the record."""
    with c.units.user(workspace.id, user.id):
        subject = audit_subject(c, workspace, user.external_id)
        counts = c.store.delete_user(workspace.id, user.id)
        left = c.store.remaining_of_user(workspace.id, user.id)
        record = _record(c, workspace, action, policy, subject, counts.counts, left)
    return counts, record


def _record(
    c: Components,
    workspace: Workspace,
    action: AuditAction,
    policy: str | None,
    subject: str | None,
    counts: Mapping[str, int],
    left: Mapping[str, int],
) -> AuditRecord:
    """Append the audit record of a deletion just made (inside its transaction). Its time is
    the wall clock's, even when a run is asked for "as of" another moment."""
    if left:
        # Kept, and recorded as unverified: the operator must see it, and rolling the deletion
        # back would keep more of what the policy (or the person) asked to delete.
        logger.error(
            "deletion left rows behind",
            extra={"workspace_id": workspace.id, "action": action.value, "left": dict(left)},
        )
    record = AuditRecord(
        id=new_id("aud"),
        workspace_id=workspace.id,
        at=utcnow(),
        action=action,
        policy=policy,
        subject=subject,
        counts={table: n for table, n in counts.items() if n},
        verified=not left,
    )
    c.store.append_audit(record)
    return record


def _reported(record: AuditRecord, user: User | None = None) -> Deletion:
    """A deletion made, as a run reports it to the operator (who may see the user's id)."""
    return Deletion(
        **record.model_dump(include={"action", "policy", "subject", "counts", "verified"}),
        user=user.external_id if user else None,
    )


def _label(field: str, days: int) -> str:
    return f"{field}={days}"


class Retention(EngineBase):
    """The workspace's retention policy, its runs, and the audit log of every deletion."""

    def retention_policy(self) -> RetentionPolicy:
        """This workspace's policy (null fields keep that data forever: the default)."""
        return self._c.store.get_retention_policy(self.workspace.id)

    def set_retention_policy(
        self, changes: RetentionPolicy | Mapping[str, object]
    ) -> RetentionPolicy:
        """Set this workspace's policy: a ``RetentionPolicy`` replaces it whole; a mapping
        changes the fields it names (``None``: keep forever) and leaves the others.

        Raises ``InvalidPolicyError`` for an unknown field or days outside 1..36500.
        """
        if isinstance(changes, RetentionPolicy):
            policy = changes
        elif isinstance(changes, Mapping):
            current = self.retention_policy().model_dump()
            policy = RetentionPolicy(**{**current, **dict(changes)})
        else:
            raise InvalidPolicyError("a retention policy is a mapping of field to days")
        return self._c.store.set_retention_policy(self.workspace.id, policy, utcnow())

    def run_retention(
        self, *, now: datetime | None = None, dry_run: bool = False
    ) -> RetentionReport:
        """Apply this workspace's policy as of ``now`` (default: the present).

        Inactive users are forgotten first (their observations go with them), then old
        observations, then old traces. ``dry_run`` deletes and records nothing and reports what
        the policy selects. Running again at once deletes nothing more: it is idempotent.
        """
        moment = to_utc(now) if now else utcnow()
        policy = self.retention_policy()
        deletions: list[Deletion] = []
        if policy.inactive_user_days is not None:
            deletions += self._forget_inactive(policy.inactive_user_days, moment, dry_run)
        if policy.observations_max_age_days is not None:
            deletions += self._expire_observations(
                policy.observations_max_age_days, moment, dry_run
            )
        if policy.traces_max_age_days is not None:
            deletions += self._expire_traces(policy.traces_max_age_days, moment, dry_run)
        return RetentionReport(
            workspace=self.workspace.name,
            as_of=moment,
            dry_run=dry_run,
            policy=policy,
            deletions=deletions,
        )

    def audit_log(
        self, *, user: str | None = None, after: str | None = None, limit: int | None = None
    ) -> list[AuditRecord]:
        """This workspace's audit records, oldest first: every deletion made by forget or by a
        retention policy. ``user``: only those about the user with this id (in your product),
        found by its hash; ``after``: records after this record id (pagination)."""
        if limit is not None and not 1 <= limit <= MAX_AUDIT_PAGE:
            raise InvalidInputError(f"limit must be between 1 and {MAX_AUDIT_PAGE}")
        subject = None
        if user is not None:
            check_user_id(user)
            # Reading makes no key: without one, no record names anyone.
            key = self._c.store.audit_key(self.workspace.id, None)
            if key is None:
                return []
            subject = _subject(key, user)
        return self._c.store.list_audit(
            self.workspace.id, subject=subject, after_id=after, limit=limit
        )

    # -- the three policies ------------------------------------------------------------------
    def _forget_inactive(self, days: int, now: datetime, dry_run: bool) -> list[Deletion]:
        store, ws = self._c.store, self.workspace
        label = _label("inactive_user_days", days)
        since = now - timedelta(days=days)
        done: list[Deletion] = []
        for user in store.inactive_users(ws.id, since):
            if dry_run:
                done.append(_planned(AuditAction.INACTIVE_USER, label, user, users=1))
                continue
            with self._c.units.user(ws.id, user.id):
                # Read again under the lock: the user may have come back (or gone) since.
                if not store.inactive_users(ws.id, since, user_id=user.id):
                    continue
                _, record = forget_recorded(
                    self._c, ws, user, action=AuditAction.INACTIVE_USER, policy=label
                )
            done.append(_reported(record, user))
        return done

    def _expire_observations(self, days: int, now: datetime, dry_run: bool) -> list[Deletion]:
        store, ws = self._c.store, self.workspace
        label = _label("observations_max_age_days", days)
        cutoff = now - timedelta(days=days)
        done: list[Deletion] = []
        for user_id in store.expired_observations(ws.id, cutoff):
            user = store.get_user_by_id(ws.id, user_id)
            if user is None:
                continue  # forgotten since the selection
            if dry_run:
                ids = self._expired_of(user, cutoff)
                if ids:
                    done.append(
                        _planned(AuditAction.OBSERVATIONS, label, user, observations=len(ids))
                    )
                continue
            with self._c.units.user(ws.id, user.id):
                # Selected again under the lock: a concurrent run may have deleted them.
                ids = self._expired_of(user, cutoff)
                if not ids:
                    continue
                subject = audit_subject(self._c, ws, user.external_id)
                counts = store.delete_observations(ws.id, user.id, ids).counts
                left = store.remaining_of_observations(ws.id, user.id, ids)
                record = _record(
                    self._c, ws, AuditAction.OBSERVATIONS, label, subject, counts, left
                )
            done.append(_reported(record, user))
        return done

    def _expired_of(self, user: User, cutoff: datetime) -> list[str]:
        """The user's observations recorded before ``cutoff`` that no unfinished job still has
        to understand (they go once their beliefs are made, at the next run)."""
        store, ws = self._c.store, self.workspace.id
        ids = store.expired_observations(ws, cutoff, user_id=user.id).get(user.id, [])
        pending = {
            observation_id
            for job in store.list_jobs(ws, user_id=user.id, statuses=UNFINISHED_JOBS)
            for observation_id in job.observation_ids
        }
        return [i for i in ids if i not in pending]

    def _expire_traces(self, days: int, now: datetime, dry_run: bool) -> list[Deletion]:
        store, ws = self._c.store, self.workspace
        label = _label("traces_max_age_days", days)
        cutoff = now - timedelta(days=days)
        expired = store.expired_traces(ws.id, cutoff)
        if not expired:
            return []
        if dry_run:
            return [_planned(AuditAction.TRACES, label, None, traces=len(expired))]
        with self._c.units.begin() as unit:
            # Traces are read through their users' warm indexes: hold each one they name.
            for user_id in sorted({u for users in expired.values() for u in users}):
                unit.hold(ws.id, user_id)
            expired = store.expired_traces(ws.id, cutoff)
            deleted = store.delete_traces(ws.id, list(expired))
            left = len(store.expired_traces(ws.id, cutoff))
            record = _record(
                self._c,
                ws,
                AuditAction.TRACES,
                label,
                None,
                {"traces": deleted},
                {"traces": left} if left else {},
            )
        return [_reported(record)]


def _planned(action: AuditAction, policy: str, user: User | None, **counts: int) -> Deletion:
    """A deletion a dry run reports: what the policy selects, nothing done, nothing checked."""
    return Deletion(
        action=action, policy=policy, user=user.external_id if user else None, counts=counts
    )


__all__ = ["RETENTION_FIELDS", "Retention", "audit_subject", "forget_recorded"]
