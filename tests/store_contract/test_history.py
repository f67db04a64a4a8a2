"""The store's record of the past: rows stamped with the user's revision that wrote them, every
belief state kept, replaced vectors kept — read back as of a revision or a record time."""

from __future__ import annotations

import numpy as np
import pytest

from selfmodel.domain import BeliefEventType, BeliefStatus, User, Workspace
from selfmodel.domain.time import utcnow
from selfmodel.storage import AsOf, Store
from tests.store_contract.records import belief, event, evidence, observation


def revision(store: Store, ws: Workspace, user: User) -> int:
    return store.user_revisions(ws.id, [user.id])[0]


def test_each_revision_reads_the_beliefs_observations_and_evidence_written_by_then(
    store: Store, ws: Workspace, maya: User
) -> None:
    with store.transaction():
        store.lock_user(ws.id, maya.id)
        (said,) = store.insert_observations([observation(maya, "I love tea.")])
        first = belief(maya, "Maya loves tea")
        store.insert_belief(first)
        store.add_evidence(ws.id, maya.id, evidence(first.id, said.id))
    one = revision(store, ws, maya)
    between = utcnow()
    with store.transaction():
        store.lock_user(ws.id, maya.id)
        (later,) = store.insert_observations([observation(maya, "I quit tea.", minutes=1)])
        ended = first.model_copy(update={"status": BeliefStatus.SUPERSEDED, "confidence": 0.2})
        store.update_belief(ended)
        store.add_evidence(ws.id, maya.id, evidence(first.id, later.id, weight=-1.0))
    two = revision(store, ws, maya)

    at_one = AsOf(revisions={maya.id: one})
    assert store.beliefs_as_of(ws.id, maya.id, at_one) == [first]
    assert [o.id for o in store.observations_as_of(ws.id, maya.id, at_one)] == [said.id]
    assert [e.observation_id for e in store.evidence_as_of(ws.id, maya.id, at_one)] == [said.id]
    at_two = AsOf(revisions={maya.id: two})
    assert store.beliefs_as_of(ws.id, maya.id, at_two) == [ended]
    assert len(store.evidence_as_of(ws.id, maya.id, at_two)) == 2
    assert store.beliefs_as_of(ws.id, maya.id, AsOf(revisions={maya.id: 0})) == []
    by_time = AsOf(recorded_at=between)
    assert store.beliefs_as_of(ws.id, maya.id, by_time) == [first]
    assert store.beliefs_as_of(ws.id, maya.id, AsOf(recorded_at=utcnow())) == [ended]


def test_a_replaced_vector_stays_readable_as_of_the_revisions_it_served(
    store: Store, ws: Workspace, maya: User
) -> None:
    old, new = np.ones(4, np.float32), np.full(4, 2.0, np.float32)
    with store.transaction():
        store.lock_user(ws.id, maya.id)
        store.put_vectors(ws.id, maya.id, "belief", "m", [("bel_a", old)])
    first = revision(store, ws, maya)
    with store.transaction():
        store.lock_user(ws.id, maya.id)
    with store.transaction():
        store.lock_user(ws.id, maya.id)
        store.put_vectors(ws.id, maya.id, "belief", "m", [("bel_a", new), ("bel_b", new)])
    last = revision(store, ws, maya)

    def at(r: int) -> dict[str, list[float]]:
        found = store.vectors_as_of(ws.id, maya.id, "belief", "m", r)
        return {i: v.tolist() for i, v in zip(found.ids, found.matrix, strict=True)}

    assert at(first - 1) == {}
    assert at(first) == at(last - 1) == {"bel_a": old.tolist()}
    assert at(last) == {"bel_a": new.tolist(), "bel_b": new.tolist()}
    current = store.get_vectors(ws.id, [maya.id], "belief", "m")
    assert current.ids == ["bel_a", "bel_b"]


def test_vectors_of_new_items_are_stored_as_of_their_revision_with_no_history(
    store: Store, ws: Workspace, maya: User
) -> None:
    """``new_items``: nothing to replace, nothing kept in the history, what follows in the
    transaction reads them; a vector that is there after all is not silently replaced."""
    vector = np.full(4, 3.0, np.float32)
    with store.transaction():
        store.lock_user(ws.id, maya.id)
        store.put_vectors(ws.id, maya.id, "belief", "m", [("bel_a", vector)], new_items=True)
        assert store.get_vectors(ws.id, [maya.id], "belief", "m").ids == ["bel_a"]
    first = revision(store, ws, maya)
    found = store.vectors_as_of(ws.id, maya.id, "belief", "m", first)
    assert found.ids == ["bel_a"] and found.matrix.tolist() == [vector.tolist()]
    assert store.vectors_as_of(ws.id, maya.id, "belief", "m", first - 1).ids == []
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), store.transaction():
        store.lock_user(ws.id, maya.id)
        store.put_vectors(ws.id, maya.id, "belief", "m", [("bel_a", vector * 2)], new_items=True)
    current = store.get_vectors(ws.id, [maya.id], "belief", "m")
    assert current.matrix.tolist() == [vector.tolist()]
    assert store.delete_user(ws.id, maya.id).counts["vector_history"] == 0


def test_forgetting_a_user_deletes_their_past(store: Store, ws: Workspace, maya: User) -> None:
    with store.transaction():
        store.lock_user(ws.id, maya.id)
        stored = belief(maya, "Maya loves tea")
        store.insert_belief(stored)
        store.put_vectors(ws.id, maya.id, "belief", "m", [(stored.id, np.ones(4, np.float32))])
    with store.transaction():
        store.lock_user(ws.id, maya.id)
        store.update_belief(stored.model_copy(update={"statement": "Maya adores tea"}))
        store.put_vectors(ws.id, maya.id, "belief", "m", [(stored.id, np.zeros(4, np.float32))])
    counts = store.delete_user(ws.id, maya.id)
    assert counts.counts["belief_versions"] == 2
    assert counts.counts["vector_history"] == 1
    assert store.beliefs_as_of(ws.id, maya.id, AsOf(recorded_at=utcnow())) == []
    assert store.remaining_of_user(ws.id, maya.id) == {}


def test_history_written_in_a_transaction_is_read_in_it_stamped_when_written_and_rolled_back(
    store: Store, ws: Workspace, maya: User
) -> None:
    """Versions and events are appended as a transaction goes (a backend may send them with its
    next statement): a read later in the transaction sees them, each carries the revision it
    was written at, and a transaction that fails leaves none."""
    tea = belief(maya, "Maya loves tea")
    with store.transaction():
        store.lock_user(ws.id, maya.id)
        store.insert_belief(tea)
        store.append_event(event(tea, BeliefEventType.CREATED))
        assert [e.belief_id for e in store.list_events(ws.id, user_id=maya.id)] == [tea.id]
        assert store.beliefs_as_of(ws.id, maya.id, AsOf(recorded_at=utcnow())) == [tea]
        store.lock_user(ws.id, maya.id)  # held again: what was written before keeps revision 1
        stronger = tea.model_copy(update={"confidence": 0.9})
        store.update_belief(stronger)
    assert store.beliefs_as_of(ws.id, maya.id, AsOf(revisions={maya.id: 1})) == [tea]
    assert store.beliefs_as_of(ws.id, maya.id, AsOf(revisions={maya.id: 2})) == [stronger]

    class Refused(Exception):
        pass

    with pytest.raises(Refused), store.transaction():
        store.lock_user(ws.id, maya.id)
        store.update_belief(tea)
        store.append_event(event(tea, BeliefEventType.WEAKENED))
        raise Refused
    assert [e.type for e in store.list_events(ws.id, user_id=maya.id)] == [BeliefEventType.CREATED]
    assert store.beliefs_as_of(ws.id, maya.id, AsOf(recorded_at=utcnow())) == [stronger]
    # Last in the transaction, with nothing after them to travel with: written at commit.
    with store.transaction():
        store.lock_user(ws.id, maya.id)
        store.update_belief(tea)
        store.append_event(event(tea, BeliefEventType.WEAKENED))
    assert store.beliefs_as_of(ws.id, maya.id, AsOf(recorded_at=utcnow())) == [tea]
    assert len(store.list_events(ws.id, belief_id=tea.id)) == 2
