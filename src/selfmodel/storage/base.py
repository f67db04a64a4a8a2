"""The storage interface. The engine talks only to this; SQLite and PostgreSQL implement it.

Every method is scoped by workspace (and user where rows belong to a user), so one workspace can
never see another's rows, and so the schema can be sharded by user. Writes that belong together
run inside ``with store.transaction():`` — all or nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from selfmodel.domain import (
    ApiKey,
    Belief,
    BeliefEvent,
    BeliefKind,
    BeliefStatus,
    Context,
    Evidence,
    IdempotencyRecord,
    Job,
    JobKind,
    JobStatus,
    MirrorLink,
    Observation,
    ResonancePrompt,
    User,
    Workspace,
)

# Records the engine returns, defined in the domain so the SDK needs no storage code; re-exported
# here (explicitly, `as`) for the code that has always imported them from storage.
from selfmodel.domain.records import DeletedCounts as DeletedCounts
from selfmodel.domain.records import TraceRecord as TraceRecord


@dataclass(frozen=True)
class BeliefFilter:
    """Which beliefs to list. Empty tuples mean "any"."""

    user_ids: tuple[str, ...]
    statuses: tuple[BeliefStatus, ...] = (BeliefStatus.ACTIVE,)
    kinds: tuple[BeliefKind, ...] = ()
    context_id: str | None = None  # when set: beliefs of that context plus global ones
    min_confidence: float | None = None
    limit: int | None = None


@dataclass(frozen=True)
class StoredVectors:
    """Embeddings of one item type for some users: ``ids[i]`` has vector ``matrix[i]``."""

    ids: list[str]
    matrix: np.ndarray  # float32, shape (len(ids), dim), L2-normalised


@dataclass(frozen=True)
class UserWatermark:
    """How far one user's rows have got: compared between calls to see whether anything changed.

    Counts catch inserts and deletions; the latest ``recorded_at`` / ``updated_at`` are where an
    incremental read resumes (``list_observations_since``, ``list_beliefs_changed_since``).
    """

    user_id: str
    observations: int = 0
    observations_recorded_at: datetime | None = None
    beliefs: int = 0
    beliefs_updated_at: datetime | None = None
    vectors: int = 0  # stored embeddings of the user's items, any type and model


class Store(ABC):
    """Persistence for workspaces, users, observations, beliefs, evidence, history and vectors."""

    # -- lifecycle -------------------------------------------------------------------------
    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """A unit of work: everything written inside commits together or not at all.

        Re-entrant: a nested ``transaction()`` joins the outer one.
        """

    @property
    @abstractmethod
    def schema_version(self) -> int: ...

    # -- workspaces, users, contexts -------------------------------------------------------
    @abstractmethod
    def get_or_create_workspace(self, name: str) -> Workspace: ...

    @abstractmethod
    def get_workspace(self, name: str) -> Workspace | None: ...

    @abstractmethod
    def list_workspaces(self) -> list[Workspace]: ...

    @abstractmethod
    def update_workspace_settings(
        self, workspace_id: str, settings: dict[str, Any]
    ) -> Workspace: ...

    @abstractmethod
    def get_or_create_user(self, workspace_id: str, external_id: str) -> User: ...

    @abstractmethod
    def get_user(self, workspace_id: str, external_id: str) -> User | None: ...

    @abstractmethod
    def set_display_name(self, workspace_id: str, user_id: str, name: str | None) -> User:
        """Set (or clear) how statements and blocks name the user."""

    @abstractmethod
    def get_user_by_id(self, workspace_id: str, user_id: str) -> User | None: ...

    @abstractmethod
    def list_users(self, workspace_id: str) -> list[User]: ...

    @abstractmethod
    def get_or_create_context(self, workspace_id: str, name: str) -> Context: ...

    @abstractmethod
    def get_context(self, workspace_id: str, name: str) -> Context | None: ...

    # -- observations ----------------------------------------------------------------------
    @abstractmethod
    def insert_observations(self, observations: Sequence[Observation]) -> list[Observation]:
        """Insert; an observation whose (user, external_id) exists is skipped. Returns the new."""

    @abstractmethod
    def existing_external_ids(
        self, workspace_id: str, user_id: str, external_ids: Sequence[str]
    ) -> set[str]:
        """Which of ``external_ids`` this user already has observations for."""

    @abstractmethod
    def get_observations(self, workspace_id: str, ids: Sequence[str]) -> list[Observation]: ...

    @abstractmethod
    def list_observations(
        self, workspace_id: str, user_ids: Sequence[str], *, limit: int | None = None
    ) -> list[Observation]:
        """Observations of these users, oldest first (by occurred_at, then id)."""

    @abstractmethod
    def list_observations_before(
        self, workspace_id: str, user_id: str, before: datetime, limit: int
    ) -> list[Observation]:
        """The user's last ``limit`` observations that happened before ``before``, oldest first
        (what was said just before new messages, to resolve what "it" and "that one" refer to)."""

    # -- beliefs, evidence, history --------------------------------------------------------
    @abstractmethod
    def insert_belief(self, belief: Belief) -> None: ...

    @abstractmethod
    def update_belief(self, belief: Belief) -> None: ...

    @abstractmethod
    def get_belief(self, workspace_id: str, belief_id: str) -> Belief | None: ...

    @abstractmethod
    def list_beliefs(self, workspace_id: str, where: BeliefFilter) -> list[Belief]:
        """Beliefs matching the filter, newest first."""

    @abstractmethod
    def add_evidence(self, workspace_id: str, user_id: str, evidence: Evidence) -> bool:
        """Link evidence; returns False (and changes nothing) if this exact link exists."""

    @abstractmethod
    def list_evidence(self, workspace_id: str, belief_ids: Sequence[str]) -> list[Evidence]: ...

    @abstractmethod
    def append_event(self, event: BeliefEvent) -> None: ...

    @abstractmethod
    def list_events(
        self, workspace_id: str, *, belief_id: str | None = None, user_id: str | None = None
    ) -> list[BeliefEvent]:
        """History, oldest first."""

    # -- vectors ---------------------------------------------------------------------------
    @abstractmethod
    def put_vectors(
        self,
        workspace_id: str,
        user_id: str,
        item_type: str,
        model: str,
        items: Sequence[tuple[str, np.ndarray]],
    ) -> None: ...

    @abstractmethod
    def get_vectors(
        self, workspace_id: str, user_ids: Sequence[str], item_type: str, model: str
    ) -> StoredVectors: ...

    @abstractmethod
    def get_vectors_by_id(
        self,
        workspace_id: str,
        user_ids: Sequence[str],
        item_type: str,
        model: str,
        ids: Sequence[str],
    ) -> StoredVectors:
        """Stored vectors of these items of these users (those that have one), in no order.

        The users bound the lookup to their own rows, so its cost does not grow with the store.
        """

    # -- change tracking (keeps warm retrieval indexes fresh across processes) -------------
    @abstractmethod
    def scope_watermark(
        self, workspace_id: str, user_ids: Sequence[str]
    ) -> tuple[UserWatermark, ...]:
        """One watermark per user (in ``user_ids`` order); cheap: read from indexes only."""

    @abstractmethod
    def list_observations_since(
        self, workspace_id: str, user_ids: Sequence[str], since: datetime | None
    ) -> list[Observation]:
        """Observations of these users recorded at or after ``since`` (all when None)."""

    @abstractmethod
    def list_beliefs_changed_since(
        self, workspace_id: str, user_ids: Sequence[str], since: datetime | None
    ) -> list[Belief]:
        """Beliefs of these users, any status, updated at or after ``since`` (all when None)."""

    # -- traces ----------------------------------------------------------------------------
    @abstractmethod
    def insert_trace(self, trace: TraceRecord) -> None: ...

    @abstractmethod
    def get_trace(self, workspace_id: str, trace_id: str) -> TraceRecord | None: ...

    # -- forgetting ------------------------------------------------------------------------
    @abstractmethod
    def delete_user(self, workspace_id: str, user_id: str) -> DeletedCounts:
        """Hard-delete every row about the user, and make sure the bytes are gone."""

    # -- the durable work queue (see docs/deployment.md) -----------------------------------
    @abstractmethod
    def lock_user(self, workspace_id: str, user_id: str) -> None:
        """Inside a transaction: hold the user until commit, so revisions of one user serialise."""

    @abstractmethod
    def enqueue_job(
        self,
        workspace_id: str,
        user_id: str,
        kind: JobKind,
        payload: dict[str, Any],
        *,
        max_attempts: int,
        run_after: datetime | None = None,
    ) -> Job:
        """Add a queued job (joins the caller's transaction, so it commits with the data)."""

    @abstractmethod
    def claim_jobs(
        self, worker_id: str, limit: int, lease_seconds: float, *, now: datetime | None = None
    ) -> list[Job]:
        """Lease up to ``limit`` runnable jobs to ``worker_id``; no two claimers get the same one.

        Runnable: queued with ``run_after`` due, or running with an expired lease (its worker
        died). An expired job that has used all its attempts is dead-lettered instead.
        """

    @abstractmethod
    def complete_job(self, job_id: str, worker_id: str, *, now: datetime | None = None) -> bool:
        """Mark done; False (and nothing changed) if ``worker_id`` no longer holds the lease."""

    @abstractmethod
    def fail_job(
        self, job_id: str, worker_id: str, error: str, *, now: datetime | None = None
    ) -> Job | None:
        """Record a failure: queued again after a backoff, or dead after ``max_attempts``.

        Returns the updated job, or None if ``worker_id`` no longer holds the lease.
        """

    @abstractmethod
    def get_job(self, job_id: str) -> Job | None: ...

    @abstractmethod
    def list_jobs(
        self,
        workspace_id: str | None = None,
        *,
        user_id: str | None = None,
        statuses: Sequence[JobStatus] = (),
        limit: int | None = None,
    ) -> list[Job]:
        """Jobs for inspection, oldest first. Empty ``statuses`` means any."""

    @abstractmethod
    def job_counts(self, workspace_id: str | None = None) -> dict[JobStatus, int]:
        """How many jobs are in each status (every status present, zero if none)."""

    def queue_depth(self, workspace_id: str | None = None) -> int:
        """Jobs not finished yet: queued plus running."""
        counts = self.job_counts(workspace_id)
        return counts[JobStatus.QUEUED] + counts[JobStatus.RUNNING]

    @abstractmethod
    def purge_jobs(self, finished_before: datetime) -> int:
        """Delete done jobs last updated before ``finished_before``; dead ones are kept."""

    # -- the Mirror (see docs/mirror.md) -----------------------------------------------------
    @abstractmethod
    def insert_mirror_link(self, link: MirrorLink) -> None: ...

    @abstractmethod
    def get_mirror_link(self, workspace_id: str, link_id: str) -> MirrorLink | None: ...

    @abstractmethod
    def revoke_mirror_links(
        self, workspace_id: str, user_id: str, at: datetime, *, link_id: str | None = None
    ) -> int:
        """Revoke one of the user's links (or all of them); returns how many were live."""

    @abstractmethod
    def mirror_secret(self, workspace_id: str, candidate: str) -> str:
        """The workspace's stored signing secret; stores ``candidate`` first if there is none.

        Concurrent first callers all get the same secret (the first one stored wins).
        """

    @abstractmethod
    def insert_prompts(self, prompts: Sequence[ResonancePrompt]) -> None: ...

    @abstractmethod
    def list_prompts(
        self, workspace_id: str, user_id: str, *, open_only: bool = False
    ) -> list[ResonancePrompt]:
        """The user's resonance cards, oldest first."""

    @abstractmethod
    def answer_prompt(self, prompt: ResonancePrompt) -> bool:
        """Record an answer on a still-open prompt; False (nothing changed) if already answered."""

    # -- API keys and idempotency keys (the HTTP server's) ---------------------------------
    @abstractmethod
    def insert_api_key(self, key: ApiKey, secret_hash: str) -> None: ...

    @abstractmethod
    def find_api_key(self, secret_hash: str) -> tuple[ApiKey, Workspace] | None:
        """The key with this hash and its workspace (revoked keys included: the caller checks)."""

    @abstractmethod
    def list_api_keys(self, workspace_id: str) -> list[ApiKey]:
        """The workspace's keys, oldest first."""

    @abstractmethod
    def revoke_api_key(self, workspace_id: str, key_id: str, at: datetime) -> ApiKey | None:
        """Revoke (idempotently: the first revocation time is kept); None if no such key."""

    @abstractmethod
    def touch_api_key(self, key_id: str, at: datetime) -> None:
        """Record that the key was used at ``at`` (a later use already stored is kept)."""

    @abstractmethod
    def reserve_idempotency_key(
        self, workspace_id: str, key: str, request_hash: str, *, expired_before: datetime
    ) -> IdempotencyRecord | None:
        """Claim ``key`` for a new request; returns the existing record instead if there is one.

        A record created before ``expired_before`` is dropped first and the key claimed afresh.
        """

    @abstractmethod
    def complete_idempotency_key(
        self, workspace_id: str, key: str, status_code: int, response: str
    ) -> None:
        """Store the answer to a reserved key, to be replayed for repeats."""

    @abstractmethod
    def release_idempotency_key(self, workspace_id: str, key: str) -> None:
        """Drop a reservation whose request failed, so the client may retry it."""
