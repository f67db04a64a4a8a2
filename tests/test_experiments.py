"""Experiments in the library: definitions checked, layers kept exclusive, every context call
of an assigned user run under its variant and traced with it, exposures exported and forgotten."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from selfmodel import (
    ConflictError,
    ExperimentNotFoundError,
    ExperimentStatus,
    InvalidInputError,
    SelfModel,
    UserNotFoundError,
)
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.experiments.assignment import assign
from tests.support.statements import SQLiteStatements
from tests.support.stores import BACKENDS, copy_of_store, filled_store

OFF = {"name": "off", "config": {"personalized": False}}
ON = {"name": "on"}
USERS = [f"user-{n}" for n in range(12)]


def observe_users(sm: SelfModel) -> None:
    for user in USERS:
        sm.observe(user, "I love hiking in the mountains with my dog Biscuit.")


@pytest.fixture(scope="module", params=BACKENDS)
def observed_store(
    request: pytest.FixtureRequest, embedder: SentenceTransformerEmbedder
) -> Iterator[str]:
    """Every test user observed once per backend; each test gets a copy."""
    with filled_store(request, request.param, embedder, observe_users) as location:
        yield location


@pytest.fixture
def observed(
    request: pytest.FixtureRequest,
    observed_store: str,
    tmp_path: Path,
    embedder: SentenceTransformerEmbedder,
) -> Iterator[SelfModel]:
    with (
        copy_of_store(request, observed_store, tmp_path) as location,
        SelfModel.open(location, embedder=embedder) as sm,
    ):
        yield sm


def in_variant(sm: SelfModel, experiment: str, variant: str) -> str:
    x = sm.experiment(experiment)
    for user in USERS:
        got = assign(x, user)
        if got is not None and got.name == variant:
            return user
    raise AssertionError(f"no test user in {variant}")


def test_personalization_off_answers_from_an_empty_self_model_and_the_trace_says_so(
    observed: SelfModel,
) -> None:
    observed.create_experiment("pers", [OFF, ON])
    off, on = in_variant(observed, "pers", "off"), in_variant(observed, "pers", "on")
    empty = observed.context(off, "Where does she like to go with her dog?")
    assert empty.text == "" and empty.items == []
    assert empty.config["personalized"] is False
    assert [e["variant"] for e in empty.config["experiments"]] == ["off"]
    full = observed.context(on, "Where does she like to go with her dog?")
    assert "hiking" in full.text.lower() and full.items
    assert full.config["experiments"][0]["name"] == "pers"
    stored = observed.trace(empty.trace_id)
    assert stored.config["experiments"] == empty.config["experiments"]
    assert stored.payload["chosen"] == []


def test_a_call_with_personalization_off_replays_as_it_ran_and_says_why_nothing_was_chosen(
    observed: SelfModel,
) -> None:
    observed.create_experiment("pers", [OFF, ON])
    off = in_variant(observed, "pers", "off")
    empty = observed.context(off, "Where does she like to go with her dog?")
    again = observed.replay(empty.trace_id)
    assert again.reproduced and again.chosen == []
    assert again.config["personalized"] is False
    assert again.config["experiments"] == empty.config["experiments"]
    # The same call on the self-model the user had then: what the treatment would have read.
    treated = observed.replay(empty.trace_id, {"personalized": True})
    assert treated.gained and not treated.reproduced
    (belief,) = observed.beliefs(off)[:1]
    why = observed.why_not(empty.trace_id, belief.id)
    assert why.verdict == "not_personalized"
    assert why.details["experiments"] == empty.config["experiments"]
    then = observed.beliefs_as_of(off, trace_id=empty.trace_id)
    assert [b.belief.id for b in then.beliefs] == [b.id for b in observed.beliefs(off)]


def test_a_variants_ranking_and_budget_are_what_the_call_runs_under(observed: SelfModel) -> None:
    observed.create_experiment(
        "words",
        [
            {"name": "base"},
            {
                "name": "dense",
                "config": {"ranking": {"keyword_weight": 0.0}, "budget_tokens": 120},
            },
        ],
    )
    dense = in_variant(observed, "words", "dense")
    base = in_variant(observed, "words", "base")
    got = observed.context(dense, "hiking", budget_tokens=500)
    assert got.config["ranking"]["keyword_weight"] == 0.0 and got.budget_tokens == 120
    plain = observed.context(base, "hiking", budget_tokens=500)
    assert plain.config["ranking"]["keyword_weight"] == 0.5 and plain.budget_tokens == 500


def test_a_call_about_several_users_runs_as_asked(observed: SelfModel) -> None:
    observed.create_experiment("pers", [OFF, ON])
    shared = observed.context(USERS[:3], "hiking")
    assert "experiments" not in shared.config and shared.items


def test_the_assignment_is_the_variant_context_uses_and_records_one_exposure(
    observed: SelfModel,
) -> None:
    x = observed.create_experiment("pers", [OFF, ON], traffic=1.0)
    user = USERS[0]
    first = observed.assignment(user, "pers")
    assert first.variant in {"off", "on"} and first.reason == "assigned"
    assert first.config is not None and first.exposed_at is not None
    answer = observed.context(user, "hiking")
    assert answer.config["experiments"] == [{"id": x.id, "name": "pers", "variant": first.variant}]
    again = observed.assignment(user, x.id)
    assert again == first  # the exposure is the first one
    assert [(e.variant, e.exposed_at) for e in observed.exposures("pers")] == [
        (first.variant, first.exposed_at)
    ]


def test_outside_the_traffic_a_user_is_in_no_variant(observed: SelfModel) -> None:
    x = observed.create_experiment("small", [OFF, ON], traffic=0.0001)
    outside = [u for u in USERS if assign(x, u) is None]
    assert outside
    got = observed.assignment(outside[0], "small")
    assert (got.variant, got.reason, got.config) == (None, "outside_traffic", None)
    assert "experiments" not in observed.context(outside[0], "hiking").config
    assert observed.exposures("small") == []


def test_a_stopped_experiment_assigns_nobody(observed: SelfModel) -> None:
    observed.create_experiment("pers", [OFF, ON])
    stopped = observed.stop_experiment("pers")
    assert stopped.status is ExperimentStatus.STOPPED and stopped.stopped_at is not None
    assert observed.stop_experiment("pers") == stopped  # again: nothing changes
    got = observed.assignment(USERS[0], "pers")
    assert (got.variant, got.reason) == (None, "stopped")
    assert "experiments" not in observed.context(USERS[0], "hiking").config
    assert [x.name for x in observed.experiments(status="stopped")] == ["pers"]
    assert observed.experiments(status=ExperimentStatus.RUNNING) == []


def test_a_context_call_reads_experiments_only_while_one_runs(
    tmp_path: Path, embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether any runs comes with the users' read: a workspace running none reads none."""
    statements = SQLiteStatements(monkeypatch)
    with SelfModel.open(str(tmp_path / "x.db"), embedder=embedder) as sm:
        observe_users(sm)

        def experiment_reads() -> list[str]:
            statements.take()
            sm.context(USERS[0], "hiking")
            # (The users' read asks whether any runs: an EXISTS within it.)
            return [s for s in statements.take() if s.startswith("SELECT * FROM experiments")]

        assert experiment_reads() == []
        sm.create_experiment("pers", [OFF, ON])
        assert len(experiment_reads()) == 1  # the running ones, to assign the user
        assert sm.exposures("pers")
        sm.stop_experiment("pers")
        assert experiment_reads() == []


def test_experiments_of_one_layer_never_share_a_user(observed: SelfModel) -> None:
    a = observed.create_experiment("a", [OFF, ON], layer="memory", traffic=0.5)
    b = observed.create_experiment(
        "b",
        [{"name": "x"}, {"name": "y", "config": {"moments": False}}],
        layer="memory",
        traffic=0.5,
    )
    assert (a.bucket_start, a.bucket_end, b.bucket_start, b.bucket_end) == (0, 5000, 5000, 10000)
    with pytest.raises(ConflictError, match="no room"):
        observed.create_experiment("c", [OFF, ON], layer="memory", traffic=0.1)
    for user in USERS:
        answer = observed.context(user, "hiking")
        assert len(answer.config["experiments"]) == 1
    observed.stop_experiment("a")  # its buckets are free again
    c = observed.create_experiment("c", [OFF, ON], layer="memory", traffic=0.1)
    assert (c.bucket_start, c.bucket_end) == (0, 1000)


def test_experiments_that_can_share_users_must_vary_different_parameters(
    observed: SelfModel,
) -> None:
    observed.create_experiment("pers", [OFF, ON])
    with pytest.raises(ConflictError, match="personalized") as refused:
        observed.create_experiment("pers-2", [ON, OFF], layer="other")
    assert refused.value.details["experiment"] == "pers"
    words = observed.create_experiment(
        "words", [ON, {"name": "dense", "config": {"ranking": {"keyword_weight": 0}}}]
    )
    user = next(u for u in USERS if (v := assign(words, u)) is not None and v.name == "dense")
    both = observed.context(user, "hiking")
    assert {e["name"] for e in both.config["experiments"]} == {"pers", "words"}
    assert both.config["ranking"]["keyword_weight"] == 0


BAD: list[tuple[str, list[Any], dict[str, Any], str]] = [
    ("Bad Name", [OFF, ON], {}, "name"),
    ("x", [OFF], {}, "variants"),
    ("x", [OFF, OFF], {}, "variants"),
    ("x", [OFF, {"name": "on", "weight": 0}], {}, "variants"),
    ("x", [OFF, {"name": "on", "weight": float("nan")}], {}, "variants"),
    ("x", [OFF, {"name": "on", "config": {"ranking": {"nope": 1}}}], {}, "variants"),
    ("x", [OFF, {"name": "on", "config": {"ranking": {"keyword_weight": -1}}}], {}, "variants"),
    ("x", [OFF, {"name": "on", "config": {"ranking": {"strip_names": 1}}}], {}, "variants"),
    ("x", [OFF, {"name": "on", "config": {"ranking": {"rrf_k": 0.5}}}], {}, "variants"),
    ("x", [OFF, {"name": "on", "config": {"budget_tokens": 0}}], {}, "variants"),
    ("x", [OFF, {"name": "on", "config": {"colour": "red"}}], {}, "variants"),
    ("x", [OFF, ON], {"control": "nope"}, "control"),
    ("x", [OFF, ON], {"traffic": 0}, "traffic"),
    ("x", [OFF, ON], {"traffic": 1.5}, "traffic"),
    ("x", [OFF, ON], {"layer": "Has Spaces"}, "layer"),
    ("x", [OFF, ON], {"description": "  "}, "description"),
    ("x", "off,on", {}, "variants"),  # type: ignore[list-item]
]


@pytest.mark.parametrize(("name", "variants", "options", "field"), BAD)
def test_a_malformed_definition_is_refused_by_field(
    sm: SelfModel, name: str, variants: list[Any], options: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        sm.create_experiment(name, variants, **options)
    assert refused.value.details.get("field") == field
    assert sm.experiments() == []


def test_unknown_names_are_not_found(sm: SelfModel) -> None:
    sm.observe("ada", "I like tea.")
    with pytest.raises(ExperimentNotFoundError):
        sm.experiment("nope")
    with pytest.raises(ExperimentNotFoundError):
        sm.assignment("ada", "nope")
    sm.create_experiment("pers", [OFF, ON])
    with pytest.raises(UserNotFoundError):
        sm.assignment("nobody", "pers")
    with pytest.raises(ConflictError):
        sm.create_experiment("pers", [OFF, ON])


def test_experiments_belong_to_their_workspace(sm: SelfModel) -> None:
    sm.create_experiment("pers", [OFF, ON])
    other = sm.in_workspace("other")
    assert other.experiments() == []
    with pytest.raises(ExperimentNotFoundError):
        other.experiment("pers")
    other.observe("ada", "I like tea.")
    assert "experiments" not in other.context("ada", "tea").config


def test_exposures_are_exported_and_forgotten_with_the_user(observed: SelfModel) -> None:
    observed.create_experiment("pers", [OFF, ON])
    got = observed.assignment(USERS[0], "pers")
    observed.assignment(USERS[1], "pers")
    exported = observed.export(USERS[0])
    assert [(e["variant"], e["user_id"]) for e in exported["exposures"]] == [
        (got.variant, observed.user(USERS[0]).id)
    ]
    observed.forget(USERS[0])
    assert [e.user_id for e in observed.exposures("pers")] == [observed.user(USERS[1]).id]


def test_concurrent_definitions_never_share_a_layers_buckets(
    any_sm: SelfModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two threads each ask for 60 % of one layer at once: one gets it, the other is told the
    layer is full (the workspace's experiments are locked while buckets are chosen). Reading
    the running experiments is slowed down, so without the lock both would read none."""
    import threading
    import time

    store_class = type(any_sm.store)
    read = store_class.list_experiments

    def slow_read(self: Any, *args: Any, **kwargs: Any) -> Any:
        found = read(self, *args, **kwargs)
        time.sleep(0.3)
        return found

    monkeypatch.setattr(store_class, "list_experiments", slow_read)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def define(name: str) -> None:
        start.wait()
        try:
            any_sm.create_experiment(name, [OFF, ON], layer="memory", traffic=0.6)
            outcomes.append("created")
        except ConflictError as exc:
            outcomes.append(exc.message)

    threads = [threading.Thread(target=define, args=(f"x{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes)[0] == "created" and "no room" in sorted(outcomes)[1]
    (made,) = any_sm.experiments()
    assert (made.bucket_start, made.bucket_end) == (0, 6000)
