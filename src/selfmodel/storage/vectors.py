"""``VectorStore``: embeddings, and what keeps warm retrieval indexes in step with the store.

Vectors are stored per user, item type (``"observation"``, ``"belief"``) and embedding model.
A warm index (``retrieval/freshness.py``) compares a cheap per-user watermark between calls and,
when it moved, reads only the rows changed since — across processes sharing one store.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np

from selfmodel.domain import Belief, BeliefStatus, Observation
from selfmodel.storage.database import Database

# What a stored vector embeds (``item_type``): an observation's text or a belief's statement.
OBSERVATION_VECTORS = "observation"
BELIEF_VECTORS = "belief"


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


class VectorStore(Database, Protocol):
    """Vectors of users' items, watermarks, and the incremental reads warm indexes resume from."""

    # -- vectors ---------------------------------------------------------------------------
    @abstractmethod
    def put_vectors(
        self,
        workspace_id: str,
        user_id: str,
        item_type: str,
        model: str,
        items: Sequence[tuple[str, np.ndarray]],
    ) -> None:
        """Store ``(item_id, vector)`` pairs as float32; an item's earlier vector is replaced."""

    @abstractmethod
    def get_vectors(
        self, workspace_id: str, user_ids: Sequence[str], item_type: str, model: str
    ) -> StoredVectors:
        """Every stored vector of this item type and model for these users, by item id."""

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

    @abstractmethod
    def vectors_as_of(
        self, workspace_id: str, user_id: str, item_type: str, model: str, revision: int
    ) -> StoredVectors:
        """The vectors the user's items of this type had at ``revision`` (a vector replaced
        since is read from its history), by item id."""

    # -- change tracking (keeps warm retrieval indexes fresh across processes) -------------
    @abstractmethod
    def user_revisions(self, workspace_id: str, user_ids: Sequence[str]) -> tuple[int, ...]:
        """Each user's revision (in ``user_ids`` order; -1 for a user that no longer exists).

        One row per user: the check a warm index makes on every call. Only when it moved does
        the index read ``scope_watermark`` and the rows changed since.
        """

    @abstractmethod
    def scope_watermark(
        self, workspace_id: str, user_ids: Sequence[str]
    ) -> tuple[UserWatermark, ...]:
        """One watermark per user (in ``user_ids`` order); cheap: read from indexes only."""

    @abstractmethod
    def list_observations_since(
        self, workspace_id: str, user_ids: Sequence[str], since: datetime | None
    ) -> list[Observation]:
        """Observations of these users recorded at or after ``since`` (all when None), oldest
        first (by occurred_at, then id)."""

    @abstractmethod
    def list_beliefs_with_vectors(
        self, workspace_id: str, user_id: str, statuses: Sequence[BeliefStatus], model: str
    ) -> tuple[list[Belief], StoredVectors]:
        """One user's beliefs of these statuses, newest first, and the stored ``model`` vectors
        of those that have one (in that order): what a revision pass starts from, in one read."""

    @abstractmethod
    def list_beliefs_changed_since(
        self, workspace_id: str, user_ids: Sequence[str], since: datetime | None
    ) -> list[Belief]:
        """Beliefs of these users, any status, updated at or after ``since`` (all when None),
        newest first."""
