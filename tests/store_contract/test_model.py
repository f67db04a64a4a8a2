"""``ModelStore``: users, areas, observations, beliefs, evidence, history, the user lock, and
forgetting a user (every row about them, whatever concern holds it)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import numpy as np
import pytest

from selfmodel.domain import (
    BeliefEventType,
    BeliefKind,
    BeliefStatus,
    EvidenceStance,
    User,
    Workspace,
)
from selfmodel.domain.time import utcnow
from selfmodel.errors import InvalidInputError, StorageError
from selfmodel.storage import BeliefFilter, ModelStore, Store
from tests.store_contract.records import (
    belief,
    card,
    enqueue,
    event,
    evidence,
    mirror_link,
    observation,
    trace,
)
from tests.support.rows import rows_of_user


# -- users and contexts ------------------------------------------------------------------------
def test_users_are_unique_per_workspace_and_isolated_between_workspaces(
    store: Store, ws: Workspace, maya: User
) -> None:
    assert store.get_or_create_user(ws.id, "maya") == maya
    other = store.get_or_create_workspace("other")
    elsewhere = store.get_or_create_user(other.id, "maya")
    assert elsewhere.id != maya.id
    store.get_or_create_user(ws.id, "Bob")
    assert [u.external_id for u in store.list_users(ws.id)] == ["Bob", "maya"]  # byte order
    assert store.get_user(ws.id, "maya") == maya
    assert store.get_user_by_id(ws.id, maya.id) == maya
    assert store.get_user_by_id(other.id, maya.id) is None


def test_a_display_name_is_set_and_cleared_only_for_a_stored_user(
    store: ModelStore, ws: Workspace, maya: User
) -> None:
    assert maya.display_name is None
    named = store.set_display_name(ws.id, maya.id, "Maya")
    assert named.display_name == "Maya" and store.get_user(ws.id, "maya") == named
    assert store.set_display_name(ws.id, maya.id, None).display_name is None
    with pytest.raises(StorageError):
        store.set_display_name(ws.id, "usr_missing", "Nobody")


def test_contexts_are_created_once(store: ModelStore, ws: Workspace) -> None:
    ctx = store.get_or_create_context(ws.id, "work")
    assert store.get_or_create_context(ws.id, "work") == ctx
    assert store.get_context(ws.id, "work") == ctx
    assert store.get_context(ws.id, "home") is None


# -- observations ------------------------------------------------------------------------------
def test_observations_round_trip_in_time_order_and_skip_known_external_ids(
    store: ModelStore, maya: User
) -> None:
    late = observation(maya, "second", "e2", minutes=5)
    early = observation(maya, "first", "e1", minutes=1)
    assert store.insert_observations([late, early]) == [late, early]
    again = observation(maya, "first again", "e1")
    assert store.insert_observations([again]) == []
    listed = store.list_observations(maya.workspace_id, [maya.id])
    assert [o.content for o in listed] == ["first", "second"]
    assert listed[0] == early  # every field survives the round trip
    assert store.list_observations(maya.workspace_id, [maya.id], limit=1) == [early]
    assert store.list_observations(maya.workspace_id, []) == []
    assert store.existing_external_ids(maya.workspace_id, maya.id, ["e1", "e3"]) == {"e1"}
    got = store.get_observations(maya.workspace_id, [late.id, "obs_missing"])
    assert got == [late]
    assert store.get_observations("ws_other", [late.id]) == []


def test_observations_with_new_ids_are_all_new_and_seen_by_what_follows(
    store: Store, maya: User
) -> None:
    """With ids just made, nothing is read back: all are returned, and whatever runs after in
    the transaction (a read, a write of another table) finds them, as does everyone once it
    commits; with an external id the insert still skips one already there."""
    ws = maya.workspace_id
    first, second = observation(maya, "first", minutes=1), observation(maya, "second", minutes=2)
    with store.transaction():
        store.lock_user(ws, maya.id)
        assert store.insert_observations([first, second], new_ids=True) == [first, second]
        store.put_vectors(ws, maya.id, "observation", "m", [(first.id, np.ones(3, np.float32))])
        assert store.list_observations(ws, [maya.id]) == [first, second]
    assert store.list_observations(ws, [maya.id]) == [first, second]
    assert [o.id for o in store.list_observations_since(ws, maya.id, 0, "m")[0]] == [
        first.id,
        second.id,
    ]  # stamped with the revision of the transaction that wrote them
    named = observation(maya, "named", "e1")
    assert store.insert_observations([named], new_ids=True) == [named]
    again = observation(maya, "named again", "e1")
    assert store.insert_observations([again], new_ids=True) == []
    # Any external id, even an empty one, is checked: the store's key counts it.
    empty = observation(maya, "empty", "")
    assert store.insert_observations([empty], new_ids=True) == [empty]
    assert store.insert_observations([observation(maya, "empty too", "")], new_ids=True) == []
    assert [o.content for o in store.list_observations(ws, [maya.id])] == [
        "named",
        "empty",
        "first",
        "second",
    ]


def test_new_observations_are_stored_all_or_none(store: Store, maya: User) -> None:
    good, bad = observation(maya, "fine"), observation(maya, "broken \x00 text")
    with pytest.raises(InvalidInputError):
        store.insert_observations([good, bad], new_ids=True)
    assert store.list_observations(maya.workspace_id, [maya.id]) == []


def test_a_failed_transaction_keeps_none_of_its_new_observations(store: Store, maya: User) -> None:
    held = observation(maya, "held back")
    with pytest.raises(RuntimeError), store.transaction():
        store.lock_user(maya.workspace_id, maya.id)
        store.insert_observations([held], new_ids=True)
        raise RuntimeError("the unit of work failed")
    assert store.list_observations(maya.workspace_id, [maya.id]) == []


def test_a_user_comes_with_what_they_said_just_before(
    store: Store, ws: Workspace, maya: User
) -> None:
    """What an observe reads first, in one read: the user, and their last turns before a
    moment, oldest first, exactly as ``list_observations_before`` has them."""
    turns = [observation(maya, f"turn {i}", minutes=i) for i in range(5)]
    store.insert_observations(turns)
    ben = store.get_or_create_user(ws.id, "ben")
    (bens,) = store.insert_observations([observation(ben, "ben's", minutes=3)])
    cara = store.get_or_create_user(ws.id, "cara")
    before = turns[4].occurred_at
    user, earlier = store.get_user_with_turns_before(ws.id, "maya", before, 3)
    assert user == maya
    assert earlier == turns[1:4] == store.list_observations_before(ws.id, maya.id, before, 3)
    assert store.get_user_with_turns_before(ws.id, "maya", turns[0].occurred_at, 3) == (maya, [])
    assert store.get_user_with_turns_before(ws.id, "ben", before, 3) == (ben, [bens])
    assert store.get_user_with_turns_before(ws.id, "cara", before, 3) == (cara, [])
    assert store.get_user_with_turns_before(ws.id, "nobody", before, 3) == (None, [])
    other = store.get_or_create_workspace("other")
    assert store.get_user_with_turns_before(other.id, "maya", before, 3) == (None, [])


def test_an_observation_keeps_its_area(store: ModelStore, ws: Workspace, maya: User) -> None:
    area = store.get_or_create_context(ws.id, "work")  # the storage layer's name for an area
    seen = observation(maya, "at work").model_copy(update={"area_id": area.id})
    store.insert_observations([seen])
    assert store.get_observations(ws.id, [seen.id]) == [seen]
    assert store.list_observations(ws.id, [maya.id]) == [seen]


def test_the_turns_just_before_a_moment_are_the_latest_ones_oldest_first(
    store: ModelStore, maya: User
) -> None:
    turns = [observation(maya, f"turn {n}", minutes=n) for n in range(5)]
    store.insert_observations(turns)
    before = store.list_observations_before(maya.workspace_id, maya.id, turns[4].occurred_at, 2)
    assert [o.content for o in before] == ["turn 2", "turn 3"]
    assert store.list_observations_before(maya.workspace_id, maya.id, turns[0].occurred_at, 2) == []


# -- beliefs, evidence, history ----------------------------------------------------------------
def test_beliefs_are_filtered_by_status_kind_context_and_confidence_newest_first(
    store: ModelStore, ws: Workspace, maya: User
) -> None:
    ctx = store.get_or_create_context(ws.id, "work")
    a = belief(maya, "likes tea", confidence=0.9)
    b = belief(maya, "is a nurse", kind=BeliefKind.IDENTITY, area_id=ctx.id)
    c = belief(maya, "liked coffee", status=BeliefStatus.SUPERSEDED, confidence=0.3)
    for one in (a, b, c):
        store.insert_belief(one)
    everyone = BeliefFilter(user_ids=(maya.id,), statuses=())
    newest_first = sorted((a.id, b.id, c.id), reverse=True)  # ids are time-ordered
    assert [x.id for x in store.list_beliefs(ws.id, everyone)] == newest_first
    active = store.list_beliefs(ws.id, BeliefFilter(user_ids=(maya.id,)))
    assert {x.id for x in active} == {a.id, b.id}
    identity = BeliefFilter(user_ids=(maya.id,), kinds=(BeliefKind.IDENTITY,))
    assert store.list_beliefs(ws.id, identity) == [b]
    elsewhere = BeliefFilter(user_ids=(maya.id,), context_id="ctx_other")
    assert store.list_beliefs(ws.id, elsewhere) == [a]
    sure = BeliefFilter(user_ids=(maya.id,), min_confidence=0.8)
    assert store.list_beliefs(ws.id, sure) == [a]
    assert len(store.list_beliefs(ws.id, BeliefFilter(user_ids=(maya.id,), limit=1))) == 1
    assert store.list_beliefs(ws.id, BeliefFilter(user_ids=())) == []
    assert store.list_beliefs("ws_other", everyone) == []


def test_a_belief_update_rewrites_it_and_an_unknown_belief_cannot_be_updated(
    store: ModelStore, ws: Workspace, maya: User
) -> None:
    stored = belief(maya, "likes tea")
    store.insert_belief(stored)
    changed = stored.model_copy(
        update={"confidence": 0.2, "status": BeliefStatus.DECAYED, "support_count": 3}
    )
    store.update_belief(changed)
    assert store.get_belief(ws.id, stored.id) == changed
    assert store.get_belief("ws_other", stored.id) is None
    with pytest.raises(StorageError):
        store.update_belief(belief(maya, "never stored"))


def test_the_same_evidence_link_is_stored_once(
    store: ModelStore, ws: Workspace, maya: User
) -> None:
    (obs,) = store.insert_observations([observation(maya, "I love tea.")])
    stored = belief(maya, "loves tea")
    store.insert_belief(stored)
    link = evidence(stored.id, obs.id, weight=1.2, span_start=0, span_end=11, quote="I love tea.")
    assert store.add_evidence(ws.id, maya.id, link) is True
    assert store.add_evidence(ws.id, maya.id, link) is False
    contra = link.model_copy(
        update={"stance": EvidenceStance.CONTRADICTS, "created_at": utcnow() + timedelta(seconds=1)}
    )
    assert store.add_evidence(ws.id, maya.id, contra) is True
    assert store.list_evidence(ws.id, [stored.id]) == [link, contra]
    assert store.list_evidence(ws.id, []) == []
    assert store.list_evidence("ws_other", [stored.id]) == []


def test_unseen_evidence_is_not_read_back_yet_is_there_for_what_follows(
    store: Store, ws: Workspace, maya: User
) -> None:
    """Unseen: the caller vouches the link is new, so nothing is read back; a checked link of
    the same after it (in the same transaction) still finds it."""
    stored = belief(maya, "loves tea")
    with store.transaction():
        store.lock_user(ws.id, maya.id)
        (obs,) = store.insert_observations([observation(maya, "I love tea.")], new_ids=True)
        store.insert_belief(stored)
        link = evidence(stored.id, obs.id, quote="I love tea.")
        assert store.add_evidence(ws.id, maya.id, link, unseen=True) is True
        assert store.add_evidence(ws.id, maya.id, link) is False
    assert store.list_evidence(ws.id, [stored.id]) == [link]


def test_evidence_read_for_named_users_leaves_out_everyone_elses(
    store: ModelStore, ws: Workspace, maya: User
) -> None:
    sam = store.get_or_create_user(ws.id, "sam")
    links = {}
    for person in (maya, sam):
        (obs,) = store.insert_observations([observation(person, "I love tea.")])
        stored = belief(person, "loves tea")
        store.insert_belief(stored)
        links[person.id] = evidence(stored.id, obs.id)
        store.add_evidence(ws.id, person.id, links[person.id])
    both = [links[maya.id].belief_id, links[sam.id].belief_id]
    assert store.list_evidence(ws.id, both, user_ids=[maya.id]) == [links[maya.id]]
    assert store.list_evidence(ws.id, both, user_ids=[sam.id, maya.id]) == sorted(
        links.values(), key=lambda e: (e.created_at, e.belief_id)
    )
    assert store.list_evidence(ws.id, both, user_ids=[]) == []
    assert store.list_evidence(ws.id, both) == store.list_evidence(
        ws.id, both, user_ids=[maya.id, sam.id]
    )


def test_history_lists_events_oldest_first_by_belief_or_user(
    store: ModelStore, ws: Workspace, maya: User
) -> None:
    stored = belief(maya, "loves tea")
    store.insert_belief(stored)
    events = [
        event(stored, kind, seconds=i)
        for i, kind in enumerate((BeliefEventType.CREATED, BeliefEventType.REINFORCED))
    ]
    for one in reversed(events):
        store.append_event(one)
    assert store.list_events(ws.id, belief_id=stored.id) == events
    assert store.list_events(ws.id, user_id=maya.id) == events
    assert store.list_events(ws.id, belief_id="bel_other") == []
    assert store.list_events("ws_other", user_id=maya.id) == []


# -- the user lock -----------------------------------------------------------------------------
def test_holding_a_user_makes_a_second_holder_wait_for_the_commit(
    store: ModelStore, maya: User
) -> None:
    """Revisions of one user serialise: a transaction that locks the user goes on only once an
    earlier holder has committed (SQLite: the file's write lock; PostgreSQL: the user row)."""
    held = threading.Event()
    order: list[str] = []

    def first() -> None:
        with store.transaction():
            store.lock_user(maya.workspace_id, maya.id)
            held.set()
            time.sleep(0.3)
            store.insert_observations([observation(maya, "first")])
            order.append("first commits")

    def second() -> None:
        assert held.wait(timeout=10)
        with store.transaction():
            store.lock_user(maya.workspace_id, maya.id)
            order.append("second holds")
            seen = store.list_observations(maya.workspace_id, [maya.id])
            order.append(f"second sees {len(seen)}")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert order == ["first commits", "second holds", "second sees 1"]


# -- forgetting --------------------------------------------------------------------------------
def test_delete_user_leaves_no_row_of_the_user_and_spares_everyone_else(
    store: Store, db_location: str, ws: Workspace, maya: User
) -> None:
    bob = store.get_or_create_user(ws.id, "bob")
    for user in (maya, bob):
        (obs,) = store.insert_observations([observation(user, "I love tea.", "x1")])
        stored = belief(user, "loves tea")
        store.insert_belief(stored)
        store.add_evidence(ws.id, user.id, evidence(stored.id, obs.id))
        store.append_event(event(stored, BeliefEventType.CREATED))
        store.put_vectors(ws.id, user.id, "belief", "m", [(stored.id, np.ones(4, np.float32))])
        enqueue(store, user)
        store.insert_mirror_link(mirror_link(user))
        store.insert_prompts([card(user)])
    shared = trace(maya, bob, query="tea?")
    store.insert_trace(shared)
    before = rows_of_user(db_location, maya.id)
    assert before.keys() >= {
        "observations",
        "beliefs",
        "evidence",
        "belief_events",
        "vectors",
        "jobs",
        "mirror_links",
        "mirror_prompts",
        "trace_users",
        "users",
    }

    counts = store.delete_user(ws.id, maya.id)

    assert rows_of_user(db_location, maya.id) == {}
    assert counts.total >= sum(before.values())
    assert store.get_trace(ws.id, shared.id) is None  # it quoted Maya
    assert store.get_user(ws.id, "maya") is None
    assert len(store.list_observations(ws.id, [bob.id])) == 1
    assert rows_of_user(db_location, bob.id).keys() >= {
        "beliefs",
        "evidence",
        "jobs",
        "mirror_links",
    }
