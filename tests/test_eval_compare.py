"""``compare_runs``: paired differences, a bootstrap CI and a Wilcoxon test, checked against
scipy on known data; verdicts; refusing to pair runs of different data."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from selfmodel.bench.report import BOOTSTRAP_RESAMPLES, bootstrap_ci, lead_with_ci
from selfmodel.domain import EvalItemScore, EvalRun
from selfmodel.domain.time import utcnow
from selfmodel.errors import IncomparableRunsError, InvalidInputError
from selfmodel.evaluation import Verdict, compare_runs
from selfmodel.evaluation.compare import wilcoxon_p

# Darwin's paired differences in plant height (Fisher 1935), the example of scipy's own
# documentation of `wilcoxon`: two-sided exact p = 0.04125977 (W = 24).
DARWIN = [6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75]
DARWIN_P = 0.041259765625


def test_wilcoxon_p_is_scipys_on_known_data() -> None:
    assert wilcoxon_p(DARWIN) == pytest.approx(DARWIN_P, abs=1e-12)
    assert wilcoxon_p([-d for d in DARWIN]) == pytest.approx(DARWIN_P, abs=1e-12)


def test_wilcoxon_p_drops_unchanged_items_as_scipy_does() -> None:
    differences = [0.0, 0.0, 0.5, -0.25, 1.0, 1.0, 0.5, 0.0, 0.75]
    expected = stats.wilcoxon(differences, zero_method="wilcox").pvalue
    assert wilcoxon_p(differences) == pytest.approx(expected)


def test_nothing_moved_is_no_change_with_p_one() -> None:
    assert wilcoxon_p([0.0] * 12) == 1.0


def test_the_paired_bootstrap_interval_agrees_with_scipys_percentile_bootstrap() -> None:
    rng = np.random.default_rng(7)
    differences = rng.choice([-1.0, -0.5, 0.0, 0.0, 0.5], size=120)
    ours = bootstrap_ci(differences)
    theirs = stats.bootstrap(
        (differences,),
        np.mean,
        method="percentile",
        n_resamples=BOOTSTRAP_RESAMPLES,
        random_state=np.random.default_rng(1),
    ).confidence_interval
    # Two Monte Carlo estimates of the same bounds: equal within resampling error.
    assert ours[0] == pytest.approx(theirs.low, abs=0.02)
    assert ours[1] == pytest.approx(theirs.high, abs=0.02)
    lead = lead_with_ci(list(differences), [0.0] * len(differences))
    assert lead["lead"] == pytest.approx(float(np.mean(differences)))


def run(run_id: str, suite: str = "s", data: str = "d" * 64) -> EvalRun:
    now = utcnow()
    return EvalRun(run_id, "ws", suite, "golden", data, "c" * 64, 10, now, now, 0, None)


def scored(recalls: dict[str, float]) -> list[EvalItemScore]:
    return [EvalItemScore(item, r, 0, 1, 0, 10, 1.0) for item, r in recalls.items()]


BASE = {f"q{n}": 1.0 if n % 2 else 0.5 for n in range(10)}


def test_a_candidate_worse_on_most_items_is_worse() -> None:
    worse = {item: max(r - 0.5, 0.0) for item, r in BASE.items()}
    c = compare_runs(run("a"), scored(BASE), run("b"), scored(worse))
    assert c.verdict is Verdict.WORSE
    assert c.p_value < 0.05 and c.ci95[1] < 0
    assert c.mean_difference == pytest.approx(-0.5)
    assert c.paired == 10 and c.unpaired == 0
    assert [m.difference for m in c.changed_most] == [-0.5] * 5


def test_the_same_comparison_reversed_is_better() -> None:
    worse = {item: max(r - 0.5, 0.0) for item, r in BASE.items()}
    c = compare_runs(run("b"), scored(worse), run("a"), scored(BASE))
    assert c.verdict is Verdict.BETTER


def test_identical_scores_are_no_detectable_change() -> None:
    c = compare_runs(run("a"), scored(BASE), run("b"), scored(BASE))
    assert (c.verdict, c.p_value, c.mean_difference) == (Verdict.NO_CHANGE, 1.0, 0.0)
    assert c.ci95 == (0.0, 0.0) and c.changed_most == ()


def test_a_few_items_moving_either_way_is_no_detectable_change() -> None:
    mixed = {**BASE, "q1": 0.0, "q2": 1.0, "q3": 0.5}
    assert compare_runs(run("a"), scored(BASE), run("b"), scored(mixed)).verdict is (
        Verdict.NO_CHANGE
    )


def test_items_are_paired_by_id_and_the_unpaired_left_out() -> None:
    candidate = {item: r for item, r in BASE.items() if item != "q0"} | {"new": 0.0}
    c = compare_runs(run("a"), scored(BASE), run("b"), scored(candidate))
    assert (c.paired, c.unpaired) == (9, 2)


def test_runs_of_different_data_are_refused_unless_allowed() -> None:
    other = run("b", data="e" * 64)
    with pytest.raises(IncomparableRunsError, match="allow-different-data"):
        compare_runs(run("a"), scored(BASE), other, scored(BASE))
    with pytest.raises(IncomparableRunsError):
        compare_runs(run("a"), scored(BASE), replace(run("b"), suite="t"), scored(BASE))
    allowed = compare_runs(run("a"), scored(BASE), other, scored(BASE), allow_different_data=True)
    assert not allowed.same_data and allowed.verdict is Verdict.NO_CHANGE


def test_runs_without_a_common_item_cannot_be_compared() -> None:
    with pytest.raises(IncomparableRunsError, match="no item id in common"):
        compare_runs(run("a"), scored({"x": 1.0}), run("b"), scored({"y": 1.0}))


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1])
def test_alpha_must_be_a_probability(alpha: float) -> None:
    with pytest.raises(InvalidInputError):
        compare_runs(run("a"), scored(BASE), run("b"), scored(BASE), alpha=alpha)
