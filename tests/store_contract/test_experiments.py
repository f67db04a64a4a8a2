"""``ExperimentStore``: experiments round-tripped, named once, stopped; first exposures kept,
joined with outcomes, kept apart by workspace and forgotten with the user."""

from __future__ import annotations

from datetime import timedelta

import pytest

from selfmodel.domain import (
    Experiment,
    ExperimentStatus,
    Exposure,
    Outcome,
    OutcomeKind,
    User,
    Workspace,
    new_id,
)
from selfmodel.domain.time import utcnow
from selfmodel.errors import ConflictError
from selfmodel.storage import Store
from tests.store_contract.records import experiment


def exposure(x: Experiment, user: User, variant: str = "off", **fields: object) -> Exposure:
    values: dict[str, object] = {
        "workspace_id": x.workspace_id,
        "experiment_id": x.id,
        "user_id": user.id,
        "variant": variant,
        "exposed_at": utcnow(),
        **fields,
    }
    return Exposure.model_validate(values)


def test_an_experiment_round_trips_with_every_field(store: Store, ws: Workspace) -> None:
    x = experiment(
        ws, description="Does the self-model help? ünïcode kept", layer="ranking", traffic=0.25
    )
    x = x.model_copy(update={"bucket_start": 2_500, "bucket_end": 5_000})
    store.insert_experiment(x)
    assert store.get_experiment(ws.id, x.id) == x
    assert store.get_experiment(ws.id, "pers") == x
    assert store.get_experiment(ws.id, "nope") is None
    variant = store.list_experiments(ws.id)[0].variant("words")
    assert variant is not None and variant.config.ranking == {
        "keyword_weight": 0.0,
        "strip_names": False,
    }
    assert isinstance(variant.config.ranking["strip_names"], bool)


def test_a_name_is_taken_once_per_workspace(store: Store, ws: Workspace) -> None:
    store.insert_experiment(experiment(ws))
    with pytest.raises(ConflictError):
        store.insert_experiment(experiment(ws))
    other = store.get_or_create_workspace("other")
    store.insert_experiment(experiment(other))
    assert [x.name for x in store.list_experiments(other.id)] == ["pers"]
    assert len(store.list_experiments(ws.id)) == 1


def test_stopping_an_experiment_once(store: Store, ws: Workspace) -> None:
    first, second = experiment(ws, "a"), experiment(ws, "b")
    store.insert_experiment(first)
    store.insert_experiment(second)
    when = utcnow()
    with store.transaction():
        store.lock_experiments(ws.id)
        assert store.stop_experiment(ws.id, first.id, when)
    assert not store.stop_experiment(ws.id, first.id, when + timedelta(hours=1))
    stopped = store.get_experiment(ws.id, first.id)
    assert stopped is not None and stopped.status is ExperimentStatus.STOPPED
    assert stopped.stopped_at == when
    running = store.list_experiments(ws.id, status=ExperimentStatus.RUNNING)
    assert [x.name for x in running] == ["b"]
    assert [x.name for x in store.list_experiments(ws.id)] == ["a", "b"]


def test_the_first_exposure_is_kept(store: Store, ws: Workspace, maya: User) -> None:
    x = experiment(ws)
    store.insert_experiment(x)
    first = exposure(x, maya, exposed_at=utcnow() - timedelta(days=2))
    assert store.record_exposure(first) == first
    assert store.record_exposure(exposure(x, maya, "words")) == first
    assert store.list_exposures(ws.id, experiment_id=x.id) == [first]
    assert store.list_exposures(ws.id, user_id=maya.id) == [first]


def test_exposures_are_kept_apart_by_experiment_user_and_workspace(
    store: Store, ws: Workspace, maya: User
) -> None:
    bob = store.get_or_create_user(ws.id, "bob")
    a, b = experiment(ws, "a"), experiment(ws, "b")
    other_ws = store.get_or_create_workspace("other")
    elsewhere = experiment(other_ws, "a")
    maya_elsewhere = store.get_or_create_user(other_ws.id, "maya")
    for x in (a, b, elsewhere):
        store.insert_experiment(x)
    mine, his, hers_b = exposure(a, maya), exposure(a, bob), exposure(b, maya)
    theirs = exposure(elsewhere, maya_elsewhere)
    for e in (mine, his, hers_b, theirs):
        store.record_exposure(e)
    assert store.list_exposures(ws.id, experiment_id=a.id) == [mine, his]
    assert store.list_exposures(ws.id, user_id=maya.id) == [mine, hers_b]
    assert store.list_exposures(ws.id, experiment_id=a.id, user_id=bob.id) == [his]
    assert store.list_exposures(other_ws.id, experiment_id=a.id) == []
    assert store.list_exposures(other_ws.id) == [theirs]


def outcome(user: User, kind: OutcomeKind, **fields: object) -> Outcome:
    now = utcnow()
    values: dict[str, object] = {
        "id": new_id("out"),
        "workspace_id": user.workspace_id,
        "user_id": user.id,
        "kind": kind,
        "occurred_at": now,
        "recorded_at": now,
        **fields,
    }
    return Outcome.model_validate(values)


def test_exposed_outcomes_are_those_of_the_exposed_users(
    store: Store, ws: Workspace, maya: User
) -> None:
    bob = store.get_or_create_user(ws.id, "bob")
    carol = store.get_or_create_user(ws.id, "carol")
    x = experiment(ws)
    store.insert_experiment(x)
    store.record_exposure(exposure(x, maya))
    store.record_exposure(exposure(x, bob, "words"))
    before = outcome(maya, OutcomeKind.RATING, value=2.0, occurred_at=utcnow() - timedelta(days=9))
    rated = outcome(maya, OutcomeKind.RATING, value=4.5)
    his = outcome(bob, OutcomeKind.RATING, value=3.0)
    metric = outcome(bob, OutcomeKind.METRIC, name="session.turns", value=7.0)
    other_metric = outcome(bob, OutcomeKind.METRIC, name="other", value=1.0)
    unexposed = outcome(carol, OutcomeKind.RATING, value=1.0)
    for o in (before, rated, his, metric, other_metric, unexposed):
        store.insert_outcome(o)
    got = store.exposed_outcomes(ws.id, x.id, OutcomeKind.RATING)
    assert sorted(o.id for o in got) == sorted([before.id, rated.id, his.id])
    assert store.exposed_outcomes(ws.id, x.id, OutcomeKind.METRIC, "session.turns") == [metric]
    assert store.exposed_outcomes(ws.id, x.id, OutcomeKind.THUMBS_UP) == []
    other_ws = store.get_or_create_workspace("other")
    assert store.exposed_outcomes(other_ws.id, x.id, OutcomeKind.RATING) == []


def test_forgetting_a_user_deletes_their_exposures(store: Store, ws: Workspace, maya: User) -> None:
    bob = store.get_or_create_user(ws.id, "bob")
    x = experiment(ws)
    store.insert_experiment(x)
    store.record_exposure(exposure(x, maya))
    kept = store.record_exposure(exposure(x, bob))
    deleted = store.delete_user(ws.id, maya.id)
    assert deleted.counts["experiment_exposures"] == 1
    assert store.remaining_of_user(ws.id, maya.id) == {}
    assert store.list_exposures(ws.id, experiment_id=x.id) == [kept]
    assert store.get_experiment(ws.id, x.id) == x  # the experiment is the workspace's
