"""From exposures and outcomes to an experiment's analysis on one metric (docs/experiments.md).

Each exposed user contributes one value per metric: their mean (ratings, days away, a custom
metric) or their count (thumbs, accepted answers, completed tasks …) of the outcomes that
occurred from their first exposure to the look. The covariate of CUPED is the same measure over
the ``pre_period_days`` before their exposure: it cannot depend on the variant.

The sequential test looks once a day from the experiment's start (and at the end), as a team
that checks its dashboard daily would, so its p-value is the one they may act on at any time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from selfmodel.domain import Experiment, Exposure, Outcome, OutcomeKind
from selfmodel.domain.experiments import (
    DEFAULT_ALPHA,
    DEFAULT_HORIZON_USERS,
    DEFAULT_MDE_RELATIVE,
    DEFAULT_POWER,
    DEFAULT_PRE_PERIOD_DAYS,
    MAX_PRE_PERIOD_DAYS,
    ArmSummary,
    Comparison,
    CupedEstimate,
    EffectEstimate,
    ExperimentAnalysis,
    SampleRatioCheck,
    SampleSizeGuide,
    SequentialEstimate,
)
from selfmodel.domain.outcomes import METRIC_NAME_PATTERN, VALUED_KINDS
from selfmodel.errors import InvalidInputError
from selfmodel.experiments.sequential import Look, mixing_variance, sequential_test
from selfmodel.experiments.statistics import (
    MIN_USERS_PER_ARM,
    SRM_THRESHOLD,
    Effect,
    cuped,
    difference_in_means,
    sample_ratio,
    users_needed,
)

# At most this many looks (daily over a year); beyond, looks are spread evenly — any subset of
# looks keeps the test valid.
MAX_LOOKS = 366
LOOK_EVERY = timedelta(days=1)
METRIC_PREFIX = "metric:"


@dataclass(frozen=True)
class Metric:
    """What is measured per user: an outcome kind (and a custom metric's name)."""

    kind: OutcomeKind
    name: str | None = None

    @property
    def is_mean(self) -> bool:
        """Per-user mean of the values (else: per-user count of the events)."""
        return self.kind in VALUED_KINDS

    @property
    def label(self) -> str:
        return f"{METRIC_PREFIX}{self.name}" if self.name else self.kind.value


def parse_metric(spec: str) -> Metric:
    """``rating``, ``thumbs_up``, ``returned`` … (an outcome kind) or ``metric:NAME``."""
    if not isinstance(spec, str) or not spec:
        raise InvalidInputError("metric must be an outcome kind or metric:NAME", field="metric")
    if spec.startswith(METRIC_PREFIX):
        name = spec[len(METRIC_PREFIX) :]
        if not METRIC_NAME_PATTERN.fullmatch(name):
            raise InvalidInputError(f"{spec!r} names no valid metric", field="metric")
        return Metric(OutcomeKind.METRIC, name)
    try:
        kind = OutcomeKind(spec)
    except ValueError:
        allowed = ", ".join(k.value for k in OutcomeKind if k is not OutcomeKind.METRIC)
        raise InvalidInputError(
            f"metric {spec!r} is not one of: {allowed}, or metric:NAME", field="metric"
        ) from None
    if kind is OutcomeKind.METRIC:
        raise InvalidInputError("a custom metric is named: metric:NAME", field="metric")
    return Metric(kind)


@dataclass(frozen=True)
class Settings:
    alpha: float = DEFAULT_ALPHA
    power: float = DEFAULT_POWER
    mde_relative: float = DEFAULT_MDE_RELATIVE
    horizon_users: int = DEFAULT_HORIZON_USERS
    pre_period_days: float = DEFAULT_PRE_PERIOD_DAYS

    def __post_init__(self) -> None:
        checks = (
            ("alpha", 0 < self.alpha < 0.5, "alpha must be in (0, 0.5)"),
            ("power", 0.5 <= self.power < 1, "power must be in [0.5, 1)"),
            ("mde", 0 < self.mde_relative <= 10, "mde must be in (0, 10] (relative)"),
            ("horizon", 2 <= self.horizon_users <= 10**9, "horizon must be 2 or more users"),
            (
                "pre_period_days",
                0 <= self.pre_period_days <= MAX_PRE_PERIOD_DAYS,
                f"pre_period_days must be in [0, {MAX_PRE_PERIOD_DAYS:g}]",
            ),
        )
        for field, ok, message in checks:
            if not ok:
                raise InvalidInputError(message, field=field)


class _Data:
    """Exposed users and their outcomes as arrays (times in seconds since the epoch)."""

    def __init__(
        self, exposures: Sequence[Exposure], outcomes: Sequence[Outcome], metric: Metric
    ) -> None:
        self.metric = metric
        position = {e.user_id: n for n, e in enumerate(exposures)}
        self.variant = np.array([e.variant for e in exposures], dtype=object)
        self.exposed = np.array([e.exposed_at.timestamp() for e in exposures], dtype=float)
        kept = [o for o in outcomes if o.user_id in position]
        self.user = np.array([position[o.user_id] for o in kept], dtype=np.int64)
        self.at = np.array([o.occurred_at.timestamp() for o in kept], dtype=float)
        self.value = np.array(
            [(o.value if o.value is not None else 0.0) if metric.is_mean else 1.0 for o in kept],
            dtype=float,
        )

    def _per_user(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.exposed)
        total = np.bincount(self.user[mask], weights=self.value[mask], minlength=n)
        count = np.bincount(self.user[mask], minlength=n).astype(float)
        if self.metric.is_mean:
            has = count > 0
            return np.divide(total, count, out=np.zeros(n), where=has), has
        return total, np.ones(n, dtype=bool)

    def outcome(self, until: float) -> tuple[np.ndarray, np.ndarray]:
        """Each user's value from their exposure to ``until``, and whether they have one (a
        count is 0 for an exposed user with no event; a user exposed later has none)."""
        start = self.exposed[self.user]
        values, has = self._per_user((self.at >= start) & (self.at < until))
        return values, has & (self.exposed < until)

    def covariate(self, pre_seconds: float) -> tuple[np.ndarray, np.ndarray]:
        """Each user's value over the pre-period before their exposure."""
        start = self.exposed[self.user]
        return self._per_user((self.at < start) & (self.at >= start - pre_seconds))


def look_times(start: datetime, end: datetime) -> list[float]:
    """Daily from ``start`` (the first a day in), and ``end`` (timestamps)."""
    days = int((end - start) / LOOK_EVERY)
    times = [(start + LOOK_EVERY * k).timestamp() for k in range(1, days + 1)]
    times = [t for t in times if t < end.timestamp()] + [end.timestamp()]
    if len(times) > MAX_LOOKS:
        keep = np.unique(np.linspace(0, len(times) - 1, MAX_LOOKS).round().astype(int))
        times = [times[i] for i in keep]
    return times


def _pair(
    y: np.ndarray, has_y: np.ndarray, x: np.ndarray, has_x: np.ndarray, arm: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The values, covariates (missing ones at the pooled mean) and whether each had one."""
    chosen = arm & has_y
    x_chosen = x[chosen]
    known = has_x[chosen]
    return y[chosen], x_chosen, known


def _adjusted(
    y_t: np.ndarray,
    x_t: np.ndarray,
    known_t: np.ndarray,
    y_c: np.ndarray,
    x_c: np.ndarray,
    known_c: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, float, float, int] | None:
    """CUPED on the pair, missing covariates imputed with the mean of the known ones (such
    users are left unadjusted); None without a covariate that varies."""
    known = np.concatenate([known_t, known_c])
    if known.sum() < 2:
        return None
    fill = float(np.concatenate([x_t, x_c])[known].mean())
    xt, xc = np.where(known_t, x_t, fill), np.where(known_c, x_c, fill)
    if np.concatenate([xt, xc]).var() == 0:
        return None
    done = cuped(y_t, xt, y_c, xc)
    return (
        done.adjusted_treatment,
        done.adjusted_control,
        done.theta,
        done.variance_reduction,
        int(known.sum()),
    )


def _estimate(effect: Effect) -> EffectEstimate:
    return EffectEstimate(
        estimate=effect.estimate,
        se=effect.se,
        ci_low=effect.ci_low,
        ci_high=effect.ci_high,
        p_value=effect.p_value,
        relative=effect.relative,
        relative_ci_low=effect.relative_ci_low,
        relative_ci_high=effect.relative_ci_high,
    )


def _welch_variance(t: np.ndarray, c: np.ndarray) -> float:
    return float(t.var(ddof=1)) / len(t) + float(c.var(ddof=1)) / len(c)


def analyze(
    experiment: Experiment,
    exposures: Sequence[Exposure],
    outcomes: Sequence[Outcome],
    metric: Metric,
    end: datetime,
    settings: Settings | None = None,
) -> ExperimentAnalysis:
    """Every variant against the control on ``metric``, with the data up to ``end``."""
    s = settings or Settings()
    start = experiment.created_at
    exposures = [e for e in exposures if e.exposed_at < end]
    data = _Data(exposures, outcomes, metric)
    weights = {v.name: v.weight for v in experiment.variants}
    total_weight = sum(weights.values())
    counts = {name: int((data.variant == name).sum()) for name in weights}
    srm = sample_ratio(counts, weights)
    final = end.timestamp()
    y, has_y = data.outcome(final)
    x, has_x = data.covariate(s.pre_period_days * 86_400)
    arms = []
    for name in weights:
        values = y[(data.variant == name) & has_y]
        arms.append(
            ArmSummary(
                variant=name,
                exposed=counts[name],
                users=len(values),
                expected_share=weights[name] / total_weight,
                mean=float(values.mean()) if len(values) else None,
                sd=float(values.std(ddof=1)) if len(values) > 1 else None,
            )
        )
    warnings = []
    if srm.mismatch:
        warnings.append(
            f"sample ratio mismatch (p = {srm.p_value:.2g} < {SRM_THRESHOLD:g}): users per"
            " variant do not fit the allocation; the effects below cannot be trusted"
        )
    looks = look_times(start, end) if end > start else [final]
    comparisons = [
        _compare(data, experiment.control, v.name, weights, looks, x, has_x, s, warnings)
        for v in experiment.variants
        if v.name != experiment.control
    ]
    return ExperimentAnalysis(
        experiment=experiment.name,
        experiment_id=experiment.id,
        metric=metric.label,
        alpha=s.alpha,
        start=start,
        end=end,
        pre_period_days=s.pre_period_days,
        arms=arms,
        sample_ratio=SampleRatioCheck(
            chi2=srm.chi2, p_value=srm.p_value, mismatch=srm.mismatch, threshold=SRM_THRESHOLD
        ),
        comparisons=comparisons,
        warnings=warnings,
    )


def _compare(
    data: _Data,
    control: str,
    variant: str,
    weights: dict[str, float],
    looks: Sequence[float],
    x: np.ndarray,
    has_x: np.ndarray,
    s: Settings,
    warnings: list[str],
) -> Comparison:
    in_t, in_c = data.variant == variant, data.variant == control
    sequence: list[Look] = []
    sequence_times: list[float] = []
    adjusted_any = False
    last = None
    for t in looks:
        y, has_y = data.outcome(t)
        y_t, x_t, k_t = _pair(y, has_y, x, has_x, in_t)
        y_c, x_c, k_c = _pair(y, has_y, x, has_x, in_c)
        if len(y_t) < MIN_USERS_PER_ARM or len(y_c) < MIN_USERS_PER_ARM:
            continue
        adjusted = _adjusted(y_t, x_t, k_t, y_c, x_c, k_c)
        a_t, a_c = (adjusted[0], adjusted[1]) if adjusted else (y_t, y_c)
        adjusted_any = adjusted_any or adjusted is not None
        sequence.append(Look(float(a_t.mean() - a_c.mean()), _welch_variance(a_t, a_c)))
        sequence_times.append(t)
        last = (y_t, y_c, adjusted)
    if last is None:
        warnings.append(
            f"{variant}: fewer than {MIN_USERS_PER_ARM} users with a value in it or in"
            f" {control}; no estimate yet"
        )
        return Comparison(variant=variant, control=control, effect=None)
    y_t, y_c, adjusted = last
    raw = difference_in_means(y_t, y_c, s.alpha)
    cuped_estimate = None
    if adjusted is not None:
        a_t, a_c, theta, reduction, known = adjusted
        cuped_estimate = CupedEstimate(
            theta=theta,
            covariate_users=known,
            variance_reduction=reduction,
            effect=_estimate(difference_in_means(a_t, a_c, s.alpha)),
        )
    pooled = np.concatenate([adjusted[0], adjusted[1]] if adjusted is not None else [y_t, y_c])
    sd = float(pooled.std(ddof=1))
    tau2 = mixing_variance(sd, s.horizon_users, weights[variant], weights[control], s.alpha)
    sequential = None
    if tau2 > 0:
        test = sequential_test(sequence, tau2, s.alpha)
        first = (
            None
            if test.first_rejection is None
            else datetime.fromtimestamp(sequence_times[test.first_rejection], tz=UTC)
        )
        sequential = SequentialEstimate(
            p_value=test.p_value,
            ci_low=test.ci_low,
            ci_high=test.ci_high,
            significant=test.reject,
            looks=len(sequence),
            first_significant_at=first,
            adjusted=adjusted_any,
            horizon_users=s.horizon_users,
        )
    control_mean = float(y_c.mean())
    mde = s.mde_relative * abs(control_mean) if control_mean != 0 else None
    raw_sd = float(np.concatenate([y_t, y_c]).std(ddof=1))
    guide = SampleSizeGuide(
        mde_relative=s.mde_relative,
        mde=mde,
        power=s.power,
        users_needed=None
        if mde is None
        else users_needed(raw_sd, mde, s.alpha, s.power, weights[variant], weights[control]),
        users_needed_with_cuped=None
        if mde is None or adjusted is None
        else users_needed(
            raw_sd * math.sqrt(max(0.0, 1 - adjusted[3])),
            mde,
            s.alpha,
            s.power,
            weights[variant],
            weights[control],
        ),
        users_now=len(y_t) + len(y_c),
    )
    return Comparison(
        variant=variant,
        control=control,
        effect=_estimate(raw),
        cuped=cuped_estimate,
        sequential=sequential,
        sample_size=guide,
    )


__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_HORIZON_USERS",
    "DEFAULT_MDE_RELATIVE",
    "DEFAULT_POWER",
    "DEFAULT_PRE_PERIOD_DAYS",
    "Metric",
    "Settings",
    "analyze",
    "look_times",
    "parse_metric",
]
