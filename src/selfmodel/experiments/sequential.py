"""An always-valid sequential test for a difference in means: look every day, stop any time.

The mixture sequential probability ratio test (mSPRT) of Johari, Koomen, Pekelis & Walsh,
"Peeking at A/B Tests: Why it matters, and what to do about it" (KDD 2017; "Always Valid
Inference", Operations Research 2022). With the estimate Δ̂ of the difference, its variance V,
and a normal mixture N(0, τ²) over the true difference, the likelihood ratio against Δ = 0 is

    Λ = sqrt(V / (V + τ²)) · exp(Δ̂² τ² / (2 V (V + τ²)))

Under Δ = 0, Λ is a nonnegative martingale, so by Ville's inequality P(ever Λ ≥ 1/α) ≤ α: the
running minimum of 1/Λ is a p-value valid at every look and any stopping time. Inverting the
test around each Δ gives a confidence sequence (Howard, Ramdas, McAuliffe & Sekhon, "Time-
uniform, nonparametric, nonasymptotic confidence sequences", Annals of Statistics 2021, the
normal mixture boundary):

    Δ ∈ Δ̂ ± sqrt( V (V + τ²) / τ² · (2 log(1/α) + log((V + τ²) / V)) )

τ² sets where the test is most sensitive. For r = τ² / V the boundary in z is
sqrt((1 + 1/r)(2 log(1/α) + log(1 + r))), smallest at r* solving r = 2 log(1/α) + log(1 + r);
τ² = r* · V at the planned number of users makes the test sharpest there (about z 3.03 at
α = 0.05, against 1.96 for one fixed look). The variance is estimated at each look (a plug-in,
as in Johari et al.); the simulation (``selfmodel bench experiments``) checks the error rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

# Grid of the numerical crossing probability: points per standard deviation of one look's
# increment, and how many standard deviations the grid spans either side.
_GRID_POINTS = 1_601
_GRID_SPAN_SD = 9.0


def optimal_ratio(alpha: float) -> float:
    """r* = τ² / V at which the boundary is narrowest: the root of r = 2 log(1/α) + log(1 + r)."""
    a = 2 * math.log(1 / alpha)
    r = a
    for _ in range(100):  # a contraction (derivative 1 / (1 + r) < 1): converges fast
        r = a + math.log1p(r)
    return r


def mixing_variance(
    sd: float, horizon_users: int, share_t: float, share_c: float, alpha: float
) -> float:
    """τ² that makes the test sharpest when ``horizon_users`` users are in the two arms
    (``share_t`` and ``share_c`` their relative shares) and the values have spread ``sd``."""
    total = share_t + share_c
    v_at_horizon = sd**2 * (total / share_t + total / share_c) / horizon_users
    return optimal_ratio(alpha) * v_at_horizon


def log_likelihood_ratio(estimate: float, variance: float, tau2: float) -> float:
    """log Λ of the normal mixture against a zero difference."""
    if variance <= 0:
        return math.inf if estimate != 0 else 0.0
    return 0.5 * math.log(variance / (variance + tau2)) + estimate**2 * tau2 / (
        2 * variance * (variance + tau2)
    )


def half_width(variance: float, tau2: float, alpha: float) -> float:
    """Half the width of the confidence sequence at a look with this variance."""
    if variance <= 0:
        return 0.0
    return math.sqrt(
        variance
        * (variance + tau2)
        / tau2
        * (2 * math.log(1 / alpha) + math.log1p(tau2 / variance))
    )


def z_boundary(ratio: float, alpha: float) -> float:
    """The |z| the test rejects at, for r = τ² / V at this look."""
    return math.sqrt((1 + 1 / ratio) * (2 * math.log(1 / alpha) + math.log1p(ratio)))


@dataclass(frozen=True)
class Look:
    """One look at the data: the estimate of the difference and its variance."""

    estimate: float
    variance: float


@dataclass(frozen=True)
class SequentialResult:
    p_value: float  # always valid: the running minimum of 1 / Λ over the looks
    ci_low: float  # the confidence sequence, intersected over the looks
    ci_high: float
    reject: bool  # p_value <= α: the difference is not zero
    first_rejection: int | None  # the look (0-based) where it first rejected


def sequential_test(looks: Sequence[Look], tau2: float, alpha: float) -> SequentialResult:
    """Run the mSPRT over ``looks`` in time order."""
    p = 1.0
    low, high = -math.inf, math.inf
    first: int | None = None
    for n, look in enumerate(looks):
        llr = log_likelihood_ratio(look.estimate, look.variance, tau2)
        p = min(p, math.exp(-llr) if llr < 700 else 0.0)
        width = half_width(look.variance, tau2, alpha)
        low, high = max(low, look.estimate - width), min(high, look.estimate + width)
        if first is None and p <= alpha:
            first = n
    if low > high:  # the intersection emptied: only possible when Δ moved (it rejects anyway)
        low = high = looks[-1].estimate
    return SequentialResult(min(p, 1.0), low, high, p <= alpha, first)


def crossing_probability(
    drift: float, informations: Sequence[float], tau2: float, alpha: float
) -> float:
    """P(the test rejects at some look) when the true difference is ``drift`` and the looks
    carry Fisher information I_k = 1 / V_k (increasing), the variance known.

    The score S_k = Δ̂_k I_k is a Gaussian random walk with S_k − S_{k−1} ~ N(Δ ΔI, ΔI); the
    test rejects when |S_k| ≥ z_k sqrt(I_k). The probability is computed by carrying the density
    of S across the looks on a grid and removing what crosses (the recursive integration of
    Armitage, McPherson & Rowe, J. R. Stat. Soc. A 1969; Jennison & Turnbull, "Group
    Sequential Methods", 2000, ch. 19).
    """
    info = np.asarray(informations, dtype=float)
    if len(info) == 0 or np.any(np.diff(info) <= 0) or info[0] <= 0:
        raise ValueError("informations must be positive and increasing")
    top = drift * info[-1] + _GRID_SPAN_SD * math.sqrt(info[-1])
    bottom = drift * info[-1] - _GRID_SPAN_SD * math.sqrt(info[-1])
    grid = np.linspace(min(bottom, -top), max(top, -bottom), _GRID_POINTS)
    step = grid[1] - grid[0]
    # The transition kernel depends on the distance between grid points only, so carrying the
    # density is a convolution with the kernel at every offset: 2n evaluations, not n².
    offsets = np.arange(1 - _GRID_POINTS, _GRID_POINTS) * step
    density = stats.norm.pdf(grid, drift * info[0], math.sqrt(info[0]))
    crossed = 0.0
    previous = 0.0
    for k, i_k in enumerate(info):
        if k > 0:
            d = i_k - previous
            kernel = stats.norm.pdf(offsets, drift * d, math.sqrt(d))
            carried = np.convolve(density, kernel)  # index i + n - 1 is grid point i
            density = carried[_GRID_POINTS - 1 : 2 * _GRID_POINTS - 1] * step
        bound = z_boundary(tau2 * i_k, alpha) * math.sqrt(i_k)
        inside = np.abs(grid) < bound
        mass_before = float(density.sum() * step) + crossed
        density = np.where(inside, density, 0.0)
        crossed = mass_before - float(density.sum() * step)
        previous = i_k
    return min(max(crossed, 0.0), 1.0)


__all__ = [
    "Look",
    "SequentialResult",
    "crossing_probability",
    "half_width",
    "log_likelihood_ratio",
    "mixing_variance",
    "optimal_ratio",
    "sequential_test",
    "z_boundary",
]
