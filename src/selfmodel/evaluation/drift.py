"""Drift statistics: pure numerics on two samples, no I/O (docs/evaluation.md, "Drift").

- ``mmd_test``: do two samples of query embeddings come from one distribution? Unbiased MMD²
  with a Gaussian (RBF) kernel and a permutation p-value.
- ``categorical_shift``: has a categorical distribution moved? PSI and a chi-square test.
- ``rate_shift``: has the share of one kind of event moved? A 2×2 chi-square test.

Why MMD rather than a classifier two-sample test: the kernel matrix is computed once and every
permutation only re-sums it, so 500 permutations cost a few matrix products; there is no model to
fit, no hyperparameter but the bandwidth (set by the median heuristic) and no cross-validation,
which a classifier on 384-dimensional embeddings and a few dozen queries would need not to
overfit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from selfmodel.evaluation.thresholds import (
    DRIFT_ALPHA,
    DRIFT_PERMUTATIONS,
    PSI_SIGNIFICANT,
)

# scipy is imported inside the routines that use it: the engine imports this module (for its
# defaults) and should not pay for scipy.stats on every start.

# The defaults and the reason for each: thresholds.py (and the settings, MonitoringSettings).
DEFAULT_ALPHA = DRIFT_ALPHA
DEFAULT_PERMUTATIONS = DRIFT_PERMUTATIONS
# Added to every count before PSI takes logarithms: a category empty in one window would
# otherwise give an infinite PSI. Half a count is the Jeffreys prior's pseudo-count; it shrinks a
# category seen a handful of times towards "no change" more than a fixed 1e-4 proportion would.
PSI_PSEUDO_COUNT = 0.5
# The permutations of every test are drawn from this seed, so a report is reproducible.
DEFAULT_SEED = 0


@dataclass(frozen=True)
class TwoSampleTest:
    """A two-sample test's statistic, its p-value, and whether p fell below α."""

    statistic: float
    p_value: float
    drifted: bool


@dataclass(frozen=True)
class CategoricalShift:
    """One categorical variable in two windows: counts, PSI, chi-square p."""

    name: str
    categories: tuple[str, ...]
    reference_counts: tuple[int, ...]
    current_counts: tuple[int, ...]
    psi: float
    p_value: float
    drifted: bool  # PSI at least the threshold (PSI_SIGNIFICANT) and p below α


def median_bandwidth(pooled: np.ndarray) -> float:
    """The median pairwise Euclidean distance of the pooled sample (Gretton et al. 2012, §8).

    Falls back to 1.0 when every point is the same (the median is 0 and the kernel undefined).
    """
    from scipy.spatial.distance import pdist

    distances = pdist(pooled)
    median = float(np.median(distances)) if distances.size else 0.0
    return median if median > 0 else 1.0


def rbf_kernel(a: np.ndarray, b: np.ndarray, bandwidth: float) -> np.ndarray:
    """exp(-‖x − y‖² / (2σ²)) for every pair of rows of ``a`` and ``b``."""
    from scipy.spatial.distance import cdist

    return np.asarray(np.exp(-cdist(a, b, "sqeuclidean") / (2.0 * bandwidth**2)))


def mmd_squared(kernel: np.ndarray, in_first: np.ndarray) -> np.ndarray:
    """Unbiased MMD² (Gretton et al., JMLR 2012, Lemma 6) for one or more labellings.

    ``kernel`` is the pooled sample's kernel matrix; ``in_first`` a boolean vector (or a matrix
    of them, one labelling a column) saying which points belong to the first sample. Summing
    through matrix products lets a permutation test score all its labellings at once.
    """
    z = in_first.astype(float)
    if z.ndim == 1:
        z = z[:, None]
    n = z.sum(axis=0)
    m = kernel.shape[0] - n
    row_sums = kernel.sum(axis=1)
    diagonal = np.diag(kernel)
    kz = kernel @ z
    sum_xx = (z * kz).sum(axis=0)
    sum_x_all = z.T @ row_sums
    sum_all = row_sums.sum()
    sum_xy = sum_x_all - sum_xx
    sum_yy = sum_all - 2 * sum_x_all + sum_xx
    trace_x = z.T @ diagonal
    trace_y = diagonal.sum() - trace_x
    within_x = (sum_xx - trace_x) / (n * (n - 1))
    within_y = (sum_yy - trace_y) / (m * (m - 1))
    return np.asarray(within_x + within_y - 2 * sum_xy / (n * m))


def mmd_test(
    reference: np.ndarray,
    current: np.ndarray,
    *,
    permutations: int = DEFAULT_PERMUTATIONS,
    alpha: float = DEFAULT_ALPHA,
    seed: int = DEFAULT_SEED,
) -> TwoSampleTest:
    """Unbiased MMD² between two samples (rows), with a permutation p-value.

    The kernel is Gaussian with the median heuristic's bandwidth. p = (1 + #{permuted MMD² ≥
    observed}) / (1 + permutations), which counts the observed labelling as one of the
    permutations and so is never 0 (Phipson & Smyth 2010).

    Raises:
        ValueError: a sample has fewer than two rows (the unbiased estimator needs two).
    """
    if len(reference) < 2 or len(current) < 2:
        raise ValueError("each sample needs at least two points")
    pooled = np.vstack([reference, current])
    kernel = rbf_kernel(pooled, pooled, median_bandwidth(pooled))
    labels = np.zeros(len(pooled), dtype=bool)
    labels[: len(reference)] = True
    observed = float(mmd_squared(kernel, labels)[0])
    rng = np.random.default_rng(seed)
    shuffled = np.stack([rng.permutation(labels) for _ in range(permutations)], axis=1)
    null = mmd_squared(kernel, shuffled)
    p_value = float((1 + np.count_nonzero(null >= observed)) / (1 + permutations))
    return TwoSampleTest(statistic=observed, p_value=p_value, drifted=p_value < alpha)


def psi(reference_counts: Sequence[float], current_counts: Sequence[float]) -> float:
    """Population stability index Σ (c − r) · ln(c / r) over the categories' proportions.

    Every count gets ``PSI_PSEUDO_COUNT`` first, so a category one window lacks adds a finite
    amount. Identical distributions give 0; the sum is symmetric in the two windows.
    """
    ref = np.asarray(reference_counts, dtype=float) + PSI_PSEUDO_COUNT
    cur = np.asarray(current_counts, dtype=float) + PSI_PSEUDO_COUNT
    r, c = ref / ref.sum(), cur / cur.sum()
    return float(np.sum((c - r) * np.log(c / r)))


def chi_square_p(reference_counts: Sequence[int], current_counts: Sequence[int]) -> float:
    """p of the chi-square test of independence of window and category (2 × k table).

    Categories empty in both windows are dropped (they would make an expected count 0); with
    fewer than two categories left there is nothing to compare and p = 1. No Yates correction,
    so a 2 × 2 table is tested like any other.
    """
    from scipy.stats import chi2_contingency

    table = np.array([reference_counts, current_counts], dtype=float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 1.0
    return float(chi2_contingency(table, correction=False).pvalue)


def categorical_shift(
    name: str,
    reference: Sequence[str],
    current: Sequence[str],
    *,
    categories: Sequence[str] | None = None,
    alpha: float = DEFAULT_ALPHA,
    psi_threshold: float = PSI_SIGNIFICANT,
) -> CategoricalShift:
    """PSI and chi-square p of one categorical variable between two windows.

    ``categories`` fixes the order (and includes categories neither window saw); by default the
    sorted union. Drifted when PSI ≥ ``psi_threshold`` *and* p < α: PSI alone flags noise in
    small samples, p alone flags tiny shifts in large ones.
    """
    names = tuple(categories) if categories is not None else tuple(sorted({*reference, *current}))
    ref = tuple(sum(1 for v in reference if v == c) for c in names)
    cur = tuple(sum(1 for v in current if v == c) for c in names)
    index = psi(ref, cur)
    p_value = chi_square_p(ref, cur)
    return CategoricalShift(
        name=name,
        categories=names,
        reference_counts=ref,
        current_counts=cur,
        psi=index,
        p_value=p_value,
        drifted=index >= psi_threshold and p_value < alpha,
    )


def rate_shift(
    reference_hits: int,
    reference_total: int,
    current_hits: int,
    current_total: int,
    *,
    alpha: float = DEFAULT_ALPHA,
) -> TwoSampleTest:
    """Has the share of hits risen from the reference to the current window?

    The statistic is the current rate minus the reference rate; p is the 2 × 2 chi-square test
    (hits, misses) × (windows). Drifted only when the rate rose: a self-model that changes less
    than it used to is no alarm.
    """
    if reference_total <= 0 or current_total <= 0:
        return TwoSampleTest(statistic=0.0, p_value=1.0, drifted=False)
    difference = current_hits / current_total - reference_hits / reference_total
    p_value = chi_square_p(
        [reference_hits, reference_total - reference_hits],
        [current_hits, current_total - current_hits],
    )
    return TwoSampleTest(
        statistic=difference, p_value=p_value, drifted=difference > 0 and p_value < alpha
    )
