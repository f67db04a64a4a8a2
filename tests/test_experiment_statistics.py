"""The statistics of experiments against scipy on known data, and the sequential test's promise
(false positives at most α however often one looks) checked by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from selfmodel.errors import InvalidInputError
from selfmodel.experiments.sequential import (
    Look,
    crossing_probability,
    half_width,
    log_likelihood_ratio,
    mixing_variance,
    optimal_ratio,
    sequential_test,
    z_boundary,
)
from selfmodel.experiments.statistics import (
    cuped,
    difference_in_means,
    sample_ratio,
    users_needed,
)
from tests.support.markdown import DOCS, checked_tables

RNG_SEED = 20261201


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(RNG_SEED)


def test_the_difference_in_means_is_welchs_t_test(rng: np.random.Generator) -> None:
    treatment = rng.normal(3.3, 1.2, 140)
    control = rng.normal(3.0, 0.8, 95)
    got = difference_in_means(treatment, control, alpha=0.05)
    welch = stats.ttest_ind(treatment, control, equal_var=False)
    interval = welch.confidence_interval(0.95)
    assert got.estimate == pytest.approx(treatment.mean() - control.mean())
    assert got.p_value == pytest.approx(welch.pvalue, rel=1e-9)
    assert (got.ci_low, got.ci_high) == pytest.approx((interval.low, interval.high), rel=1e-9)
    ninety = difference_in_means(treatment, control, alpha=0.10)
    assert ninety.ci_high - ninety.ci_low < got.ci_high - got.ci_low


def test_the_relative_effect_is_the_delta_method_interval(rng: np.random.Generator) -> None:
    t, c = rng.normal(11.0, 2.0, 4_000), rng.normal(10.0, 2.0, 4_000)
    got = difference_in_means(t, c, alpha=0.05)
    assert got.relative == pytest.approx(t.mean() / c.mean() - 1)
    # By simulation: the spread of mean_t / mean_c over resamples of the same populations.
    ratios = [
        rng.normal(11.0, 2.0, 4_000).mean() / rng.normal(10.0, 2.0, 4_000).mean() - 1
        for _ in range(400)
    ]
    half = (got.relative_ci_high - got.relative_ci_low) / 2  # type: ignore[operator]
    assert half / 1.96 == pytest.approx(np.std(ratios), rel=0.15)
    zero = difference_in_means(np.array([1.0, 2.0]), np.array([-1.0, 1.0]), 0.05)
    assert zero.relative is None


def test_too_few_users_or_no_number_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        difference_in_means(np.array([1.0]), np.array([1.0, 2.0]), 0.05)
    with pytest.raises(InvalidInputError):
        difference_in_means(np.array([1.0, math.nan]), np.array([1.0, 2.0]), 0.05)


def test_cuped_theta_is_the_regression_slope_and_cuts_variance_by_r_squared(
    rng: np.random.Generator,
) -> None:
    x_t, x_c = rng.normal(5, 2, 300), rng.normal(5, 2, 300)
    y_t = 1.5 + 0.8 * x_t + rng.normal(0, 1, 300) + 0.3
    y_c = 1.5 + 0.8 * x_c + rng.normal(0, 1, 300)
    done = cuped(y_t, x_t, y_c, x_c)
    fit = stats.linregress(np.concatenate([x_t, x_c]), np.concatenate([y_t, y_c]))
    assert done.theta == pytest.approx(fit.slope, rel=1e-9)
    assert done.variance_reduction == pytest.approx(fit.rvalue**2, rel=1e-9)
    raw = difference_in_means(y_t, y_c, 0.05)
    adjusted = difference_in_means(done.adjusted_treatment, done.adjusted_control, 0.05)
    assert adjusted.ci_high - adjusted.ci_low < 0.6 * (raw.ci_high - raw.ci_low)
    assert abs(adjusted.estimate - 0.3) < 3 * adjusted.se  # unbiased: the planted effect


def test_cuped_without_a_varying_covariate_changes_nothing() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    done = cuped(y[:2], np.ones(2), y[2:], np.ones(2))
    assert done.theta == 0.0 and done.variance_reduction == 0.0
    assert list(done.adjusted_treatment) == [1.0, 2.0]


def test_the_sample_ratio_check_is_pearsons_chi_square() -> None:
    got = sample_ratio({"a": 5_000, "b": 5_250}, {"a": 1.0, "b": 1.0})
    expected = stats.chisquare([5_000, 5_250])
    assert (got.chi2, got.p_value) == pytest.approx((expected.statistic, expected.pvalue))
    assert not got.mismatch  # p = 0.0135: unusual, not below the 0.001 threshold
    broken = sample_ratio({"a": 5_000, "b": 5_400}, {"a": 1.0, "b": 1.0})
    assert broken.p_value < 0.001 and broken.mismatch
    fine = sample_ratio({"a": 2_480, "b": 7_520}, {"a": 1.0, "b": 3.0})
    assert fine.expected == {"a": 2_500.0, "b": 7_500.0} and not fine.mismatch
    empty = sample_ratio({}, {"a": 1.0, "b": 1.0})
    assert empty.p_value == 1.0 and not empty.mismatch


def test_users_needed_is_the_textbook_two_sample_formula() -> None:
    # d = 0.1 sd, α = 0.05, 80 % power, equal arms: 1 570 per arm (e.g. Cohen 1988, table 2.4.1).
    assert users_needed(1.0, 0.1, 0.05, 0.8, 1.0, 1.0) == 3_140
    # Unequal allocation needs more users for the same effect.
    assert users_needed(1.0, 0.1, 0.05, 0.8, 1.0, 3.0) == math.ceil(3_140 * (4 / 3) * (4 / 4) / 1)
    assert users_needed(1.0, 0.0, 0.05, 0.8, 1.0, 1.0) is None


def test_the_mixture_is_sharpest_at_its_optimal_ratio() -> None:
    r = optimal_ratio(0.05)
    assert r == pytest.approx(2 * math.log(20) + math.log1p(r))
    assert z_boundary(r, 0.05) == pytest.approx(3.035, abs=1e-3)
    assert z_boundary(r, 0.05) < min(z_boundary(r / 3, 0.05), z_boundary(r * 3, 0.05))
    tau2 = mixing_variance(2.0, 1_000, 1.0, 1.0, 0.05)
    assert tau2 == pytest.approx(r * 4.0 * 4 / 1_000)


@settings(max_examples=50, deadline=None)
@given(
    estimate=st.floats(-5, 5),
    variance=st.floats(1e-3, 10),
    tau2=st.floats(1e-3, 10),
)
def test_the_confidence_sequence_is_where_the_test_does_not_reject(
    estimate: float, variance: float, tau2: float
) -> None:
    """Inverting the test: a difference just inside the half width is not rejected, just
    outside it is."""
    half = half_width(variance, tau2, 0.05)
    threshold = math.log(1 / 0.05)
    assert log_likelihood_ratio(half * 0.999, variance, tau2) < threshold
    assert log_likelihood_ratio(half * 1.001, variance, tau2) > threshold
    assert log_likelihood_ratio(estimate, variance, tau2) == pytest.approx(
        log_likelihood_ratio(-estimate, variance, tau2)
    )


def test_the_always_valid_p_value_never_rises_and_the_sequence_never_widens() -> None:
    looks = [Look(0.5, 1.0), Look(0.1, 0.5), Look(0.9, 0.25), Look(0.2, 0.1)]
    widths = []
    ps = []
    for n in range(1, len(looks) + 1):
        done = sequential_test(looks[:n], 0.5, 0.05)
        widths.append(done.ci_high - done.ci_low)
        ps.append(done.p_value)
    assert ps == sorted(ps, reverse=True)
    assert widths == sorted(widths, reverse=True)


def test_the_crossing_probability_of_one_look_is_the_normal_tail() -> None:
    info, tau2 = [100.0], optimal_ratio(0.05) / 100
    c = z_boundary(tau2 * 100, 0.05)
    for drift in (0.0, 0.2, 0.3):
        tail = stats.norm.sf(c - drift * 10) + stats.norm.cdf(-c - drift * 10)
        assert crossing_probability(drift, info, tau2, 0.05) == pytest.approx(tail, rel=0.02)


def test_the_crossing_probability_of_many_looks_matches_a_random_walk(
    rng: np.random.Generator,
) -> None:
    info = np.arange(1, 15) * 100 / 14
    tau2 = optimal_ratio(0.05) / 100
    expected = crossing_probability(0.3, info, tau2, 0.05)
    steps = np.diff(np.r_[0.0, info])
    walks = rng.normal(0.3 * steps, np.sqrt(steps), size=(20_000, len(info))).cumsum(axis=1)
    bounds = np.array([z_boundary(tau2 * i, 0.05) * math.sqrt(i) for i in info])
    simulated = float((np.abs(walks) >= bounds).any(axis=1).mean())
    assert simulated == pytest.approx(expected, abs=0.015)  # MC sd 0.0035


def simulate_looks(
    rng: np.random.Generator, effect: float, users_per_day: int, days: int
) -> list[Look]:
    y_t = rng.normal(effect, 1.0, users_per_day * days)
    y_c = rng.normal(0.0, 1.0, users_per_day * days)
    looks = []
    for day in range(1, days + 1):
        n = users_per_day * day
        t, c = y_t[:n], y_c[:n]
        looks.append(Look(float(t.mean() - c.mean()), t.var(ddof=1) / n + c.var(ddof=1) / n))
    return looks


def test_daily_peeks_keep_false_positives_at_alpha_and_naive_peeks_do_not(
    rng: np.random.Generator,
) -> None:
    """A/A data, 20 daily looks, 1 000 repetitions: the mSPRT rejects at most α of them; a
    t-test read at every look rejects far more (this test can fail either way)."""
    alpha, reps, days, per_day = 0.05, 1_000, 20, 25
    tau2 = mixing_variance(1.0, 2 * per_day * days, 1.0, 1.0, alpha)
    sequential = naive = 0
    for _ in range(reps):
        looks = simulate_looks(rng, 0.0, per_day, days)
        sequential += sequential_test(looks, tau2, alpha).reject
        naive += any(abs(k.estimate) / math.sqrt(k.variance) > 1.96 for k in looks)
    # Binomial sd of a 5 % rate over 1 000 repetitions: 0.7 %.
    assert sequential / reps <= alpha + 0.015
    assert naive / reps > 2 * alpha


def test_the_confidence_sequence_covers_the_true_effect_at_every_look(
    rng: np.random.Generator,
) -> None:
    alpha, reps = 0.05, 500
    tau2 = mixing_variance(1.0, 1_000, 1.0, 1.0, alpha)
    missed = 0
    for _ in range(reps):
        looks = simulate_looks(rng, 0.25, 25, 20)
        low, high = -math.inf, math.inf
        for look in looks:
            width = half_width(look.variance, tau2, alpha)
            low, high = max(low, look.estimate - width), min(high, look.estimate + width)
            if not low <= 0.25 <= high:
                missed += 1
                break
    assert missed / reps <= alpha + 0.02


def test_the_worked_example_of_the_docs_is_what_the_code_computes() -> None:
    """docs/experiments.md: the data table in, the results table out."""
    tables = checked_tables(DOCS / "experiments.md")
    data = {
        row["arm"]: (
            np.array([float(v) for v in row["X (pre-period)"].split(",")]),
            np.array([float(v) for v in row["Y (experiment)"].split(",")]),
        )
        for row in tables["worked-example-data"]
    }
    (x_c, y_c), (x_t, y_t) = data["control"], data["treatment"]
    raw = difference_in_means(y_t, y_c, 0.05)
    adjusted = cuped(y_t, x_t, y_c, x_c)
    fixed = difference_in_means(adjusted.adjusted_treatment, adjusted.adjusted_control, 0.05)
    pooled = np.concatenate([adjusted.adjusted_treatment, adjusted.adjusted_control])
    tau2 = mixing_variance(float(pooled.std(ddof=1)), 16, 1.0, 1.0, 0.05)
    variance = fixed.se**2
    half = half_width(variance, tau2, 0.05)
    sd = float(np.concatenate([y_t, y_c]).std(ddof=1))
    mde = 0.05 * float(y_c.mean())
    computed = {
        "difference Δ̂": [raw.estimate],
        "Welch 95 % interval": [raw.ci_low, raw.ci_high],
        "Welch p-value": [raw.p_value],
        "relative effect": [raw.relative],
        "CUPED θ": [adjusted.theta],
        "variance reduction": [adjusted.variance_reduction],
        "CUPED difference": [fixed.estimate],
        "CUPED 95 % interval": [fixed.ci_low, fixed.ci_high],
        "CUPED p-value": [fixed.p_value],
        "τ² (horizon 16 users)": [tau2],
        "always-valid p (one look)": [
            math.exp(-log_likelihood_ratio(fixed.estimate, variance, tau2))
        ],
        "confidence sequence": [fixed.estimate - half, fixed.estimate + half],
        "sample ratio p-value": [sample_ratio({"c": 8, "t": 8}, {"c": 1, "t": 1}).p_value],
        "users for a 5 % effect": [users_needed(sd, mde, 0.05, 0.8, 1, 1)],
        "users for a 5 % effect, with CUPED": [
            users_needed(sd * math.sqrt(1 - adjusted.variance_reduction), mde, 0.05, 0.8, 1, 1)
        ],
    }
    rows = {row["statistic"]: row["value"] for row in tables["worked-example-results"]}
    assert rows.keys() == computed.keys()
    for name, values in computed.items():
        shown = [v.strip().replace("−", "-") for v in rows[name].strip("[]").split(",")]
        for got, text in zip(values, shown, strict=True):
            assert got is not None
            # As printed: correct to the last digit shown.
            decimals = len(text.split(".")[1]) if "." in text else 0
            assert got == pytest.approx(float(text), rel=0, abs=0.5 * 10**-decimals), name
