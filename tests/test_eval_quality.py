"""Quality drift (issue 12): Pettitt's statistic against its definition, its permutation p
against the exact null (every order enumerated), binary segmentation on known series, the
false alarm rate on noise, and series of recorded runs in a real store — in `eval history`,
in the drift report and its CLI."""

from __future__ import annotations

import itertools
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from typer.testing import CliRunner

from selfmodel import SelfModel
from selfmodel.cli import app
from selfmodel.domain import EvalItemScore, EvalRun, new_id
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.evaluation.changepoint import (
    change_points,
    pettitt,
    pettitt_asymptotic_p,
    pettitt_u,
)
from selfmodel.evaluation.quality import quality_series
from selfmodel.evaluation.thresholds import QUALITY_ALPHA
from selfmodel.storage import Store

runner = CliRunner()
T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)


def brute_u(x: list[float]) -> list[float]:
    n = len(x)
    return [
        float(sum(np.sign(x[j] - x[i]) for i in range(t) for j in range(t, n))) for t in range(1, n)
    ]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), min_size=2, max_size=14))
def test_pettitt_u_through_midranks_is_the_sign_sum_of_its_definition(x: list[float]) -> None:
    assert pettitt_u(x).tolist() == pytest.approx(brute_u(x))


def test_asymptotic_p_of_a_known_statistic() -> None:
    # K = 25, n = 10: 2 exp(−6 · 625 / 1100) = 2 exp(−3.40909) = 0.066143.
    assert pettitt_asymptotic_p(25.0, 10) == pytest.approx(0.0661425, rel=1e-5)
    assert pettitt_asymptotic_p(0.0, 10) == 1.0


def test_permutation_p_matches_the_exact_null_of_every_order() -> None:
    x = [0.7, 0.72, 0.69, 0.71, 0.55, 0.6, 0.58, 0.52]
    _, observed, p_perm, _ = pettitt(x, permutations=20_000, seed=1)
    ranks = stats.rankdata(x)
    exceed = total = 0
    for order in itertools.permutations(ranks):
        k = max(abs(t * 9 - 2 * sum(order[:t])) for t in range(1, 8))
        exceed += k >= observed - 1e-9
        total += 1
    exact = exceed / total
    print(f"Pettitt p on 8 values: exact {exact:.5f}, permutation {p_perm:.5f}")
    assert total == math.factorial(8)
    assert p_perm == pytest.approx(exact, abs=0.004)  # Monte-Carlo SE ≈ 0.0006 here


def test_a_step_is_found_where_it_is_with_the_exact_small_sample_p() -> None:
    # Ten runs of two configurations: only the 5 | 5 split (and its mirror) reach K = 25 among
    # the C(10, 5) = 252 splits, so the exact p is 2/252 ≈ 0.0079; the approximation says 0.066.
    (found,) = change_points([0.64] * 5 + [0.39] * 5, min_size=8)
    assert found.index == 5 and found.fell
    assert found.p_value == pytest.approx(2 / 252, abs=0.004)
    assert found.p_asymptotic == pytest.approx(0.0661, abs=1e-3)
    assert (found.before_mean, found.after_mean) == pytest.approx((0.64, 0.39))


def test_flat_and_short_series_have_no_change_point() -> None:
    assert change_points([0.5] * 12) == ()
    assert change_points([0.9, 0.1] * 3, min_size=8) == ()  # 6 runs: below the minimum


def test_binary_segmentation_finds_a_fall_and_the_recovery_after_it() -> None:
    changes = change_points([0.6] * 10 + [0.4] * 10 + [0.6] * 4, min_size=8)
    assert [c.index for c in changes] == [10, 20]
    assert changes[0].fell and not changes[1].fell
    assert all(c.p_value < QUALITY_ALPHA for c in changes)


def test_false_alarm_rate_on_noise_is_near_alpha() -> None:
    rng = np.random.default_rng(11)
    seeds = 200
    alarms = sum(bool(change_points(rng.normal(0.6, 0.02, size=20))) for _ in range(seeds))
    print(f"change points in {seeds} noise series of 20 runs: {alarms} ({alarms / seeds:.3f})")
    # α = 0.05 expects 10 of 200; 20 would be P ≈ 0.002 under the null.
    assert alarms <= 20


def run_of(suite: str, score: float, at: datetime, *, data: str = "d" * 64) -> EvalRun:
    return EvalRun(
        id=new_id("evr"),
        workspace_id="",
        suite=suite,
        suite_kind="golden",
        dataset_sha256=data,
        config_sha256="c" * 64,
        k=10,
        started_at=at,
        finished_at=at + timedelta(seconds=20),
        item_count=1,
        mean_recall=score,
    )


def test_series_are_per_suite_and_data_and_drift_only_on_a_fall() -> None:
    fell = [
        run_of("golden", s, T0 + timedelta(days=i)) for i, s in enumerate([0.8] * 6 + [0.5] * 6)
    ]
    rose = [run_of("other", s, T0 + timedelta(days=i)) for i, s in enumerate([0.5] * 6 + [0.8] * 6)]
    new_data = [run_of("golden", 0.1, T0 + timedelta(days=30), data="e" * 64)]
    by_key = {s.key: s for s in quality_series([*fell, *rose, *new_data])}
    down, up, short = (
        by_key[f"golden@{'d' * 12}"],
        by_key[f"other@{'d' * 12}"],
        by_key[f"golden@{'e' * 12}"],
    )
    assert down.drifted and down.changes[0].run_id == fell[6].id and down.changes[0].position == 6
    assert not up.drifted and up.changes and not up.changes[0].fell
    assert not short.drifted and short.note is not None and "at least 8" in short.note


# -- recorded runs in a store ----------------------------------------------------------------


def record(store: Store, workspace_id: str, suite: str, scores: list[float]) -> list[EvalRun]:
    runs = []
    for i, score in enumerate(scores):
        run = run_of(suite, score, T0 + timedelta(days=i))
        run = EvalRun(**{**run.__dict__, "workspace_id": workspace_id})
        store.insert_eval_run(run, [EvalItemScore("q1", score, 1, 1, 0, 10, 5.0)])
        runs.append(run)
    return runs


def test_eval_history_marks_the_run_where_the_level_fell(sm: SelfModel, db_path: Path) -> None:
    runs = record(
        sm.store, sm.workspace.id, "golden", [0.8, 0.82, 0.8, 0.81, 0.8, 0.5, 0.52, 0.5, 0.51, 0.5]
    )
    result = runner.invoke(app, ["eval", "history", "--db", str(db_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    print(result.output)
    line = next(row for row in result.output.splitlines() if runs[5].id in row)
    assert "▼" in line
    assert "change point" in result.output and "0.806 → 0.506" in result.output
    other_rows = [row for row in result.output.splitlines() if runs[4].id in row]
    assert "▼" not in other_rows[0]


def test_the_drift_report_carries_quality_drift_and_its_alert(
    sm: SelfModel, db_path: Path, tmp_path: Path
) -> None:
    record(sm.store, sm.workspace.id, "golden", [0.8] * 5 + [0.5] * 5)
    report = sm.drift(now=T0 + timedelta(days=12))
    (series,) = report.quality
    assert series.drifted and series.changes[0].position == 5
    assert any(a.startswith("quality drift") for a in report.alerts)
    out = tmp_path / "drift.json"
    result = runner.invoke(
        app,
        [
            "eval",
            "drift",
            "--db",
            str(db_path),
            "--now",
            "2026-05-13T09:00:00Z",
            "--json",
            str(out),
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 1, result.output
    assert "quality drift" in result.output
    assert json.loads(out.read_text())["quality"][0]["changes"][0]["position"] == 5


def test_quality_follows_its_settings(
    db_path: Path, embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SELFMODEL_QUALITY_MIN_RUNS", "12")
    with SelfModel.open(str(db_path), embedder=embedder) as sm:
        record(sm.store, sm.workspace.id, "golden", [0.8] * 5 + [0.5] * 5)
        assert sm.drift(now=T0 + timedelta(days=4, hours=1)).quality[0].note is not None
        (series,) = sm.drift(now=T0 + timedelta(days=12)).quality
        assert len(series.scores) == 10  # only the runs started before now
        assert series.note is not None and "at least 12" in series.note and not series.changes
