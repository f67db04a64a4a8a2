"""An experiment's analysis from stored exposures and outcomes, on both backends: per-user
values split at each user's exposure, the same numbers as the statistics on hand-made arrays,
through the library, the API, the SDK and the CLI."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

from selfmodel import InvalidInputError, SelfModel
from selfmodel.cli import app
from selfmodel.client import Client
from selfmodel.domain import Experiment, Exposure, Outcome, OutcomeKind, Variant, new_id
from selfmodel.domain.time import utcnow
from selfmodel.experiments.statistics import cuped, difference_in_means
from tests.support.server import new_workspace_key

DAYS = 10
USERS_PER_ARM = 30


def seed_experiment(sm: SelfModel, *, stop_after_days: float | None = None) -> dict[str, object]:
    """An experiment started DAYS ago; users exposed over its days; each rated before exposure
    (their covariate) and after it (the metric), treatment ½ a star higher; thumbs up counted."""
    store, ws = sm.store, sm.workspace.id
    start = utcnow() - timedelta(days=DAYS)
    experiment = Experiment(
        id=new_id("exp"),
        workspace_id=ws,
        name="pers",
        variants=(Variant(name="off"), Variant(name="on")),
        control="off",
        salt="s",
        created_at=start,
    )
    store.insert_experiment(experiment)
    rng = np.random.default_rng(7)
    expected: dict[str, dict[str, list[float]]] = {"off": {}, "on": {}}
    for n in range(2 * USERS_PER_ARM):
        variant = "on" if n % 2 else "off"
        user = store.get_or_create_user(ws, f"user-{n}")
        exposed = start + timedelta(days=(n % DAYS) + 0.5)
        store.record_exposure(
            Exposure(
                workspace_id=ws,
                experiment_id=experiment.id,
                user_id=user.id,
                variant=variant,
                exposed_at=exposed,
            )
        )
        taste = rng.normal(3.0, 0.8)
        before = [float(np.clip(taste + rng.normal(0, 0.3), 1, 5)) for _ in range(2)]
        after = [
            float(np.clip(taste + (0.5 if variant == "on" else 0) + rng.normal(0, 0.3), 1, 5))
            for _ in range(3)
        ]
        for k, value in enumerate(before):
            record(sm, user.id, OutcomeKind.RATING, exposed - timedelta(days=2 + k), value)
        for k, value in enumerate(after):
            record(sm, user.id, OutcomeKind.RATING, exposed + timedelta(hours=1 + k), value)
        thumbs = n % 3 + (1 if variant == "on" else 0)
        for k in range(thumbs):
            record(sm, user.id, OutcomeKind.THUMBS_UP, exposed + timedelta(minutes=5 + k), None)
        expected[variant][user.id] = [float(np.mean(before)), float(np.mean(after)), thumbs]
    # Outside everything: a user never exposed, and a rating long before the pre-period.
    other = store.get_or_create_user(ws, "never-exposed")
    record(sm, other.id, OutcomeKind.RATING, start + timedelta(days=1), 1.0)
    if stop_after_days is not None:
        store.stop_experiment(ws, experiment.id, start + timedelta(days=stop_after_days))
    return {"experiment": experiment, "expected": expected}


def record(sm: SelfModel, user_id: str, kind: OutcomeKind, at: datetime, value: float | None):
    sm.store.insert_outcome(
        Outcome(
            id=new_id("out"),
            workspace_id=sm.workspace.id,
            user_id=user_id,
            kind=kind,
            value=value,
            occurred_at=at,
            recorded_at=utcnow(),
        )
    )


def arrays(expected: dict[str, dict[str, list[float]]], column: int, variant: str) -> np.ndarray:
    return np.array([v[column] for v in expected[variant].values()])


def test_the_analysis_is_the_statistics_of_each_users_values(any_sm: SelfModel) -> None:
    seeded = seed_experiment(any_sm)
    expected = seeded["expected"]
    got = any_sm.analyze_experiment("pers", "rating")
    assert [(a.variant, a.exposed, a.users) for a in got.arms] == [
        ("off", USERS_PER_ARM, USERS_PER_ARM),
        ("on", USERS_PER_ARM, USERS_PER_ARM),
    ]
    assert not got.sample_ratio.mismatch and got.warnings == []
    (comparison,) = got.comparisons
    y_t, y_c = arrays(expected, 1, "on"), arrays(expected, 1, "off")  # type: ignore[arg-type]
    x_t, x_c = arrays(expected, 0, "on"), arrays(expected, 0, "off")  # type: ignore[arg-type]
    raw = difference_in_means(y_t, y_c, 0.05)
    assert comparison.effect is not None
    assert comparison.effect.estimate == pytest.approx(raw.estimate)
    assert comparison.effect.p_value == pytest.approx(raw.p_value)
    adjusted = cuped(y_t, x_t, y_c, x_c)
    assert comparison.cuped is not None
    assert comparison.cuped.theta == pytest.approx(adjusted.theta)
    assert comparison.cuped.covariate_users == 2 * USERS_PER_ARM
    # The users' taste is most of the variance: the pre-period explains it away.
    assert comparison.cuped.variance_reduction > 0.5
    cuped_width = comparison.cuped.effect.ci_high - comparison.cuped.effect.ci_low
    assert cuped_width < comparison.effect.ci_high - comparison.effect.ci_low
    assert comparison.cuped.effect.ci_low < 0.5 < comparison.cuped.effect.ci_high
    sequential = comparison.sequential
    assert sequential is not None and sequential.adjusted and sequential.significant
    # Daily looks and the last: DAYS + 1, but on the first day only users of "off" (even
    # numbers) were exposed, and a look needs two users in each arm.
    assert sequential.looks == DAYS and sequential.first_significant_at is not None
    assert sequential.ci_low <= comparison.cuped.effect.estimate <= sequential.ci_high
    guide = comparison.sample_size
    assert guide is not None and guide.users_now == 2 * USERS_PER_ARM
    assert guide.users_needed_with_cuped < guide.users_needed  # type: ignore[operator]


def test_a_count_metric_counts_zero_for_a_user_without_the_event(any_sm: SelfModel) -> None:
    expected = seed_experiment(any_sm)["expected"]
    got = any_sm.analyze_experiment("pers", "thumbs_up", pre_period_days=0)
    (comparison,) = got.comparisons
    counts_t, counts_c = arrays(expected, 2, "on"), arrays(expected, 2, "off")  # type: ignore[arg-type]
    assert 0 in counts_c
    assert comparison.effect is not None
    assert comparison.effect.estimate == pytest.approx(counts_t.mean() - counts_c.mean())
    assert comparison.cuped is None  # no pre-period, no covariate
    assert [a.users for a in got.arms] == [USERS_PER_ARM, USERS_PER_ARM]


def test_the_data_ends_when_the_experiment_stopped(any_sm: SelfModel) -> None:
    seed_experiment(any_sm, stop_after_days=4.6)
    got = any_sm.analyze_experiment("pers", "rating")
    # Users exposed on days 0.5 … 4.5 only.
    assert sum(a.exposed for a in got.arms) == 2 * USERS_PER_ARM // DAYS * 5
    assert got.end == any_sm.experiment("pers").stopped_at


def test_a_lopsided_split_is_a_sample_ratio_mismatch(sm: SelfModel) -> None:
    seeded = seed_experiment(sm)
    experiment = seeded["experiment"]
    assert isinstance(experiment, Experiment)
    for n in range(60):
        user = sm.store.get_or_create_user(sm.workspace.id, f"extra-{n}")
        sm.store.record_exposure(
            Exposure(
                workspace_id=sm.workspace.id,
                experiment_id=experiment.id,
                user_id=user.id,
                variant="on",
                exposed_at=utcnow() - timedelta(hours=1),
            )
        )
    got = sm.analyze_experiment("pers", "thumbs_up")
    assert got.sample_ratio.mismatch and "sample ratio mismatch" in got.warnings[0]


def test_too_few_users_is_a_warning_not_an_error(sm: SelfModel) -> None:
    sm.observe("ada", "I like tea.")
    sm.create_experiment("pers", [{"name": "off"}, {"name": "on"}])
    sm.assignment("ada", "pers")
    sm.record_outcome("ada", "rating", value=4)
    got = sm.analyze_experiment("pers", "rating")
    assert got.comparisons[0].effect is None and "fewer than 2 users" in got.warnings[0]


@pytest.mark.parametrize(
    ("metric", "options", "field"),
    [
        ("stars", {}, "metric"),
        ("metric", {}, "metric"),
        ("metric:Bad Name", {}, "metric"),
        ("rating", {"alpha": 0.7}, "alpha"),
        ("rating", {"alpha": float("nan")}, "alpha"),
        ("rating", {"power": 1.0}, "power"),
        ("rating", {"mde": 0}, "mde"),
        ("rating", {"horizon": 1}, "horizon"),
        ("rating", {"horizon": 2.5}, "horizon"),
        ("rating", {"pre_period_days": -1}, "pre_period_days"),
    ],
)
def test_bad_analysis_settings_are_refused_by_field(
    sm: SelfModel, metric: str, options: dict[str, object], field: str
) -> None:
    sm.create_experiment("pers", [{"name": "off"}, {"name": "on"}])
    with pytest.raises(InvalidInputError) as refused:
        sm.analyze_experiment("pers", metric, **options)  # type: ignore[arg-type]
    assert refused.value.details["field"] == field


def test_the_api_the_sdk_and_the_cli_give_the_librarys_analysis(
    sm: SelfModel, server: str, db_path: Path
) -> None:
    seed_experiment(sm)
    until = utcnow()
    library = sm.analyze_experiment("pers", "rating", until=until, horizon=500)
    key = new_workspace_key(sm.store, sm.workspace.name)
    with Client(server, key) as client:
        assert client.analyze_experiment("pers", "rating", until=until, horizon=500) == library
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {key}"}) as http:
        bad = http.get("/v1/experiments/pers/analysis", params={"metric": "stars"})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
        missing = http.get("/v1/experiments/pers/analysis")
        assert missing.status_code == 422
        unknown = http.get("/v1/experiments/nope/analysis", params={"metric": "rating"})
        assert unknown.json()["error"]["code"] == "experiment_not_found"
        alpha = http.get(
            "/v1/experiments/pers/analysis", params={"metric": "rating", "alpha": "0.9"}
        )
        assert alpha.status_code == 422
    db = str(db_path)
    runner = CliRunner()
    table = runner.invoke(
        app,
        [
            "experiment",
            "analyze",
            "pers",
            "--metric",
            "rating",
            "--db",
            db,
            "-w",
            sm.workspace.name,
        ],
        env={"COLUMNS": "200"},
    )
    assert table.exit_code == 0, table.output
    assert "always-valid p" in table.output and "sample ratio" in table.output
    as_json = runner.invoke(
        app,
        ["experiment", "analyze", "pers", "--metric", "rating", "--json", "--db", db],
        env={"COLUMNS": "200", "SELFMODEL_WORKSPACE": sm.workspace.name},
    )
    data = json.loads(as_json.output)
    assert data["comparisons"][0]["cuped"]["variance_reduction"] > 0.5
