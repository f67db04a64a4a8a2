"""Drift (issue 12, slice 2): the statistics against scipy and hand-computed cases, then the
monitor on a real SQLite store with the real embedder: shifted vs steady query streams, a
population whose beliefs flip vs a steady one, the CLI's exit codes, the false alarm rate, and
one self-model case on both backends (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from selfmodel import SelfModel
from selfmodel.bench.drift import COOKING, TRAVEL_FINANCE
from selfmodel.cli import app
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.errors import InvalidInputError
from selfmodel.evaluation.drift import (
    DEFAULT_ALPHA,
    categorical_shift,
    chi_square_p,
    median_bandwidth,
    mmd_squared,
    mmd_test,
    psi,
    rate_shift,
    rbf_kernel,
)
from selfmodel.evaluation.monitor import query_length_bucket

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)
runner = CliRunner()

# -- numerics ------------------------------------------------------------------------------


def test_median_bandwidth_is_the_median_pairwise_distance() -> None:
    # 1-D points 0, 1, 3: distances 1, 3, 2 -> median 2.
    assert median_bandwidth(np.array([[0.0], [1.0], [3.0]])) == 2.0
    assert median_bandwidth(np.zeros((3, 2))) == 1.0  # all equal: a usable fallback


def test_unbiased_mmd_matches_the_definition_term_by_term() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(5, 2)), rng.normal(0.5, 1, size=(4, 2))
    sigma = 1.3
    k = lambda a, b: np.exp(-np.sum((a - b) ** 2) / (2 * sigma**2))  # noqa: E731
    n, m = len(x), len(y)
    expected = (
        sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
        + sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
        - 2 * sum(k(a, b) for a in x for b in y) / (n * m)
    )
    pooled = np.vstack([x, y])
    labels = np.array([True] * n + [False] * m)
    got = mmd_squared(rbf_kernel(pooled, pooled, sigma), labels)[0]
    assert got == pytest.approx(expected, rel=1e-12)


def test_permutation_p_agrees_with_scipy_permutation_test() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(15, 3)), rng.normal(0.6, 1, size=(15, 3))
    ours = mmd_test(x, y, permutations=5000, seed=3)
    pooled = np.vstack([x, y])
    kernel = rbf_kernel(pooled, pooled, median_bandwidth(pooled))

    def statistic(a: np.ndarray, b: np.ndarray) -> float:
        # Kernel rows are looked up by index, so scipy permutes indices, not vectors.
        labels = np.zeros(len(pooled), dtype=bool)
        labels[a.astype(int)] = True
        return float(mmd_squared(kernel, labels)[0])

    theirs = stats.permutation_test(
        (np.arange(15.0), np.arange(15.0, 30.0)),
        statistic,
        vectorized=False,
        n_resamples=5000,
        alternative="greater",
        random_state=4,
    )
    assert ours.statistic == pytest.approx(theirs.statistic)
    print(f"permutation p: ours {ours.p_value:.4f}, scipy {theirs.pvalue:.4f}")
    assert 0.005 < ours.p_value < 0.5  # a case where p is neither floor nor ceiling
    # Each p has a Monte-Carlo standard error of at most sqrt(p(1 − p) / 5000) ≈ 0.007 here.
    assert ours.p_value == pytest.approx(theirs.pvalue, abs=0.025)


def test_identical_samples_show_no_drift() -> None:
    x = np.random.default_rng(5).normal(size=(30, 4))
    same = mmd_test(x, x.copy())
    assert same.statistic <= 1e-12 and same.p_value > 0.5 and not same.drifted
    assert psi([10, 20, 30], [10, 20, 30]) == pytest.approx(0.0)
    shift = categorical_shift("kinds", ["a", "b", "b"] * 10, ["a", "b", "b"] * 10)
    assert shift.psi == pytest.approx(0.0) and shift.p_value == pytest.approx(1.0)
    assert not shift.drifted


def test_psi_of_a_known_shift() -> None:
    # 50/50 -> 25/75 with half a count added: r = (.5, .5), c = (25.5, 75.5) / 101;
    # (c1 − .5)·ln(c1/.5) + (c2 − .5)·ln(c2/.5) = 0.16911 + 0.09957.
    assert psi([50, 50], [25, 75]) == pytest.approx(0.268677, abs=1e-6)
    assert np.isfinite(psi([10, 0], [0, 10]))  # an empty category is floored, not infinite


def test_chi_square_of_a_known_table() -> None:
    # [[10, 20], [20, 10]]: every expected count 15, χ² = 4 · 25/15 = 6.667, 1 df, no Yates.
    assert chi_square_p([10, 20], [20, 10]) == pytest.approx(0.0098233, rel=1e-4)
    table = np.array([[12, 5, 9], [3, 14, 8]])
    assert chi_square_p(table[0], table[1]) == pytest.approx(
        stats.chi2_contingency(table, correction=False).pvalue
    )
    assert chi_square_p([5, 0], [7, 0]) == 1.0  # one category left: nothing to compare


def test_a_categorical_shift_drifts_only_when_large_and_significant() -> None:
    moved = categorical_shift("len", ["short"] * 40 + ["long"] * 10, ["short"] * 10 + ["long"] * 40)
    assert moved.psi > 0.25 and moved.p_value < DEFAULT_ALPHA and moved.drifted
    # Large PSI on a handful of items is not significant: no alert.
    few = categorical_shift("len", ["short"] * 3, ["long"] * 2)
    assert few.psi > 0.25 and not few.drifted


def test_a_falling_change_rate_is_no_alarm() -> None:
    assert rate_shift(0, 40, 20, 40).drifted
    fell = rate_shift(20, 40, 0, 40)
    assert fell.p_value < DEFAULT_ALPHA and not fell.drifted


def test_query_length_buckets() -> None:
    assert [query_length_bucket(q) for q in ("pasta", "how do I cook rice", "a " * 20)] == [
        "1-3",
        "4-7",
        "16+",
    ]


# -- query streams ---------------------------------------------------------------------------


def _ask(sm: SelfModel, queries: list[str], *, days_ago: tuple[float, float]) -> None:
    """Each query through a real ``context`` call, spread over the days-ago range."""
    first, last = days_ago
    for i, query in enumerate(queries):
        when = NOW - timedelta(days=first - (first - last) * i / max(len(queries) - 1, 1))
        sm.context("asker", query, now=when)


@pytest.fixture
def asker(sm: SelfModel) -> Iterator[SelfModel]:
    sm.observe("asker", "I love cooking and I travel a lot.", at=NOW - timedelta(days=40))
    yield sm


def test_a_shifted_query_stream_raises_the_input_drift_alert(asker: SelfModel) -> None:
    picker = random.Random(7)
    _ask(asker, picker.sample(COOKING, 40), days_ago=(29, 8))
    _ask(asker, picker.sample(TRAVEL_FINANCE, 40), days_ago=(6.5, 0.1))
    report = asker.drift(now=NOW)
    d = report.input_drift
    print(f"shifted stream: MMD² {d.statistic:.4f}, p {d.p_value:.4f}")
    assert (d.reference_queries, d.current_queries) == (40, 40)
    assert d.drifted and d.p_value is not None and d.p_value < DEFAULT_ALPHA
    assert any(a.startswith("input drift") for a in report.alerts)


def test_a_steady_query_stream_raises_no_alert(asker: SelfModel) -> None:
    pool = COOKING[:40] + TRAVEL_FINANCE[:40]
    random.Random(8).shuffle(pool)
    _ask(asker, pool[:40], days_ago=(29, 8))
    _ask(asker, pool[40:], days_ago=(6.5, 0.1))
    report = asker.drift(now=NOW)
    d = report.input_drift
    print(f"steady stream: MMD² {d.statistic:.4f}, p {d.p_value:.4f}")
    assert d.statistic is not None and not d.drifted
    assert report.alerts == ()


def test_false_alarm_rate_of_steady_streams_is_within_alpha(
    embedder: SentenceTransformerEmbedder,
) -> None:
    # Queries embedded once; each seed draws two disjoint windows from the same topic mix.
    pool = COOKING + TRAVEL_FINANCE
    vectors = embedder.embed(pool)
    seeds = 50
    alarms = 0
    for seed in range(seeds):
        order = np.random.default_rng(seed).permutation(len(pool))
        ref, cur = order[:40], order[40:80]
        length = categorical_shift(
            "len",
            [query_length_bucket(pool[i]) for i in ref],
            [query_length_bucket(pool[i]) for i in cur],
        )
        alarms += mmd_test(vectors[ref], vectors[cur], seed=seed).drifted or length.drifted
    rate = alarms / seeds
    print(f"false alarm rate over {seeds} steady seeds: {alarms}/{seeds} = {rate:.2f}")
    # α = 0.01 expects 0.5 alarms in 50; 2 leaves room for chance (P(X ≥ 3) ≈ 0.014).
    assert alarms <= 2


# -- self-model drift ------------------------------------------------------------------------


def _say(sm: SelfModel, user: str, texts: list[str], *, days_ago: float) -> None:
    when = (NOW - timedelta(days=days_ago)).isoformat()
    sm.observe(user, [{"content": t, "occurred_at": when} for t in texts])


BEFORE = ["I love running.", "I live in London."]
FLIPPED = ["I no longer enjoy running.", "I moved to Leeds."]


@pytest.fixture
def flipping(sm: SelfModel) -> SelfModel:
    """Six users whose beliefs flip in the current window, six who say the same again."""
    for i in range(12):
        _say(sm, f"user-{i}", BEFORE, days_ago=20)
        _say(sm, f"user-{i}", FLIPPED if i < 6 else BEFORE, days_ago=3)
    return sm


def test_a_population_whose_beliefs_flip_raises_the_self_model_alert(flipping: SelfModel) -> None:
    report = flipping.drift(now=NOW)
    s = report.self_model
    print(
        f"flip: change rate {s.reference.change_rate:.2f} -> {s.current.change_rate:.2f}, "
        f"p {s.p_value:.2g}"
    )
    assert s.drifted and s.p_value is not None and s.p_value < DEFAULT_ALPHA
    changed = {u.user for u in s.changed_most if u.changes}
    assert changed == {f"user-{i}" for i in range(6)}
    moved = {m.statement for u in s.changed_most for m in u.moved}
    assert {"The user loves running", "The user lives in London"} <= moved
    alert = next(a for a in report.alerts if a.startswith("self-model drift"))
    assert all(f"user-{i}" in alert for i in range(6)) and "user-7" not in alert
    assert report.input_drift.note is not None  # no traces: not enough data, not "no drift"


def test_a_steady_population_raises_no_alert(sm: SelfModel) -> None:
    for i in range(12):
        _say(sm, f"user-{i}", BEFORE, days_ago=20)
        _say(sm, f"user-{i}", BEFORE, days_ago=3)
    history = sm.store.list_events(sm.workspace.id)
    report = sm.drift(now=NOW)
    assert sm.store.list_events(sm.workspace.id) == history  # read-only
    assert report.self_model.current.events > 0 and report.self_model.p_value is not None
    assert not report.self_model.drifted and report.alerts == ()


def test_cli_exits_1_on_drift_with_a_table_and_json(
    flipping: SelfModel, db_path: Path, tmp_path: Path
) -> None:
    db = str(db_path)
    out = tmp_path / "drift.json"
    result = runner.invoke(
        app, ["eval", "drift", "--db", db, "--now", NOW.isoformat(), "--json", str(out)]
    )
    assert result.exit_code == 1, result.output
    assert "self-model drift" in result.output and "user-0" in result.output
    data = json.loads(out.read_text())
    assert data["self_model"]["drifted"] and data["alerts"]
    # The same database a year later: both windows empty, nothing to alert on.
    later = (NOW + timedelta(days=365)).isoformat()
    quiet = runner.invoke(app, ["eval", "drift", "--db", db, "--now", later])
    assert quiet.exit_code == 0, quiet.output
    assert "not enough data" in quiet.output


def test_bad_windows_are_refused(sm: SelfModel, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError):
        sm.drift(current_days=0)
    with pytest.raises(InvalidInputError):
        sm.drift(reference_days=-1)
    with pytest.raises(InvalidInputError):
        sm.drift(current_days=float("inf"))
    with pytest.raises(InvalidInputError):
        sm.drift(alpha=1.5)
    result = runner.invoke(
        app, ["eval", "drift", "--db", str(tmp_path / "x.db"), "--current-days", "0"]
    )
    assert result.exit_code == 2


def test_kinds_gained_and_lost_are_replayed_from_the_history(sm: SelfModel) -> None:
    # "I stopped running." supersedes the preference and forms a habit in its place.
    _say(sm, "quitter", ["I love running."], days_ago=20)
    _say(sm, "quitter", ["I stopped running."], days_ago=3)
    report = sm.drift(now=NOW)
    (change,) = report.self_model.changed_most
    assert change.user == "quitter"
    assert (change.kinds_lost, change.kinds_gained) == (("preference",), ("habit",))
    assert report.self_model.kinds_lost == {"preference": 1}
    assert report.self_model.kinds_gained == {"habit": 1}
    assert [(m.event, m.statement) for m in change.moved] == [
        ("superseded", "The user loves running")
    ]
    # The superseded belief lost confidence: the window's mean shift is below zero.
    assert report.self_model.current.mean_confidence_shift is not None
    assert report.self_model.current.mean_confidence_shift < 0


def test_both_backends_report_the_same_self_model_drift(any_sm: SelfModel) -> None:
    for i in range(4):
        _say(any_sm, f"user-{i}", BEFORE, days_ago=20)
        _say(any_sm, f"user-{i}", FLIPPED if i < 2 else BEFORE, days_ago=3)
    s = any_sm.drift(now=NOW).self_model
    assert (s.reference.events, s.current.events) == (8, 12)
    assert (s.current.superseded, s.current.change_rate) == (4, pytest.approx(1 / 3))
    assert [u.user for u in s.changed_most] == ["user-0", "user-1"]


def test_the_windows_and_thresholds_follow_the_settings(
    db_path: Path, embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SELFMODEL_DRIFT_CURRENT_DAYS", "3")
    monkeypatch.setenv("SELFMODEL_DRIFT_REFERENCE_DAYS", "10")
    monkeypatch.setenv("SELFMODEL_DRIFT_ALPHA", "0.002")
    monkeypatch.setenv("SELFMODEL_DRIFT_MIN_QUERIES", "25")
    with SelfModel.open(str(db_path), embedder=embedder) as sm:
        report = sm.drift(now=NOW)
        assert report.current.start == NOW - timedelta(days=3)
        assert report.reference.start == NOW - timedelta(days=13)
        assert report.alpha == 0.002
        assert report.input_drift.note is not None and "at least 25" in report.input_drift.note
        assert sm.drift(now=NOW, alpha=0.02, current_days=1).alpha == 0.02  # arguments win
