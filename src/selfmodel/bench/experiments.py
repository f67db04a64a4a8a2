"""``selfmodel bench experiments``: do the experiment statistics keep their promises?

Simulated experiments, many seeds, each looked at once a day:

- users arrive over ``days``; each is assigned by the library's own hashing
  (``experiments.assignment``) to control or treatment, 1:1;
- each has a pre-period value X and an outcome Y, standard normal with correlation ``rho``
  (Y = μ + ρ X + sqrt(1 − ρ²) ε, plus ``effect`` standard deviations in treatment);
- at the end of every day the analysis functions (``experiments.statistics`` and
  ``experiments.sequential``, what ``analyze_experiment`` runs) see the users so far.

Reported, with binomial 95 % intervals over the seeds:

- A/A (no effect): how often the always-valid test ever rejects (must stay ≤ α), beside a Welch
  t-test read at every daily look (which does not) and read once at the end (which does);
- A/B (the planted effect): how often the sequential test rejects by the last day, beside the
  power the boundary predicts for these looks (``sequential.crossing_probability``);
- CUPED: the width of the adjusted interval over the raw one, beside theory's sqrt(1 − ρ²).

An end-to-end run then puts a smaller experiment through a real store: users, context calls
under "personalization off" and "on" (each trace naming its variant), outcomes tied to the
traces, and ``analyze_experiment`` on them.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from selfmodel.domain import Experiment, Variant, VariantConfig
from selfmodel.experiments.assignment import assign
from selfmodel.experiments.sequential import (
    Look,
    crossing_probability,
    mixing_variance,
    sequential_test,
)
from selfmodel.experiments.statistics import (
    cuped,
    difference_in_means,
    sample_ratio,
)

DEFAULT_SEEDS = 1_000
DEFAULT_USERS = 2_000
DEFAULT_DAYS = 14
DEFAULT_RHO = 0.7
# In standard deviations of the outcome: with 2 000 users and ρ = 0.7, the sequential test
# (CUPED, daily looks for 14 days, tuned to 2 000 users) has 81 % power by theory
# (``expected_power``); one fixed look at the end would have 96 %.
DEFAULT_EFFECT = 0.12
DEFAULT_ALPHA = 0.05
BASELINE_MEAN = 3.0  # the outcome's mean in control (so a relative effect is defined)
DEFAULT_END_TO_END_USERS = 300
END_TO_END_EFFECT = 0.5  # larger: a few hundred users should see it
CONTROL, TREATMENT = "control", "treatment"
PERSONALIZATION_METRIC = "satisfaction"


@dataclass(frozen=True)
class Plan:
    seeds: int = DEFAULT_SEEDS
    users: int = DEFAULT_USERS
    days: int = DEFAULT_DAYS
    rho: float = DEFAULT_RHO
    effect: float = DEFAULT_EFFECT
    alpha: float = DEFAULT_ALPHA

    def check(self) -> None:
        if self.seeds < 1 or self.users < 8 or self.days < 1:
            raise ValueError("need at least 1 seed, 8 users and 1 day")
        if not 0 <= self.rho < 1:
            raise ValueError("rho must be in [0, 1)")
        if not 0 < self.alpha < 0.5:
            raise ValueError("alpha must be in (0, 0.5)")


def _experiment(seed: int) -> Experiment:
    return Experiment(
        id=f"exp_bench_{seed}",
        workspace_id="ws_bench",
        name=f"bench-{seed}",
        variants=(Variant(name=CONTROL), Variant(name=TREATMENT)),
        control=CONTROL,
        salt=f"bench-salt-{seed}",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


@dataclass
class _Seed:
    """What one simulated experiment showed, under no effect and under the planted one."""

    aa_sequential: bool
    aa_sequential_raw: bool
    aa_naive_daily: bool
    aa_naive_final: bool
    ab_sequential: bool
    ab_sequential_raw: bool
    ab_fixed_cuped: bool
    width_ratio: float
    variance_reduction: float
    srm_p: float
    treated_share: float


def _simulate(plan: Plan, seed: int) -> _Seed:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(plan.users)
    noise = rng.standard_normal(plan.users)
    y0 = BASELINE_MEAN + plan.rho * x + math.sqrt(1 - plan.rho**2) * noise
    day = np.sort(rng.integers(0, plan.days, plan.users))  # arrival day, in arrival order
    experiment = _experiment(seed)
    treated = np.array(
        [
            (v := assign(experiment, f"user-{seed}-{i}")) is not None and v.name == TREATMENT
            for i in range(plan.users)
        ]
    )
    srm = sample_ratio(
        {TREATMENT: int(treated.sum()), CONTROL: int((~treated).sum())},
        {CONTROL: 1.0, TREATMENT: 1.0},
    )
    tau2_unit = mixing_variance(1.0, plan.users, 1.0, 1.0, plan.alpha)
    out: dict[str, Any] = {}
    for scenario, effect in (("aa", 0.0), ("ab", plan.effect)):
        y = y0 + effect * treated
        cuped_looks: list[Look] = []
        raw_looks: list[Look] = []
        naive_daily = False
        last: tuple[Any, ...] = ()
        for k in range(1, plan.days + 1):
            seen = day < k
            t, c = seen & treated, seen & ~treated
            if t.sum() < 2 or c.sum() < 2:
                continue
            raw = difference_in_means(y[t], y[c], plan.alpha)
            adjusted = cuped(y[t], x[t], y[c], x[c])
            a_t, a_c = adjusted.adjusted_treatment, adjusted.adjusted_control
            cuped_looks.append(Look(float(a_t.mean() - a_c.mean()), _variance(a_t, a_c)))
            raw_looks.append(Look(raw.estimate, raw.se**2))
            naive_daily = naive_daily or raw.p_value < plan.alpha
            last = (raw, adjusted, a_t, a_c, t, c)
        raw, adjusted, a_t, a_c, t, c = last
        # τ² scales with the spread of what is tested (plug-in, as analyze_experiment does).
        sd_adjusted = float(np.concatenate([a_t, a_c]).std(ddof=1))
        sd_raw = float(np.concatenate([y[t], y[c]]).std(ddof=1))
        fixed_cuped = difference_in_means(a_t, a_c, plan.alpha)
        out[scenario] = {
            "sequential": sequential_test(
                cuped_looks, tau2_unit * sd_adjusted**2, plan.alpha
            ).reject,
            "sequential_raw": sequential_test(raw_looks, tau2_unit * sd_raw**2, plan.alpha).reject,
            "naive_daily": naive_daily,
            "naive_final": raw.p_value < plan.alpha,
            "fixed_cuped": fixed_cuped.p_value < plan.alpha,
            "width_ratio": (fixed_cuped.ci_high - fixed_cuped.ci_low) / (raw.ci_high - raw.ci_low),
            "variance_reduction": adjusted.variance_reduction,
        }
    aa, ab = out["aa"], out["ab"]
    return _Seed(
        aa_sequential=aa["sequential"],
        aa_sequential_raw=aa["sequential_raw"],
        aa_naive_daily=aa["naive_daily"],
        aa_naive_final=aa["naive_final"],
        ab_sequential=ab["sequential"],
        ab_sequential_raw=ab["sequential_raw"],
        ab_fixed_cuped=ab["fixed_cuped"],
        width_ratio=aa["width_ratio"],
        variance_reduction=aa["variance_reduction"],
        srm_p=srm.p_value,
        treated_share=float(treated.mean()),
    )


def _variance(t: np.ndarray, c: np.ndarray) -> float:
    return float(t.var(ddof=1)) / len(t) + float(c.var(ddof=1)) / len(c)


def rate(hits: int, n: int) -> dict[str, Any]:
    """A simulated rate with its Wilson 95 % interval (binomial over the seeds)."""
    z = float(stats.norm.ppf(0.975))
    p = hits / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    # At 0 or n hits the bound is 0 or 1 exactly (the formula leaves rounding dust).
    low = 0.0 if hits == 0 else max(0.0, centre - half)
    high = 1.0 if hits == n else min(1.0, centre + half)
    return {"rate": p, "ci95": [low, high], "n": n}


def expected_power(plan: Plan) -> dict[str, float]:
    """Power theory predicts for this design: the sequential boundary's crossing probability
    over the daily looks (CUPED and raw), and one fixed look at the end."""
    shares = np.arange(1, plan.days + 1) / plan.days  # expected users so far, uniform arrivals
    per_arm = plan.users * shares / 2
    tau2_unit = mixing_variance(1.0, plan.users, 1.0, 1.0, plan.alpha)
    found = {}
    for label, variance in (("cuped", 1 - plan.rho**2), ("raw", 1.0)):
        information = per_arm / (2 * variance)  # 1 / (σ² (1/n_t + 1/n_c)) with n_t = n_c
        found[f"sequential_{label}"] = crossing_probability(
            plan.effect, information.tolist(), tau2_unit * variance, plan.alpha
        )
        z = float(stats.norm.ppf(1 - plan.alpha / 2))
        shift = plan.effect * math.sqrt(information[-1])
        found[f"fixed_{label}"] = float(stats.norm.sf(z - shift) + stats.norm.cdf(-z - shift))
    return found


def run_simulation(plan: Plan, on_progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Every seed of ``plan``, summarised (see the module docstring)."""
    plan.check()
    seeds = []
    for seed in range(plan.seeds):
        seeds.append(_simulate(plan, seed))
        if on_progress:
            on_progress(1)
    n = len(seeds)

    def count(attribute: str) -> int:
        return sum(bool(getattr(s, attribute)) for s in seeds)

    ratios = np.array([s.width_ratio for s in seeds])
    reductions = np.array([s.variance_reduction for s in seeds])
    return {
        "plan": plan.__dict__,
        "a_a": {
            "sequential_cuped": rate(count("aa_sequential"), n),
            "sequential_raw": rate(count("aa_sequential_raw"), n),
            "naive_t_daily": rate(count("aa_naive_daily"), n),
            "naive_t_final": rate(count("aa_naive_final"), n),
        },
        "a_b": {
            "sequential_cuped": rate(count("ab_sequential"), n),
            "sequential_raw": rate(count("ab_sequential_raw"), n),
            "fixed_cuped": rate(count("ab_fixed_cuped"), n),
        },
        "expected_power": expected_power(plan),
        "cuped": {
            "width_ratio": float(ratios.mean()),
            "width_ratio_ci95": _mean_ci(ratios),
            "theory_width_ratio": math.sqrt(1 - plan.rho**2),
            "variance_reduction": float(reductions.mean()),
            "theory_variance_reduction": plan.rho**2,
        },
        "assignment": {
            "treated_share": float(np.mean([s.treated_share for s in seeds])),
            "srm_false_alarms": rate(sum(s.srm_p < 0.001 for s in seeds), n),
        },
    }


def _mean_ci(values: np.ndarray) -> list[float]:
    half = 1.96 * float(values.std(ddof=1)) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return [float(values.mean()) - half, float(values.mean()) + half]


def run_end_to_end(
    embedder: Any,
    *,
    users: int = DEFAULT_END_TO_END_USERS,
    rho: float = DEFAULT_RHO,
    effect: float = END_TO_END_EFFECT,
    seed: int = 0,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """An experiment through a real store (a temporary SQLite file): "personalization off"
    against "on", a context call per user (its trace names the variant), a pre-period outcome
    and one tied to the trace, then ``analyze_experiment``."""
    from selfmodel.engine import SelfModel

    rng = np.random.default_rng(seed)
    with (
        tempfile.TemporaryDirectory() as tmp,
        SelfModel.open(str(Path(tmp) / "bench.db"), embedder=embedder, workspace="bench") as sm,
    ):
        sm.create_experiment(
            "personalization",
            [
                Variant(name="off", config=VariantConfig(personalized=False)),
                Variant(name="on"),
            ],
        )
        traced: dict[str, int] = {}
        past = datetime.now(UTC) - timedelta(days=3)
        for i in range(users):
            name = f"user-{i}"
            sm.store.get_or_create_user(sm.workspace.id, name)
            x = rng.standard_normal()
            y = BASELINE_MEAN + rho * x + math.sqrt(1 - rho**2) * rng.standard_normal()
            sm.record_outcome(
                name,
                "metric",
                name=PERSONALIZATION_METRIC,
                value=BASELINE_MEAN + x,
                occurred_at=past,
            )
            answer = sm.context(name, "What should I cook tonight?")
            (variant,) = [e["variant"] for e in answer.config["experiments"]]
            traced[variant] = traced.get(variant, 0) + 1
            sm.record_outcome(
                name,
                "metric",
                name=PERSONALIZATION_METRIC,
                value=y + (effect if variant == "on" else 0.0),
                trace_id=answer.trace_id,
            )
            if on_progress:
                on_progress(1)
        found = sm.analyze_experiment("personalization", f"metric:{PERSONALIZATION_METRIC}")
    (comparison,) = found.comparisons
    return {
        "users": users,
        "rho": rho,
        "planted_effect": effect,
        "traces_per_variant": traced,
        "analysis": found.model_dump(mode="json"),
        "covered": bool(
            comparison.cuped is not None
            and comparison.cuped.effect.ci_low <= effect <= comparison.cuped.effect.ci_high
        ),
    }


__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_EFFECT",
    "DEFAULT_RHO",
    "DEFAULT_SEEDS",
    "DEFAULT_USERS",
    "Plan",
    "expected_power",
    "rate",
    "run_end_to_end",
    "run_simulation",
]
