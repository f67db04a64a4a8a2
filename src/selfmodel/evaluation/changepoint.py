"""Change points in a series of eval scores: Pettitt's test, a permutation p, binary segmentation.

Pure numerics, no I/O (docs/evaluation.md, "Quality drift").

- ``pettitt``: the most likely single change in level of a series, with its p-value.
- ``change_points``: every change, by binary segmentation: test the series, split it at a
  significant change, test each part again.

Why Pettitt (A. N. Pettitt, "A non-parametric approach to the change-point problem", Applied
Statistics 28(2), 1979): eval scores are means of bounded, lumpy per-item recalls, and a series
of runs is short; a rank statistic assumes no distribution, and a shift of level (a deploy that
made retrieval worse) is exactly the alternative it is built for. Its statistic is
K = max_t |U_t| with U_t = Σ_{i ≤ t} Σ_{j > t} sign(x_j − x_i); through mid-ranks r_i this is
U_t = t(n + 1) − 2 Σ_{i ≤ t} r_i, so permutations cost a cumulative sum each.

Why a permutation p rather than Pettitt's approximation p ≈ 2 exp(−6K² / (n³ + n²)): the
approximation is for long series and is far too conservative for the ten or twenty runs a suite
has — ten runs split 5 | 5 give 0.066 by it and 2/252 ≈ 0.008 exactly. Under "no change" every
order of the scores is equally likely, so the permutation p is exact up to Monte-Carlo error,
ties (two runs of one configuration score identically) included. The approximation is kept
for reference (``p_asymptotic``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from selfmodel.evaluation.thresholds import QUALITY_ALPHA, QUALITY_MIN_RUNS, QUALITY_PERMUTATIONS

# The permutations of every test are drawn from this seed, so a report is reproducible.
DEFAULT_SEED = 0


@dataclass(frozen=True)
class ChangePoint:
    """A change of level: the series' first ``index`` values before it, the rest after."""

    index: int  # position of the first value after the change (1 ≤ index < n)
    statistic: float  # Pettitt's K of the segment it was found in
    p_value: float  # permutation p of that segment
    p_asymptotic: float  # Pettitt's approximation, for reference
    before_mean: float  # mean of the segment before (from the previous change point)
    after_mean: float  # mean of the segment after (to the next change point)

    @property
    def fell(self) -> bool:
        return self.after_mean < self.before_mean


def _midranks(values: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata  # heavy: loaded only when a series is tested

    return np.asarray(rankdata(values, method="average"), dtype=float)


def pettitt_u(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """U_t for t = 1 … n − 1 (the split after the t-th value), through mid-ranks."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    ranks = _midranks(x)
    t = np.arange(1, n)
    return np.asarray(t * (n + 1) - 2 * np.cumsum(ranks)[:-1])


def pettitt_asymptotic_p(statistic: float, n: int) -> float:
    """Pettitt's approximation 2 exp(−6K² / (n³ + n²)), capped at 1."""
    return float(min(1.0, 2.0 * np.exp(-6.0 * statistic**2 / (n**3 + n**2))))


def pettitt(
    values: Sequence[float] | np.ndarray,
    *,
    permutations: int = QUALITY_PERMUTATIONS,
    seed: int = DEFAULT_SEED,
) -> tuple[int, float, float, float]:
    """The most likely change of level: (index, K, permutation p, asymptotic p).

    ``index`` is where the second part starts. p = (1 + #{permuted K ≥ observed K}) /
    (1 + permutations) (Phipson & Smyth 2010), so it is never 0. A series whose values are all
    equal has K = 0 and p = 1.

    Raises:
        ValueError: fewer than two values.
    """
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n < 2:
        raise ValueError("a change point needs at least two values")
    u = pettitt_u(x)
    index = int(np.argmax(np.abs(u))) + 1
    statistic = float(np.abs(u).max())
    if statistic == 0.0:
        return index, 0.0, 1.0, 1.0
    ranks = _midranks(x)
    rng = np.random.default_rng(seed)
    shuffled = np.stack([rng.permutation(ranks) for _ in range(permutations)])
    t = np.arange(1, n)
    null = np.abs(t * (n + 1) - 2 * np.cumsum(shuffled, axis=1)[:, :-1]).max(axis=1)
    # A tolerance: the same K reached by another order must count as "at least as large".
    exceed = int(np.count_nonzero(null >= statistic - 1e-9))
    p_value = (1 + exceed) / (1 + permutations)
    return index, statistic, float(p_value), pettitt_asymptotic_p(statistic, n)


def change_points(
    values: Sequence[float] | np.ndarray,
    *,
    alpha: float = QUALITY_ALPHA,
    min_size: int = QUALITY_MIN_RUNS,
    permutations: int = QUALITY_PERMUTATIONS,
    seed: int = DEFAULT_SEED,
) -> tuple[ChangePoint, ...]:
    """Every change of level, by binary segmentation, in order.

    A segment of at least ``min_size`` values is tested; at p < α it is split at its change
    and each part is tested in turn. Each test is at level α with no correction across
    segments: a second change is looked for only inside a series already found to change, and a
    segment must still hold ``min_size`` values to be tested at all, which bounds how many
    tests a series gets.
    """
    x = np.asarray(values, dtype=float)
    found: list[tuple[int, float, float, float]] = []

    def split(start: int, end: int) -> None:
        if end - start < max(min_size, 2):
            return
        index, statistic, p_value, p_asymptotic = pettitt(
            x[start:end], permutations=permutations, seed=seed
        )
        if p_value >= alpha:
            return
        found.append((start + index, statistic, p_value, p_asymptotic))
        split(start, start + index)
        split(start + index, end)

    split(0, len(x))
    found.sort()
    bounds = [0, *(f[0] for f in found), len(x)]
    return tuple(
        ChangePoint(
            index=index,
            statistic=statistic,
            p_value=p_value,
            p_asymptotic=p_asymptotic,
            before_mean=float(x[bounds[i] : index].mean()),
            after_mean=float(x[index : bounds[i + 2]].mean()),
        )
        for i, (index, statistic, p_value, p_asymptotic) in enumerate(found)
    )


__all__ = ["ChangePoint", "change_points", "pettitt", "pettitt_asymptotic_p", "pettitt_u"]
