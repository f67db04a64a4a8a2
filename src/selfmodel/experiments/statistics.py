"""Fixed-horizon statistics of an experiment: effects with intervals, CUPED, sample ratio
mismatch and sample sizes. Formulas and sources: docs/experiments.md.

Every function takes plain arrays (one value per user) so the engine, the benchmark and the
tests feed them the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from selfmodel.errors import InvalidInputError

# A sample ratio whose chi-square p-value is below this is a mismatch: the assignment or the
# logging is broken and no effect can be trusted. 0.001 rather than α, since SRM is checked on
# every look of every experiment (Fabijan et al., "Diagnosing Sample Ratio Mismatch in Online
# Controlled Experiments", KDD 2019, use the same threshold).
SRM_THRESHOLD = 0.001
# Fewer users than this in an arm and no interval is computed (a variance needs two).
MIN_USERS_PER_ARM = 2


@dataclass(frozen=True)
class Effect:
    """A difference in means (treatment − control), its interval and p-value, and the same
    relative to the control mean (None when the control mean is 0)."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    relative: float | None
    relative_ci_low: float | None
    relative_ci_high: float | None


def _arrays(treatment: np.ndarray, control: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(treatment, dtype=float)
    c = np.asarray(control, dtype=float)
    if len(t) < MIN_USERS_PER_ARM or len(c) < MIN_USERS_PER_ARM:
        raise InvalidInputError(
            f"each arm needs at least {MIN_USERS_PER_ARM} users with a value", field="metric"
        )
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(c))):
        raise InvalidInputError("values must be finite numbers", field="metric")
    return t, c


def difference_in_means(treatment: np.ndarray, control: np.ndarray, alpha: float) -> Effect:
    """Welch's two-sample t interval and test for mean(treatment) − mean(control), and the
    relative effect by the delta method."""
    t, c = _arrays(treatment, control)
    n_t, n_c = len(t), len(c)
    mean_t, mean_c = float(t.mean()), float(c.mean())
    var_t, var_c = float(t.var(ddof=1)), float(c.var(ddof=1))
    v_t, v_c = var_t / n_t, var_c / n_c
    se = math.sqrt(v_t + v_c)
    estimate = mean_t - mean_c
    if se == 0.0:
        # No spread at all: the difference is what it is, with certainty.
        p = 1.0 if estimate == 0 else 0.0
        return Effect(estimate, 0.0, estimate, estimate, p, *_relative(t, c, alpha))
    # Welch–Satterthwaite degrees of freedom.
    df = (v_t + v_c) ** 2 / (
        (v_t**2 / (n_t - 1) if n_t > 1 else 0.0) + (v_c**2 / (n_c - 1) if n_c > 1 else 0.0)
    )
    # scipy.special's t quantile and CDF: what stats.t computes, without its per-call overhead
    # (the benchmark calls this tens of thousands of times).
    q = float(special.stdtrit(df, 1 - alpha / 2))
    p = float(2 * special.stdtr(df, -abs(estimate) / se))
    return Effect(estimate, se, estimate - q * se, estimate + q * se, p, *_relative(t, c, alpha))


def _relative(
    t: np.ndarray, c: np.ndarray, alpha: float
) -> tuple[float | None, float | None, float | None]:
    mean_t, mean_c = float(t.mean()), float(c.mean())
    if mean_c == 0.0:
        return None, None, None
    # Delta method for mean_t / mean_c − 1 with independent arms.
    var = (
        float(t.var(ddof=1)) / len(t) / mean_c**2
        + mean_t**2 * float(c.var(ddof=1)) / len(c) / mean_c**4
    )
    ratio = mean_t / mean_c - 1
    half = float(special.ndtri(1 - alpha / 2)) * math.sqrt(var)
    return ratio, ratio - half, ratio + half


@dataclass(frozen=True)
class Cuped:
    """Outcomes adjusted by a pre-period covariate (Deng, Xu, Kohavi & Walker, WSDM 2013)."""

    theta: float
    variance_reduction: float  # 1 − var(adjusted) / var(raw), pooled over the arms
    adjusted_treatment: np.ndarray
    adjusted_control: np.ndarray


def cuped(
    y_treatment: np.ndarray,
    x_treatment: np.ndarray,
    y_control: np.ndarray,
    x_control: np.ndarray,
) -> Cuped:
    """Y − θ (X − mean X) with θ = cov(Y, X) / var(X), both pooled over the two arms.

    X must not depend on the assignment (a pre-period measure), so the adjustment removes
    variance without biasing the difference. Missing covariates are the caller's to impute
    (the engine uses the pooled mean: such users are left as they are).
    """
    y = np.concatenate([np.asarray(y_treatment, float), np.asarray(y_control, float)])
    x = np.concatenate([np.asarray(x_treatment, float), np.asarray(x_control, float)])
    var_x = float(x.var(ddof=1)) if len(x) > 1 else 0.0
    theta = float(np.cov(y, x, ddof=1)[0, 1]) / var_x if var_x > 0 else 0.0
    adjusted = y - theta * (x - x.mean())
    var_y = float(y.var(ddof=1)) if len(y) > 1 else 0.0
    reduction = 1.0 - float(adjusted.var(ddof=1)) / var_y if var_y > 0 else 0.0
    n_t = len(y_treatment)
    return Cuped(theta, reduction, adjusted[:n_t], adjusted[n_t:])


@dataclass(frozen=True)
class SampleRatio:
    """Pearson's chi-square goodness of fit of users per variant to the allocation."""

    chi2: float
    p_value: float
    mismatch: bool
    expected: dict[str, float]


def sample_ratio(observed: Mapping[str, int], weights: Mapping[str, float]) -> SampleRatio:
    """Do the users per variant fit the weights? ``mismatch`` when p < ``SRM_THRESHOLD``."""
    names = list(weights)
    counts = np.array([observed.get(n, 0) for n in names], dtype=float)
    total = counts.sum()
    shares = np.array([weights[n] for n in names], dtype=float)
    expected = total * shares / shares.sum()
    if total == 0:
        return SampleRatio(0.0, 1.0, False, dict.fromkeys(names, 0.0))
    chi2, p = stats.chisquare(counts, expected)
    return SampleRatio(
        float(chi2),
        float(p),
        bool(p < SRM_THRESHOLD),
        {n: float(e) for n, e in zip(names, expected, strict=True)},
    )


def users_needed(
    sd: float,
    mde: float,
    alpha: float,
    power: float,
    share_treatment: float,
    share_control: float,
) -> int | None:
    """Users (of the two arms together) a fixed-horizon two-sided test needs to detect a
    difference ``mde`` with ``power``: (z₁₋α/₂ + z_power)² σ² (1/p_t + 1/p_c) / mde², where p_t
    and p_c are the arms' shares of those users. None when ``mde`` is 0."""
    if mde == 0 or not math.isfinite(mde):
        return None
    z = float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))
    total_share = share_treatment + share_control
    p_t, p_c = share_treatment / total_share, share_control / total_share
    return math.ceil(z**2 * sd**2 * (1 / p_t + 1 / p_c) / mde**2)


__all__ = [
    "MIN_USERS_PER_ARM",
    "SRM_THRESHOLD",
    "Cuped",
    "Effect",
    "SampleRatio",
    "cuped",
    "difference_in_means",
    "sample_ratio",
    "users_needed",
]
