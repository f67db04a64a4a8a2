"""``RetentionStore``: retention policies, what they select, deleting it, and the audit log.

Deleting observations spans the tables of several concerns (evidence keeps its quote, vectors
and the traces quoting them go), as forgetting a user does; both backends implement it in
``sql.py`` beside ``delete_user``. The ``remaining_*`` methods are the checks made after a
deletion, inside its transaction: what is left of what was deleted (empty when nothing is).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from selfmodel.domain import DeletedCounts, User
from selfmodel.domain.audit import StorageFootprint
from selfmodel.domain.retention import AuditRecord, RetentionPolicy
from selfmodel.storage.database import Database


class RetentionStore(Database, Protocol):
    """How long each workspace keeps what it was told, and the record of what was deleted."""

    # -- policies and runs -----------------------------------------------------------------
    @abstractmethod
    def get_retention_policy(self, workspace_id: str) -> RetentionPolicy:
        """The workspace's policy (one that keeps everything when none was set)."""

    @abstractmethod
    def set_retention_policy(
        self, workspace_id: str, policy: RetentionPolicy, at: datetime
    ) -> RetentionPolicy: ...

    @abstractmethod
    def claim_retention_run(self, workspace_id: str, at: datetime, last_before: datetime) -> bool:
        """Record a retention run of the workspace starting ``at`` unless one started at or
        after ``last_before``; True when this caller should run it (one of many workers)."""

    @abstractmethod
    def footprint(self, workspace_id: str) -> StorageFootprint:
        """How big the database is, how many rows of each growing table are the workspace's
        and everyone's, and when the workspace's policy last ran (what ``selfmodel audit``
        projects storage from)."""

    # -- what a policy selects -------------------------------------------------------------
    @abstractmethod
    def expired_observations(
        self, workspace_id: str, recorded_before: datetime, *, user_id: str | None = None
    ) -> dict[str, list[str]]:
        """User id -> ids of their observations recorded before ``recorded_before``."""

    @abstractmethod
    def inactive_users(
        self, workspace_id: str, active_since: datetime, *, user_id: str | None = None
    ) -> list[User]:
        """Users (or the one user ``user_id``, if still so) created before ``active_since``
        with no activity since: no observation recorded, no belief changed, no context call
        reading them, no outcome recorded about them."""

    @abstractmethod
    def expired_traces(self, workspace_id: str, created_before: datetime) -> dict[str, list[str]]:
        """Trace id -> the users it read, for traces created before ``created_before``."""

    # -- deleting and checking -------------------------------------------------------------
    @abstractmethod
    def delete_observations(
        self, workspace_id: str, user_id: str, observation_ids: Sequence[str]
    ) -> DeletedCounts:
        """Hard-delete these observations of the user, their vectors and the traces quoting
        them; evidence pointing at them stays, keeping the words it quotes."""

    @abstractmethod
    def delete_traces(self, workspace_id: str, trace_ids: Sequence[str]) -> int: ...

    @abstractmethod
    def remaining_of_user(self, workspace_id: str, user_id: str) -> dict[str, int]:
        """Rows still about the user, per table (empty after a complete forget)."""

    @abstractmethod
    def remaining_of_observations(
        self, workspace_id: str, user_id: str, observation_ids: Sequence[str]
    ) -> dict[str, int]:
        """What is still readable of these observations, per table: the rows, their vectors,
        traces quoting them, evidence left without its quote (empty after a complete
        deletion)."""

    # -- the audit log ---------------------------------------------------------------------
    @abstractmethod
    def audit_key(self, workspace_id: str, candidate: str | None) -> str | None:
        """The workspace's key for hashing user ids in the audit log; stores ``candidate``
        first if there is none (the first one stored wins). With no candidate it only reads
        (None: the workspace has no key yet)."""

    @abstractmethod
    def append_audit(self, record: AuditRecord) -> None: ...

    @abstractmethod
    def list_audit(
        self,
        workspace_id: str,
        *,
        subject: str | None = None,
        after_id: str | None = None,
        limit: int | None = None,
    ) -> list[AuditRecord]:
        """The workspace's audit records, oldest first, after ``after_id`` if given."""
