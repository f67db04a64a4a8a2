"""``OutcomeStore``: a user's outcomes round-tripped, filtered, unique per caller id, forgotten."""

from __future__ import annotations

from datetime import timedelta

import pytest

from selfmodel.domain import Outcome, OutcomeKind, User, Workspace, new_id
from selfmodel.domain.time import utcnow
from selfmodel.errors import ConflictError
from selfmodel.storage import Store


def outcome(user: User, kind: OutcomeKind = OutcomeKind.THUMBS_UP, **fields: object) -> Outcome:
    now = utcnow()
    values: dict[str, object] = {
        "id": new_id("out"),
        "workspace_id": user.workspace_id,
        "user_id": user.id,
        "kind": kind,
        "occurred_at": now - timedelta(minutes=5),
        "recorded_at": now,
        **fields,
    }
    return Outcome.model_validate(values)


def test_an_outcome_round_trips_with_every_field(store: Store, ws: Workspace, maya: User) -> None:
    stored = outcome(
        maya,
        OutcomeKind.CORRECTION,
        trace_id="trc_1",
        label="I said Lisbon, not Porto — ünïcode kept",
        used_item_ids=("bel_a", "obs_b"),
        external_id="fb-1",
    )
    metric = outcome(maya, OutcomeKind.METRIC, name="session.length_s", value=91.25)
    store.insert_outcome(stored)
    store.insert_outcome(metric)
    assert store.list_outcomes(ws.id, maya.id) == [stored, metric]
    assert store.get_outcome_by_external_id(ws.id, maya.id, "fb-1") == stored


def test_outcomes_filter_by_trace_and_kind(store: Store, ws: Workspace, maya: User) -> None:
    up = outcome(maya, trace_id="trc_1")
    down = outcome(maya, OutcomeKind.THUMBS_DOWN, trace_id="trc_2")
    rating = outcome(maya, OutcomeKind.RATING, value=4.5, trace_id="trc_1")
    for record in (up, down, rating):
        store.insert_outcome(record)
    assert store.list_outcomes(ws.id, maya.id, trace_id="trc_1") == [up, rating]
    assert store.list_outcomes(ws.id, maya.id, kind=OutcomeKind.THUMBS_DOWN) == [down]
    got = store.list_outcomes(ws.id, maya.id, trace_id="trc_1", kind=OutcomeKind.RATING)
    assert got == [rating]
    assert store.list_outcomes(ws.id, maya.id, trace_id="trc_none") == []


def test_outcomes_are_kept_apart_by_user_and_workspace(
    store: Store, ws: Workspace, maya: User
) -> None:
    bob = store.get_or_create_user(ws.id, "bob")
    other_ws = store.get_or_create_workspace("other")
    maya_elsewhere = store.get_or_create_user(other_ws.id, "maya")
    mine, his = outcome(maya, external_id="same"), outcome(bob, external_id="same")
    theirs = outcome(maya_elsewhere, external_id="same")
    for record in (mine, his, theirs):
        store.insert_outcome(record)
    assert store.list_outcomes(ws.id, maya.id) == [mine]
    assert store.list_outcomes(ws.id, bob.id) == [his]
    assert store.list_outcomes(other_ws.id, maya.id) == []
    assert store.list_outcomes(other_ws.id, maya_elsewhere.id) == [theirs]
    assert store.get_outcome_by_external_id(other_ws.id, maya.id, "same") is None
    assert store.get_outcome_by_external_id(ws.id, maya.id, "missing") is None


def test_a_caller_id_is_unique_per_user(store: Store, ws: Workspace, maya: User) -> None:
    store.insert_outcome(outcome(maya, external_id="fb-1"))
    with pytest.raises(ConflictError):
        store.insert_outcome(outcome(maya, OutcomeKind.THUMBS_DOWN, external_id="fb-1"))
    assert [o.kind for o in store.list_outcomes(ws.id, maya.id)] == [OutcomeKind.THUMBS_UP]


def test_forgetting_a_user_deletes_their_outcomes(store: Store, ws: Workspace, maya: User) -> None:
    bob = store.get_or_create_user(ws.id, "bob")
    store.insert_outcome(outcome(maya))
    store.insert_outcome(outcome(maya, OutcomeKind.RETURNED, value=3.0))
    kept = outcome(bob)
    store.insert_outcome(kept)
    deleted = store.delete_user(ws.id, maya.id)
    assert deleted.counts["outcomes"] == 2
    assert store.list_outcomes(ws.id, maya.id) == []
    assert store.remaining_of_user(ws.id, maya.id) == {}
    assert store.list_outcomes(ws.id, bob.id) == [kept]
