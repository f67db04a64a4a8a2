"""``VectorStore``: embeddings, and what keeps warm retrieval indexes in step with the store.

Vectors are stored per user, item type (``"observation"``, ``"belief"``) and embedding model.
A warm index (``retrieval/freshness.py``) compares each user's revision between calls and, when
it moved, reads only the rows stamped after the revision it had — across processes sharing one
store.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from selfmodel.domain import Belief, BeliefStatus, Observation, User
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
class ChangedBeliefs:
    """A user's beliefs written after a revision (``list_beliefs_changed_since``), with what a
    warm index needs of them: their stored vectors and the messages supporting each."""

    beliefs: list[Belief]
    vectors: StoredVectors  # of the beliefs that have one, in ``beliefs`` order
    # Belief id → the observations its supporting evidence cites, in the order
    # ``list_evidence`` reads the links (oldest first).
    supporting: dict[str, list[str]]
    # The user's revision as the read saw it (None when it found no belief): equal to the
    # watermark a reader read before its reads, no write of the user's came in between.
    user_revision: int | None


@dataclass(frozen=True)
class UserWatermark:
    """Where one user's rows stand, read from the user's own row: compared between calls.

    Every write that holds the user moves ``revision`` and stamps what it writes with it, and
    writes of one user commit in revision order (each holds the user until it commits): the rows
    changed since an index read revision r are exactly those stamped after r
    (``list_observations_since``, ``list_beliefs_changed_since``), whatever the clocks said.
    Rows go only with the user (``revision`` -1) or by retention, which sets
    ``pruned_revision``: an index that read an earlier revision must be built again.
    """

    user_id: str
    revision: int = -1
    pruned_revision: int = 0


@dataclass(frozen=True)
class ContextStart:
    """What a context call starts from, in one read of the store."""

    # The users of the asked external ids that exist, each with their watermark, in no order.
    users: list[tuple[User, UserWatermark]]
    # Whether any experiment runs in the workspace (only then are they read and the user
    # assigned); read with the users, so False when none of them exists.
    experiments_running: bool


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
        *,
        new_items: bool = False,
    ) -> None:
        """Store ``(item_id, vector)`` pairs as float32; an item's earlier vector is replaced
        (and kept in the history).

        ``new_items``: the items were made in the caller's transaction, so none has a vector
        yet: nothing is replaced or kept (in a transaction on PostgreSQL the rows go with its
        next statement). A vector that is there after all fails that statement, or the commit,
        with the database driver's integrity error.
        """

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
        """Each user's revision (in ``user_ids`` order; -1 for a user that no longer exists)."""

    @abstractmethod
    def scope_watermark(
        self, workspace_id: str, user_ids: Sequence[str]
    ) -> tuple[UserWatermark, ...]:
        """One watermark per user (in ``user_ids`` order), from the users' rows alone: the one
        read a warm index makes on every call; only when it moved are rows read."""

    @abstractmethod
    def start_context(self, workspace_id: str, external_ids: Sequence[str]) -> ContextStart:
        """The users of these external ids with their watermarks, and whether any experiment
        runs: what a context call starts from, in one read."""

    @abstractmethod
    def list_observations_since(
        self, workspace_id: str, user_id: str, after_revision: int, model: str
    ) -> tuple[list[Observation], StoredVectors]:
        """The user's observations written after ``after_revision``, oldest first (by
        occurred_at, then id), and the stored ``model`` vectors of those that have one (in that
        order): what a warm index applies, in one read."""

    @abstractmethod
    def list_beliefs_with_vectors(
        self, workspace_id: str, user_id: str, statuses: Sequence[BeliefStatus], model: str
    ) -> tuple[list[Belief], StoredVectors]:
        """One user's beliefs of these statuses, newest first, and the stored ``model`` vectors
        of those that have one (in that order): what a revision pass starts from, in one read."""

    @abstractmethod
    def list_beliefs_changed_since(
        self, workspace_id: str, user_id: str, after_revision: int, model: str
    ) -> ChangedBeliefs:
        """The user's beliefs, any status, written after ``after_revision`` (created or changed:
        each write of a belief appends a version stamped with its revision), newest first, the
        stored ``model`` vectors of those that have one (in that order), the observations
        supporting each, and the user's revision as the read saw it."""
