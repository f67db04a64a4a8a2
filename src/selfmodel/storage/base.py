"""The storage interface. The engine talks only to this; SQLite and PostgreSQL implement it.

Every method is scoped by workspace (and user where rows belong to a user), so one workspace can
never see another's rows, and so the schema can be sharded by user. Writes that belong together
run inside ``with store.transaction():`` — all or nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from selfmodel.domain import (
    Belief,
    BeliefEvent,
    BeliefKind,
    BeliefStatus,
    Context,
    Evidence,
    Observation,
    User,
    Workspace,
)


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
class TraceRecord:
    """A stored ``context`` call: what was asked, considered, chosen, and under which config."""

    id: str
    workspace_id: str
    user_ids: tuple[str, ...]
    query: str
    created_at: Any  # datetime
    latency_ms: float
    config: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)  # candidates, chosen items, block


@dataclass(frozen=True)
class DeletedCounts:
    """How many rows ``delete_user`` removed, per table."""

    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


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

    # -- traces ----------------------------------------------------------------------------
    @abstractmethod
    def insert_trace(self, trace: TraceRecord) -> None: ...

    @abstractmethod
    def get_trace(self, workspace_id: str, trace_id: str) -> TraceRecord | None: ...

    # -- forgetting ------------------------------------------------------------------------
    @abstractmethod
    def delete_user(self, workspace_id: str, user_id: str) -> DeletedCounts:
        """Hard-delete every row about the user, and make sure the bytes are gone."""
