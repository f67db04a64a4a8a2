"""``VectorStore``: vectors of users' items, watermarks, and the rows changed since one."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from selfmodel.domain import BeliefStatus, EvidenceStance, ExperimentStatus, User, Workspace
from selfmodel.domain.time import utcnow
from selfmodel.storage import ContextStart, Store, VectorStore
from tests.store_contract.records import belief, evidence, experiment, observation

SUPPORTS, AGAINST = EvidenceStance.SUPPORTS, EvidenceStance.CONTRADICTS


# -- vectors -----------------------------------------------------------------------------------
def test_vectors_round_trip_as_float32_and_a_second_put_replaces(
    store: VectorStore, ws: Workspace, maya: User
) -> None:
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal(8).astype(np.float32), rng.standard_normal(8).astype(np.float32)
    store.put_vectors(ws.id, maya.id, "belief", "m", [("bel_b", b), ("bel_a", a)])
    store.put_vectors(ws.id, maya.id, "belief", "m", [("bel_a", b)])
    got = store.get_vectors(ws.id, [maya.id], "belief", "m")
    assert got.ids == ["bel_a", "bel_b"]
    assert got.matrix.dtype == np.float32
    np.testing.assert_array_equal(got.matrix, np.stack([b, b]))
    assert store.get_vectors(ws.id, [maya.id], "belief", "other-model").ids == []
    assert store.get_vectors(ws.id, [maya.id], "observation", "m").ids == []
    assert store.get_vectors(ws.id, [], "belief", "m").ids == []


def test_vectors_are_found_by_id_only_among_their_users(
    store: Store, ws: Workspace, maya: User
) -> None:
    ben = store.get_or_create_user(ws.id, "ben")
    store.put_vectors(ws.id, maya.id, "observation", "m", [("obs_a", np.ones(3, np.float32))])
    found = store.get_vectors_by_id(ws.id, [maya.id], "observation", "m", ["obs_a", "obs_b"])
    assert found.ids == ["obs_a"] and found.matrix.shape == (1, 3)
    assert store.get_vectors_by_id(ws.id, [maya.id], "observation", "m", []).ids == []
    assert store.get_vectors_by_id(ws.id, [ben.id], "observation", "m", ["obs_a"]).ids == []
    assert store.get_vectors_by_id(ws.id, [], "observation", "m", ["obs_a"]).ids == []
    assert store.get_vectors_by_id("ws_other", [maya.id], "observation", "m", ["obs_a"]).ids == []


# -- revisions, watermarks and changes since ---------------------------------------------------
def test_holding_a_user_moves_their_revision_and_only_theirs(
    store: Store, ws: Workspace, maya: User
) -> None:
    ben = store.get_or_create_user(ws.id, "ben")
    before = store.user_revisions(ws.id, [maya.id, ben.id])
    assert before == (0, 0)
    with store.transaction():
        store.lock_user(ws.id, maya.id)
        store.insert_observations([observation(maya, "I moved to Leeds")])
    assert store.user_revisions(ws.id, [maya.id, ben.id]) == (1, 0)
    with store.transaction():  # held twice in one transaction: moved twice, still one commit
        store.lock_user(ws.id, maya.id)
        store.lock_user(ws.id, maya.id)
    assert store.user_revisions(ws.id, [ben.id, maya.id]) == (0, 3)
    assert store.user_revisions(ws.id, []) == ()


def test_a_rolled_back_hold_leaves_the_revision_and_a_gone_user_reads_minus_one(
    store: Store, ws: Workspace, maya: User
) -> None:
    try:
        with store.transaction():
            store.lock_user(ws.id, maya.id)
            raise RuntimeError("abandon the revision")
    except RuntimeError:
        pass
    assert store.user_revisions(ws.id, [maya.id]) == (0,)
    store.delete_user(ws.id, maya.id)
    assert store.user_revisions(ws.id, [maya.id, "usr_never"]) == (-1, -1)
    assert store.user_revisions("ws_other", [maya.id]) == (-1,)


def test_a_watermark_is_read_from_the_users_rows(store: Store, ws: Workspace, maya: User) -> None:
    with store.transaction():
        store.lock_user(ws.id, maya.id)
    (mark, never) = store.scope_watermark(ws.id, [maya.id, "usr_never"])
    assert (mark.user_id, mark.revision, mark.pruned_revision) == (maya.id, 1, 0)
    assert (never.user_id, never.revision, never.pruned_revision) == ("usr_never", -1, 0)
    assert store.scope_watermark("ws_other", [maya.id])[0].revision == -1
    assert store.scope_watermark(ws.id, []) == ()


def test_a_context_call_starts_from_its_users_and_their_watermarks(
    store: Store, ws: Workspace, maya: User
) -> None:
    ben = store.get_or_create_user(ws.id, "ben")
    with store.transaction():
        store.lock_user(ws.id, maya.id)
    start = store.start_context(ws.id, ["maya", "ben", "nobody"])
    found = dict(start.users)
    assert set(found) == {maya, ben}
    assert (found[maya].user_id, found[maya].revision, found[maya].pruned_revision) == (
        maya.id,
        1,
        0,
    )
    assert found[ben] == store.scope_watermark(ws.id, [ben.id])[0]
    assert store.start_context(ws.id, []) == ContextStart([], experiments_running=False)
    assert store.start_context("ws_other", ["maya"]).users == []


def test_a_context_call_starts_knowing_whether_an_experiment_runs(
    store: Store, ws: Workspace, maya: User
) -> None:
    assert not store.start_context(ws.id, ["maya"]).experiments_running
    running = experiment(ws, "running")
    store.insert_experiment(running)
    assert store.start_context(ws.id, ["maya"]).experiments_running
    other = store.get_or_create_workspace("other")
    store.get_or_create_user(other.id, "maya")
    assert not store.start_context(other.id, ["maya"]).experiments_running  # not theirs
    store.stop_experiment(ws.id, running.id, utcnow())
    store.insert_experiment(experiment(ws, "done", status=ExperimentStatus.STOPPED))
    assert not store.start_context(ws.id, ["maya"]).experiments_running


def test_observations_since_a_revision_are_those_written_after_it(
    store: Store, ws: Workspace, maya: User
) -> None:
    ben = store.get_or_create_user(ws.id, "ben")
    late = utcnow()
    # Written in this order, with clocks that say otherwise: the revision decides.
    old = observation(maya, "old", recorded_at=late + timedelta(seconds=5))
    new = observation(maya, "new", minutes=-60, recorded_at=late)
    for obs in (old, new):
        with store.transaction():
            store.lock_user(ws.id, maya.id)
            store.insert_observations([obs])
    found, _ = store.list_observations_since(ws.id, maya.id, 1, "m")
    assert [o.id for o in found] == [new.id]
    assert store.list_observations_since(ws.id, maya.id, 0, "m")[0] == [new, old]  # occurred_at
    assert store.list_observations_since(ws.id, maya.id, 2, "m")[0] == []
    assert store.list_observations_since(ws.id, ben.id, 0, "m")[0] == []


def test_observations_since_a_revision_come_with_the_vectors_stored_for_them(
    store: Store, ws: Workspace, maya: User
) -> None:
    first, second, third = (observation(maya, text, minutes=-i) for i, text in enumerate("abc"))
    with store.transaction():
        store.lock_user(ws.id, maya.id)
        store.insert_observations([first, second, third])
    vector = np.arange(4, dtype=np.float32)
    store.put_vectors(ws.id, maya.id, "observation", "m", [(first.id, vector), (third.id, -vector)])
    store.put_vectors(ws.id, maya.id, "observation", "other-model", [(second.id, vector)])
    store.put_vectors(ws.id, maya.id, "belief", "m", [(second.id, vector)])
    found, stored = store.list_observations_since(ws.id, maya.id, 0, "m")
    assert found == [third, second, first]  # oldest first; the vectors in that order
    assert stored.ids == [third.id, first.id]  # none of another model or item type
    assert stored.matrix.dtype == np.float32
    np.testing.assert_array_equal(stored.matrix, np.stack([-vector, vector]))
    assert store.list_observations_since(ws.id, maya.id, 0, "none")[1].ids == []
    assert store.list_observations_since(ws.id, maya.id, 9, "m")[1].ids == []


def test_a_changed_belief_is_read_since_the_revision_before_it_whatever_its_status(
    store: Store, ws: Workspace, maya: User
) -> None:
    kept, dropped = belief(maya, "likes tea"), belief(maya, "likes coffee")
    with store.transaction():
        store.lock_user(ws.id, maya.id)
        store.insert_belief(kept)
        store.insert_belief(dropped)
    found = store.list_beliefs_changed_since(ws.id, maya.id, 0, "m").beliefs
    assert [b.id for b in found] == sorted((kept.id, dropped.id), reverse=True)  # newest first
    rejected = dropped.model_copy(update={"status": BeliefStatus.REJECTED})
    with store.transaction():
        store.lock_user(ws.id, maya.id)
        store.update_belief(rejected)
    assert store.list_beliefs_changed_since(ws.id, maya.id, 1, "m").beliefs == [rejected]
    assert store.list_beliefs_changed_since(ws.id, maya.id, 2, "m").beliefs == []
    ben = store.get_or_create_user(ws.id, "ben")
    assert store.list_beliefs_changed_since(ws.id, ben.id, 0, "m").beliefs == []


def test_changed_beliefs_come_with_the_vectors_stored_for_them(
    store: Store, ws: Workspace, maya: User
) -> None:
    tea, jazz, gone = belief(maya, "likes tea"), belief(maya, "likes jazz"), belief(maya, "smokes")
    with store.transaction():
        store.lock_user(ws.id, maya.id)
        for b in (tea, jazz, gone):
            store.insert_belief(b)
    vector = np.arange(4, dtype=np.float32)
    store.put_vectors(ws.id, maya.id, "belief", "m", [(jazz.id, vector), (gone.id, -vector)])
    store.put_vectors(ws.id, maya.id, "belief", "other-model", [(tea.id, vector)])
    store.put_vectors(ws.id, maya.id, "observation", "m", [(tea.id, vector)])
    superseded = gone.model_copy(update={"status": BeliefStatus.SUPERSEDED})
    with store.transaction():
        store.lock_user(ws.id, maya.id)
        store.update_belief(superseded)
    changed = store.list_beliefs_changed_since(ws.id, maya.id, 0, "m")
    found, stored = changed.beliefs, changed.vectors
    newest_first = sorted([tea, jazz, superseded], key=lambda b: b.id, reverse=True)
    assert found == newest_first
    assert stored.ids == [b.id for b in newest_first if b.id != tea.id]  # of this model only
    by_id = dict(zip(stored.ids, stored.matrix, strict=True))
    np.testing.assert_array_equal(by_id[jazz.id], vector)
    np.testing.assert_array_equal(by_id[gone.id], -vector)  # whatever the belief's status
    changed = store.list_beliefs_changed_since(ws.id, maya.id, 1, "m")
    assert changed.beliefs == [superseded] and changed.vectors.ids == [gone.id]
    assert store.list_beliefs_changed_since(ws.id, maya.id, 0, "none").vectors.ids == []


def test_changed_beliefs_come_with_the_observations_supporting_them_oldest_link_first(
    store: Store, ws: Workspace, maya: User
) -> None:
    """What a warm index shows of a belief's sources, read with the belief: the observations
    its supporting links cite, in the order the evidence is listed; a contradiction is not
    one."""
    tea, jazz = belief(maya, "likes tea"), belief(maya, "likes jazz")
    said = [observation(maya, text, minutes=i) for i, text in enumerate(("a", "b", "c"))]
    with store.transaction():
        store.lock_user(ws.id, maya.id)
        store.insert_observations(said)
        store.insert_belief(tea)
        store.insert_belief(jazz)
        start = utcnow()
        for minutes, o, stance in (
            (2, said[2], SUPPORTS),
            (0, said[0], SUPPORTS),
            (1, said[1], AGAINST),
        ):
            made = start + timedelta(minutes=minutes)
            store.add_evidence(
                ws.id, maya.id, evidence(tea.id, o.id, stance=stance, created_at=made)
            )
    changed = store.list_beliefs_changed_since(ws.id, maya.id, 0, "m")
    assert changed.supporting == {tea.id: [said[0].id, said[2].id], jazz.id: []}
    assert changed.supporting[tea.id] == [
        e.observation_id for e in store.list_evidence(ws.id, [tea.id]) if e.stance == SUPPORTS
    ]


def test_retention_marks_the_revision_that_deleted_rows(
    store: Store, ws: Workspace, maya: User
) -> None:
    with store.transaction():
        store.lock_user(ws.id, maya.id)
        gone, kept = store.insert_observations(
            [observation(maya, "gone"), observation(maya, "kept")]
        )
    store.delete_observations(ws.id, maya.id, [gone.id])
    (mark,) = store.scope_watermark(ws.id, [maya.id])
    assert (mark.revision, mark.pruned_revision) == (2, 2)
    assert store.list_observations_since(ws.id, maya.id, 0, "m")[0] == [kept]


def test_a_users_beliefs_are_read_with_the_vectors_of_those_that_have_one(
    store: Store, ws: Workspace, maya: User
) -> None:
    ben = store.get_or_create_user(ws.id, "ben")
    tea, jazz = belief(maya, "Maya loves tea"), belief(maya, "Maya likes jazz")
    gone = belief(maya, "Maya smokes", status=BeliefStatus.SUPERSEDED)
    for b in (tea, jazz, gone, belief(ben, "Ben loves tea")):
        store.insert_belief(b)
    vector = np.arange(4, dtype=np.float32)
    store.put_vectors(ws.id, maya.id, "belief", "m", [(jazz.id, vector), (gone.id, vector)])
    store.put_vectors(ws.id, maya.id, "belief", "other-model", [(tea.id, vector)])
    store.put_vectors(ws.id, maya.id, "observation", "m", [(tea.id, vector)])
    active = (BeliefStatus.ACTIVE,)
    beliefs, stored = store.list_beliefs_with_vectors(ws.id, maya.id, active, "m")
    assert beliefs == sorted([tea, jazz], key=lambda b: b.id, reverse=True)
    assert stored.ids == [jazz.id]
    np.testing.assert_array_equal(stored.matrix, vector[None, :])
    assert store.list_beliefs_with_vectors(ws.id, maya.id, active, "none")[1].ids == []
    everything = (BeliefStatus.ACTIVE, BeliefStatus.SUPERSEDED)
    beliefs, stored = store.list_beliefs_with_vectors(ws.id, maya.id, everything, "m")
    assert {b.id for b in beliefs} == {tea.id, jazz.id, gone.id}
    assert set(stored.ids) == {jazz.id, gone.id} and stored.matrix.shape == (2, 4)
    nobody, none = store.list_beliefs_with_vectors(ws.id, "usr_none", everything, "m")
    assert nobody == [] and none.ids == []
