"""Bring a warm scope index up to date with the store: built once, then only what changed.

Every ``context`` call reads the scope's watermark: each user's revision, from their own row
(``VectorStore.scope_watermark``). Every write of a user's rows moves it and stamps the rows, and
one user's writes commit in revision order, so when it moved — a write here or in another
process over the same database — the index reads just the rows stamped after the revision it
had, each with its stored vector, and applies them: new observations and beliefs are
appended, changed beliefs replaced in place, beliefs that left the active set removed. Items
whose vector is not stored yet (the understanding job has not run) wait, and are looked for
again whenever the user's revision moves.

A full rebuild remains for what increments cannot express: a user forgotten, or rows deleted
by retention since the index read them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from selfmodel.domain import Belief, BeliefStatus, Evidence, EvidenceStance, Observation
from selfmodel.retrieval.index import (
    Document,
    ScopeIndex,
    belief_document,
    observation_document,
)
from selfmodel.storage import (
    BELIEF_VECTORS,
    OBSERVATION_VECTORS,
    AsOf,
    BeliefFilter,
    ModelStore,
    StoredVectors,
    UserWatermark,
    VectorStore,
)


@dataclass
class SyncState:
    """What a warm index has seen of the store (kept on ``ScopeIndex.sync``)."""

    revisions: tuple[int, ...]  # the users' revisions read before their rows were
    # Users of whom the index may hold rows past their revision in ``revisions``: their rows
    # were read after their revision was, and no read since found it unchanged (a build reads
    # every user so; a refresh's read of a user's changed beliefs says the revision it saw).
    unconfirmed: set[str] = field(default_factory=set)
    # Every observation id of the scope's users read so far, whatever became of it.
    observations_seen: set[str] = field(default_factory=set)
    # In scope but without a stored vector yet.
    observations_waiting: dict[str, Observation] = field(default_factory=dict)
    beliefs_waiting: dict[str, Belief] = field(default_factory=dict)

    @property
    def exact(self) -> bool:
        """The index holds exactly the rows as of ``revisions``: every write moves a revision,
        so with no user unconfirmed no row past them can have been read."""
        return not self.unconfirmed

    def confirm(self) -> None:
        """A read after the rows found every user's revision where ``revisions`` has it: no
        row past them exists."""
        self.unconfirmed.clear()


@dataclass
class VectorsRead:
    """What a refresh's reads said of vectors: the rows they returned, and the vectors stored
    for those that have one."""

    ids: set[str] = field(default_factory=set)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, read_ids: Sequence[str], stored: StoredVectors) -> None:
        self.ids.update(read_ids)
        self.vectors.update(zip(stored.ids, stored.matrix, strict=True))


class IndexSource(ModelStore, VectorStore, Protocol):
    """What a warm index is read from: the self-model's rows, their vectors and watermarks."""


class ScopeLoader:
    """Builds and refreshes the index of one scope from an ``IndexSource`` (any ``Store``)."""

    def __init__(
        self,
        store: IndexSource,
        workspace_id: str,
        user_ids: list[str],
        area_id: str | None,
        model: str,
        dim: int,
    ) -> None:
        self.store = store
        self.ws = workspace_id
        self.user_ids = user_ids
        self.area_id = area_id
        self.model = model
        self.dim = dim
        # Whether the rows being applied needed a read of their own (vectors or evidence of
        # items read by an earlier refresh).
        self._looked_up = False

    # -- full build ----------------------------------------------------------------------------
    def build(self) -> ScopeIndex:
        """Read the whole scope (the revisions first, so nothing written meanwhile is lost)."""
        marks = self.store.scope_watermark(self.ws, self.user_ids)
        sync = SyncState(tuple(m.revision for m in marks), unconfirmed=set(self.user_ids))
        index = ScopeIndex([], np.zeros((0, self.dim), dtype=np.float32))
        index.sync = sync
        self._observations(index, sync, self.store.list_observations(self.ws, self.user_ids))
        everything = BeliefFilter(tuple(self.user_ids), statuses=())
        self._beliefs(index, sync, self.store.list_beliefs(self.ws, everything))
        return index

    # -- incremental refresh -------------------------------------------------------------------
    def refresh(self, index: ScopeIndex, marks: Sequence[UserWatermark] = ()) -> ScopeIndex:
        """Apply what changed since ``index`` was last synced; a new index if it must rebuild.

        ``marks``: the users' watermarks, if the caller read them just now (with the users);
        read here otherwise, and when they are older than what the index has seen (another
        call brought it further meanwhile).
        """
        sync = index.sync
        if not isinstance(sync, SyncState):
            return self.build()
        if [m.user_id for m in marks] != self.user_ids or any(
            m.revision < seen for m, seen in zip(marks, sync.revisions, strict=True)
        ):
            marks = self.store.scope_watermark(self.ws, self.user_ids)
        revisions = tuple(m.revision for m in marks)
        if revisions == sync.revisions:
            # Nothing moved since the index was filled: exact if it was known to be then (the
            # marks may have been read before a write that an inexact refresh read past).
            return index
        for mark, seen in zip(marks, sync.revisions, strict=True):
            if mark.revision < seen or mark.pruned_revision > seen:
                return self.build()  # the user was forgotten, or rows deleted: start over
        moved = [
            m.user_id for m, seen in zip(marks, sync.revisions, strict=True) if m.revision != seen
        ]
        sync.unconfirmed.update(moved)  # until their rows are read and applied
        confirmed: set[str] = set()
        observations: list[Observation] = []
        beliefs: list[Belief] = []
        observation_vectors, belief_vectors = VectorsRead(), VectorsRead()
        supporting: dict[str, list[str]] = {}
        for mark, seen in zip(marks, sync.revisions, strict=True):
            # Rows stamped after what was seen (read again if they were read with it: a write
            # may commit between a revision's read and its rows'), with their vectors.
            if mark.revision != seen:
                found, stored = self.store.list_observations_since(
                    self.ws, mark.user_id, seen, self.model
                )
                observations += found
                observation_vectors.add([o.id for o in found], stored)
                changed = self.store.list_beliefs_changed_since(
                    self.ws, mark.user_id, seen, self.model
                )
                beliefs += changed.beliefs
                belief_vectors.add([b.id for b in changed.beliefs], changed.vectors)
                supporting.update(changed.supporting)
                # The user's last read found their revision where the reads started (the
                # watermark read before them): no write of theirs came in meanwhile.
                if changed.user_revision == mark.revision:
                    confirmed.add(mark.user_id)
        fresh = [o for o in observations if o.id not in sync.observations_seen]
        self._looked_up = False
        self._observations(index, sync, fresh, observation_vectors)
        self._beliefs(index, sync, beliefs, belief_vectors, supporting)
        if self._looked_up:  # read after the revisions: anyone's rows may be past them
            sync.unconfirmed.update(self.user_ids)
        else:
            sync.unconfirmed -= confirmed
        sync.revisions = revisions
        return index

    # -- applying rows -------------------------------------------------------------------------
    def _in_area(self, area_id: str | None) -> bool:
        return self.area_id is None or area_id in (None, self.area_id)

    def _observations(
        self,
        index: ScopeIndex,
        sync: SyncState,
        observations: list[Observation],
        read_vectors: VectorsRead | None = None,
    ) -> None:
        """Index the observations in scope that have a vector, oldest first; the others wait.

        ``read_vectors``: what the reads of ``observations`` said of their vectors (see
        ``_stored_vectors``); without it they are looked up.
        """
        for o in observations:
            sync.observations_seen.add(o.id)
            if self._in_area(o.area_id) and o.id not in index:
                sync.observations_waiting[o.id] = o
        if not sync.observations_waiting:
            return
        by_id = self._stored_vectors(OBSERVATION_VECTORS, sync.observations_waiting, read_vectors)
        ready = sorted(
            (o for i, o in sync.observations_waiting.items() if i in by_id),
            key=lambda o: (o.occurred_at, o.id),
        )
        for o in ready:
            del sync.observations_waiting[o.id]
        self._append(index, [(observation_document(o), by_id[o.id]) for o in ready])

    def _beliefs(
        self,
        index: ScopeIndex,
        sync: SyncState,
        beliefs: list[Belief],
        read_vectors: VectorsRead | None = None,
        read_supporting: Mapping[str, list[str]] | None = None,
    ) -> None:
        """Apply these beliefs: index the active ones in scope, replace those changed, remove
        those that left; one whose statement has no vector yet waits for it.

        ``read_vectors``: what the reads of ``beliefs`` said of their vectors (see
        ``_stored_vectors``); without it they are looked up. ``read_supporting``: the
        observations supporting each belief those reads returned (the others' are read).
        """
        wanted: dict[str, Belief] = {}
        leaving: list[str] = []
        rejected: list[str] = []
        for b in beliefs:
            # A belief raised again after the user rejected it waits for their answer in the
            # Mirror; it never reaches a block on its own.
            held = "after_rejection" in b.metadata
            if b.status == BeliefStatus.ACTIVE and self._in_area(b.area_id) and not held:
                wanted[b.id] = b
            else:
                leaving.append(b.id)
                sync.beliefs_waiting.pop(b.id, None)
                if b.status == BeliefStatus.REJECTED or held:
                    rejected.append(b.id)
        index.remove(leaving)
        if rejected:
            # The user said "not me" (or has yet to answer whether it came back): what the
            # belief was read from stays out of blocks too.
            withheld = self._supporting(rejected, read_supporting)
            index.withhold([o for belief_id in rejected for o in withheld.get(belief_id, ())])
        wanted = {**sync.beliefs_waiting, **wanted}
        if not wanted:
            return
        supporting = self._supporting(list(wanted), read_supporting)
        documents = {
            b.id: belief_document(b, tuple(supporting.get(b.id, ()))) for b in wanted.values()
        }
        # A belief already indexed needs its vector again only if its statement changed.
        need_vector = [
            i for i, d in documents.items() if (old := index.get(i)) is None or old.text != d.text
        ]
        by_id = self._stored_vectors(BELIEF_VECTORS, need_vector, read_vectors)
        appended: list[tuple[Document, np.ndarray]] = []
        for belief_id, doc in documents.items():
            current = index.get(belief_id)
            if current is not None and current.text == doc.text:
                if current != doc:
                    index.replace(doc)
            elif belief_id in by_id:
                sync.beliefs_waiting.pop(belief_id, None)
                if current is not None:
                    index.replace(doc, by_id[belief_id])
                else:
                    appended.append((doc, by_id[belief_id]))
            else:
                # No vector for this statement yet: leave it out until one is stored.
                index.remove([belief_id])
                sync.beliefs_waiting[belief_id] = wanted[belief_id]
        self._append(index, appended)

    def _supporting(
        self, belief_ids: list[str], read: Mapping[str, list[str]] | None
    ) -> dict[str, list[str]]:
        """The observations supporting each belief, oldest link first: as ``read`` with the
        beliefs where it has them, the others' evidence read now."""
        found = {i: read[i] for i in belief_ids if read is not None and i in read}
        unread = [i for i in belief_ids if i not in found]
        for e in self._evidence(unread) if unread else ():
            if e.stance == EvidenceStance.SUPPORTS:
                found.setdefault(e.belief_id, []).append(e.observation_id)
        return found

    def _stored_vectors(
        self, item_type: str, wanted: Iterable[str], read_vectors: VectorsRead | None
    ) -> dict[str, np.ndarray]:
        """The vectors stored for the ``wanted`` items (those that have one), by id.

        ``read_vectors`` answers for the rows it read: one read without a vector had none
        stored, and storing one moves the user's revision, so the refresh that follows looks
        it up. Only the other items (waiting since an earlier refresh) are looked up here, if
        there are any; without ``read_vectors`` (a build), all are.
        """
        found = dict(read_vectors.vectors) if read_vectors else {}
        answered = read_vectors.ids if read_vectors else set()
        missing = [i for i in wanted if i not in answered]
        if missing:
            stored = self._vectors(item_type, missing)
            found.update(zip(stored.ids, stored.matrix, strict=True))
        return found

    def _vectors(self, item_type: str, ids: Sequence[str]) -> StoredVectors:
        self._looked_up = True
        return self.store.get_vectors_by_id(self.ws, self.user_ids, item_type, self.model, ids)

    def _evidence(self, belief_ids: Sequence[str]) -> list[Evidence]:
        self._looked_up = True
        return self.store.list_evidence(self.ws, belief_ids, user_ids=self.user_ids)

    def _append(self, index: ScopeIndex, items: list[tuple[Document, np.ndarray]]) -> None:
        if items:
            index.append([d for d, _ in items], np.stack([v for _, v in items]))


class ScopeLoaderAsOf(ScopeLoader):
    """Builds the index a scope had at given user revisions (what a trace records), from the
    store's history: the same steps as a fresh build, fed with the rows as they were then.

    Ranking breaks ties by the index's canonical order, never by position, so this index ranks
    exactly as the warm one did, however that one had grown.
    """

    def __init__(
        self,
        store: IndexSource,
        workspace_id: str,
        user_ids: list[str],
        area_id: str | None,
        model: str,
        dim: int,
        revisions: Mapping[str, int],
    ) -> None:
        super().__init__(store, workspace_id, user_ids, area_id, model, dim)
        self.revisions = dict(revisions)
        self._evidence_by_belief: dict[str, list[Evidence]] = {}
        self._vectors_by_type: dict[str, dict[str, np.ndarray]] = {}

    def build(self) -> ScopeIndex:
        observations: list[Observation] = []
        beliefs: list[Belief] = []
        for user_id in self.user_ids:
            as_of = AsOf(revisions={user_id: self.revisions[user_id]})
            observations += self.store.observations_as_of(self.ws, user_id, as_of)
            beliefs += self.store.beliefs_as_of(self.ws, user_id, as_of)
            for e in self.store.evidence_as_of(self.ws, user_id, as_of):
                self._evidence_by_belief.setdefault(e.belief_id, []).append(e)
            for item_type in (OBSERVATION_VECTORS, BELIEF_VECTORS):
                stored = self.store.vectors_as_of(
                    self.ws, user_id, item_type, self.model, self.revisions[user_id]
                )
                found = self._vectors_by_type.setdefault(item_type, {})
                found.update(zip(stored.ids, stored.matrix, strict=True))
        # The orders a fresh build reads in: observations oldest first, beliefs newest first.
        observations.sort(key=lambda o: (o.occurred_at, o.id))
        beliefs.sort(key=lambda b: b.id, reverse=True)
        sync = SyncState(tuple(self.revisions[u] for u in self.user_ids))
        index = ScopeIndex([], np.zeros((0, self.dim), dtype=np.float32))
        index.sync = sync
        self._observations(index, sync, observations)
        self._beliefs(index, sync, beliefs)
        return index

    def refresh(self, index: ScopeIndex, marks: Sequence[UserWatermark] = ()) -> ScopeIndex:
        return index  # the past does not change

    def _vectors(self, item_type: str, ids: Sequence[str]) -> StoredVectors:
        found = self._vectors_by_type.get(item_type, {})
        present = [i for i in ids if i in found]
        if not present:
            return StoredVectors([], np.zeros((0, self.dim), dtype=np.float32))
        return StoredVectors(present, np.stack([found[i] for i in present]))

    def _evidence(self, belief_ids: Sequence[str]) -> list[Evidence]:
        wanted = set(belief_ids)
        found = [e for b in wanted for e in self._evidence_by_belief.get(b, [])]
        # The order ``list_evidence`` reads in.
        return sorted(
            found, key=lambda e: (e.created_at, e.belief_id, e.observation_id, e.stance.value)
        )
