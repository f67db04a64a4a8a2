"""``ModelStore``: the self-model's rows — users, areas, observations, beliefs, evidence,
belief events.

Every method is scoped by workspace (and user where rows belong to a user), so one workspace can
never see another's rows, and so the rows can be sharded by user. Revisions of one user
serialise on ``lock_user`` inside a transaction (the engine's unit of work takes it).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from selfmodel.domain import (
    Area,
    Belief,
    BeliefEvent,
    BeliefKind,
    BeliefStatus,
    DeletedCounts,
    Evidence,
    Observation,
    User,
)
from selfmodel.storage.database import Database


@dataclass(frozen=True)
class BeliefFilter:
    """Which beliefs to list. Empty tuples mean "any"."""

    user_ids: tuple[str, ...]
    statuses: tuple[BeliefStatus, ...] = (BeliefStatus.ACTIVE,)
    kinds: tuple[BeliefKind, ...] = ()
    context_id: str | None = None  # when set: beliefs of that area plus global ones
    min_confidence: float | None = None
    limit: int | None = None


@dataclass(frozen=True)
class AsOf:
    """A moment of the store's own record (record time, not the user's world).

    ``revisions`` (user id → revision) is exact: every write that holds a user moves their
    revision and stamps what it writes with it, so the rows of revision ≤ r are precisely what a
    reader saw when it read revision r (what a trace records). ``recorded_at`` reads what had
    been written by that wall-clock moment instead. One of the two is given.
    """

    revisions: Mapping[str, int] = field(default_factory=dict)
    recorded_at: datetime | None = None

    def revision_of(self, user_id: str) -> int | None:
        return self.revisions.get(user_id) if self.recorded_at is None else None


class ModelStore(Database, Protocol):
    """Users and what selfmodel knows about them: observations, beliefs, evidence, history."""

    # -- users and contexts ----------------------------------------------------------------
    @abstractmethod
    def get_or_create_user(self, workspace_id: str, external_id: str) -> User: ...

    @abstractmethod
    def get_user(self, workspace_id: str, external_id: str) -> User | None: ...

    @abstractmethod
    def get_user_by_id(self, workspace_id: str, user_id: str) -> User | None: ...

    @abstractmethod
    def list_users(self, workspace_id: str) -> list[User]:
        """The workspace's users, by external id (byte order)."""

    @abstractmethod
    def set_display_name(self, workspace_id: str, user_id: str, name: str | None) -> User:
        """Set (or clear) how statements and blocks name the user."""

    @abstractmethod
    def lock_user(self, workspace_id: str, user_id: str) -> None:
        """Inside a transaction: hold the user until commit, so revisions of one user serialise,
        and move the user's revision (``user_revisions``): every write of a user's rows holds
        the user, so an unchanged revision means unchanged rows."""

    @abstractmethod
    def delete_user(self, workspace_id: str, user_id: str) -> DeletedCounts:
        """Hard-delete every row about the user, and make sure the bytes are gone.

        Every row: the user's vectors, traces that name them, jobs and Mirror rows go too, from
        whichever concern of the store holds them.
        """

    @abstractmethod
    def get_or_create_context(self, workspace_id: str, name: str) -> Area: ...

    @abstractmethod
    def get_context(self, workspace_id: str, name: str) -> Area | None: ...

    # -- observations ----------------------------------------------------------------------
    @abstractmethod
    def insert_observations(
        self, observations: Sequence[Observation], *, new_ids: bool = False
    ) -> list[Observation]:
        """Insert; an observation whose id or (user, external_id) exists is skipped. Returns
        the new.

        ``new_ids``: the caller made the ids just now (``new_id``), so only an external id
        could be there already; without any, all are new and nothing is read back (in a
        transaction on PostgreSQL the rows go with its next statement: a round trip fewer). An
        id that is there after all fails that statement, or the commit, with the database
        driver's integrity error.
        """

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
    def get_user_with_turns_before(
        self, workspace_id: str, external_id: str, before: datetime, limit: int
    ) -> tuple[User | None, list[Observation]]:
        """The user of this external id (None if there is none) and their last ``limit``
        observations before ``before``, oldest first (as ``list_observations_before``): what an
        observe reads before it understands new messages, in one read."""

    @abstractmethod
    def list_observations_before(
        self, workspace_id: str, user_id: str, before: datetime, limit: int
    ) -> list[Observation]:
        """The user's last ``limit`` observations that happened before ``before``, oldest first
        (what was said just before new messages, to resolve what "it" and "that one" refer to)."""

    # -- beliefs -----------------------------------------------------------------------------
    @abstractmethod
    def insert_belief(self, belief: Belief) -> None:
        """Store a new belief (its id made just now). Nothing is read back: in a transaction on
        PostgreSQL the row goes with its next statement, and an id that is there already fails
        that statement, or the commit, with the database driver's integrity error."""

    @abstractmethod
    def update_belief(self, belief: Belief) -> None:
        """Rewrite every field but the key; raises ``StorageError`` if the belief is not stored."""

    @abstractmethod
    def get_belief(self, workspace_id: str, belief_id: str) -> Belief | None: ...

    @abstractmethod
    def list_beliefs(self, workspace_id: str, where: BeliefFilter) -> list[Belief]:
        """Beliefs matching the filter, newest first."""

    # -- evidence and history --------------------------------------------------------------
    @abstractmethod
    def add_evidence(
        self, workspace_id: str, user_id: str, evidence: Evidence, *, unseen: bool = False
    ) -> bool:
        """Link evidence; returns False (and changes nothing) if this exact link exists.

        ``unseen``: the caller knows the link is not stored (its observation came in this
        transaction, and the caller links each once): nothing is read back, True is returned
        (in a transaction on PostgreSQL the row goes with its next statement). A link that is
        there after all fails that statement, or the commit, with the database driver's
        integrity error.
        """

    @abstractmethod
    def list_evidence(
        self,
        workspace_id: str,
        belief_ids: Sequence[str],
        *,
        user_ids: Sequence[str] | None = None,
    ) -> list[Evidence]:
        """The evidence of these beliefs, oldest first. ``user_ids``, when the caller knows whose
        beliefs they are, bounds the read by those users' evidence (an index the database can
        walk without statistics; a belief of anyone else gives nothing)."""

    @abstractmethod
    def append_event(self, event: BeliefEvent) -> None: ...

    @abstractmethod
    def list_events(
        self, workspace_id: str, *, belief_id: str | None = None, user_id: str | None = None
    ) -> list[BeliefEvent]:
        """History, oldest first."""

    # -- the self-model as it was --------------------------------------------------------------
    @abstractmethod
    def beliefs_as_of(self, workspace_id: str, user_id: str, as_of: AsOf) -> list[Belief]:
        """The user's beliefs, any status, each in its last state written by ``as_of`` (newest
        first). A belief last written before versions were kept (schema 13) reads as it was at
        the upgrade, from revision 0 and its ``created_at`` on."""

    @abstractmethod
    def evidence_as_of(self, workspace_id: str, user_id: str, as_of: AsOf) -> list[Evidence]:
        """Evidence of the user's beliefs linked by ``as_of``, oldest first."""

    @abstractmethod
    def observations_as_of(self, workspace_id: str, user_id: str, as_of: AsOf) -> list[Observation]:
        """The user's observations recorded by ``as_of`` (and still kept), oldest first."""
