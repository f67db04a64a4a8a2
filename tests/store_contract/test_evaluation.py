"""``EvalStore``: recorded eval runs and their item scores, kept per workspace."""

from __future__ import annotations

from datetime import timedelta

from selfmodel.domain import EvalItemScore, EvalRun, Workspace, new_id
from selfmodel.domain.time import utcnow
from selfmodel.storage import Store


def eval_run(ws: Workspace, *, suite: str = "golden", minutes: int = 0, items: int = 2) -> EvalRun:
    started = utcnow() + timedelta(minutes=minutes)
    return EvalRun(
        id=new_id("evr"),
        workspace_id=ws.id,
        suite=suite,
        suite_kind="golden",
        dataset_sha256="a" * 64,
        config_sha256="b" * 64,
        k=10,
        started_at=started,
        finished_at=started + timedelta(seconds=3),
        item_count=items,
        mean_recall=0.75,
        config={"ranking": {"keyword_weight": 1.0}, "budget_tokens": 300},
        code_version={"package": "0.1.0", "commit": None},
        summary={"violations": 1, "tokens_mean": 120.5},
    )


def scores() -> list[EvalItemScore]:
    return [
        EvalItemScore("q-2", 1.0, 2, 2, 0, 130, 12.5, category="1"),
        EvalItemScore("q-1", 0.5, 1, 2, 1, 111, 9.25),
    ]


def test_a_run_round_trips_with_its_items_in_order(store: Store, ws: Workspace) -> None:
    run = eval_run(ws)
    store.insert_eval_run(run, scores())
    assert store.get_eval_run(ws.id, run.id) == run
    assert store.list_eval_items(ws.id, run.id) == scores()


def test_runs_are_listed_newest_first(store: Store, ws: Workspace) -> None:
    older, newer = eval_run(ws, suite="old", minutes=-5), eval_run(ws, suite="new")
    for run in (newer, older):
        store.insert_eval_run(run, scores())
    assert [r.suite for r in store.list_eval_runs(ws.id)] == ["new", "old"]


def test_another_workspace_sees_none_of_the_runs(store: Store, ws: Workspace) -> None:
    other = store.get_or_create_workspace("other")
    run = eval_run(ws)
    store.insert_eval_run(run, scores())
    assert store.get_eval_run(other.id, run.id) is None
    assert store.list_eval_runs(other.id) == []
    assert store.list_eval_items(other.id, run.id) == []


def test_a_run_without_a_mean_keeps_it_empty(store: Store, ws: Workspace) -> None:
    run = eval_run(ws, items=0)
    run = EvalRun(**{**run.__dict__, "mean_recall": None})
    store.insert_eval_run(run, [])
    got = store.get_eval_run(ws.id, run.id)
    assert got is not None and got.mean_recall is None
    assert store.list_eval_items(ws.id, run.id) == []
