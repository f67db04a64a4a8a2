"""Experiments: variants of the context configuration, users assigned to them by hashing.

An experiment splits the users of a workspace between variants, each a configuration of
``context`` (ranking weights, budget, moments, or personalization off: an empty self-model).
Users are assigned by hashing (``selfmodel.experiments.assignment``), so the same user lands in
the same variant in every process and after every restart; what is stored is the definition and,
per user, the first exposure (when the user first met the experiment), which the analysis uses
to split each user's outcomes into a pre-period (the covariate of CUPED) and the experiment.

An experiment may sit in a *layer*: the experiments of one layer own disjoint ranges of the
layer's buckets, so a user is in at most one of them (mutual exclusion).
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# The hash space of a layer (or of an experiment outside layers): a user falls in one of these
# buckets; an experiment owns a range of them. 10 000 gives traffic shares in steps of 0.01 %.
BUCKETS = 10_000
# Names of experiments, variants and layers: lowercase, starting with a letter, usable as labels.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_.:\-]{0,63}")
MIN_VARIANTS = 2
MAX_VARIANTS = 10
MAX_DESCRIPTION_CHARS = 2_000
# The configuration parameter a variant with ``personalized=False`` changes (for the rule that
# experiments in different layers must vary different parameters).
PERSONALIZATION = "personalized"

# Defaults of an analysis (the library, the API and the SDK share them; docs/experiments.md).
DEFAULT_ALPHA = 0.05
DEFAULT_POWER = 0.8
# The smallest effect worth detecting, relative to the control mean, for the sample size guide.
DEFAULT_MDE_RELATIVE = 0.05
# Where the sequential test is sharpest (users in the two arms). The boundary is flat around it
# (it moves with the log of the ratio), so a guess within a factor of a few costs little.
DEFAULT_HORIZON_USERS = 2_000
# Outcomes this long before a user's exposure make their covariate.
DEFAULT_PRE_PERIOD_DAYS = 28.0
MAX_PRE_PERIOD_DAYS = 365.0


class ExperimentStatus(StrEnum):
    """Running experiments assign users and shape their context; stopped ones do neither."""

    RUNNING = "running"
    STOPPED = "stopped"


class VariantConfig(BaseModel):
    """How ``context`` runs for a user in this variant (unset fields: as the caller asks).

    ``ranking`` overrides fields of ``RankingConfig`` by name; ``personalized=False`` is the
    control with an empty self-model: the block draws on no belief and no observation.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    personalized: bool = True
    ranking: dict[str, float | int | bool] = Field(default_factory=dict)
    budget_tokens: int | None = None
    moments: bool | None = None

    def parameters(self) -> set[str]:
        """The configuration parameters this variant sets (``ranking.<field>`` for weights)."""
        named = {f"ranking.{k}" for k in self.ranking}
        if not self.personalized:
            named.add(PERSONALIZATION)
        if self.budget_tokens is not None:
            named.add("budget_tokens")
        if self.moments is not None:
            named.add("moments")
        return named


class Variant(BaseModel):
    """One arm of an experiment: its name, its share of the experiment's users, its config."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    name: str
    weight: float = 1.0
    config: VariantConfig = Field(default_factory=VariantConfig)


class Experiment(BaseModel):
    """An experiment's definition; its users follow from hashing (see the module docstring)."""

    model_config = ConfigDict(frozen=True)

    id: str
    workspace_id: str
    name: str
    description: str | None = None
    variants: tuple[Variant, ...]
    control: str  # the variant every other is compared with
    layer: str | None = None
    traffic: float = 1.0  # share of the users (of the layer) in the experiment
    bucket_start: int = 0  # the buckets the experiment owns: [bucket_start, bucket_end)
    bucket_end: int = BUCKETS
    salt: str  # hashed with the user id to pick the variant (and the bucket, outside layers)
    status: ExperimentStatus = ExperimentStatus.RUNNING
    created_at: datetime
    stopped_at: datetime | None = None

    def variant(self, name: str) -> Variant | None:
        return next((v for v in self.variants if v.name == name), None)

    def parameters(self) -> set[str]:
        """Every configuration parameter some variant of this experiment sets."""
        return set().union(*(v.config.parameters() for v in self.variants))


class Assignment(BaseModel):
    """Which variant of an experiment a user is in (``variant`` None: not in the experiment)."""

    model_config = ConfigDict(frozen=True)

    experiment: str
    experiment_id: str
    user: str
    variant: str | None
    # Why: "assigned", "outside_traffic" (the user's bucket is not the experiment's), "stopped".
    reason: str
    config: VariantConfig | None = None
    exposed_at: datetime | None = None  # the user's first exposure, when recorded


class Exposure(BaseModel):
    """The first time a user met a running experiment (an ``assignment`` or a ``context``)."""

    model_config = ConfigDict(frozen=True)

    workspace_id: str
    experiment_id: str
    user_id: str
    variant: str
    exposed_at: datetime


class EffectEstimate(BaseModel):
    """A difference in means (variant − control) with its interval, p-value, and the same
    relative to the control's mean (None when that mean is 0)."""

    model_config = ConfigDict(frozen=True)

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    relative: float | None = None
    relative_ci_low: float | None = None
    relative_ci_high: float | None = None


class CupedEstimate(BaseModel):
    """The effect on outcomes adjusted by each user's pre-period mean (CUPED)."""

    model_config = ConfigDict(frozen=True)

    theta: float
    covariate_users: int  # users with outcomes before their exposure
    variance_reduction: float  # 1 − var(adjusted) / var(raw)
    effect: EffectEstimate


class SequentialEstimate(BaseModel):
    """The always-valid test over the daily looks (mSPRT): valid however often one looks."""

    model_config = ConfigDict(frozen=True)

    p_value: float
    ci_low: float  # the confidence sequence: holds at every look at once
    ci_high: float
    significant: bool
    looks: int
    first_significant_at: datetime | None = None
    adjusted: bool  # run on the CUPED-adjusted outcomes
    horizon_users: int  # where the mixture makes the test sharpest


class SampleSizeGuide(BaseModel):
    """Users (both arms) needed to detect ``mde`` with ``power`` at a fixed horizon."""

    model_config = ConfigDict(frozen=True)

    mde_relative: float
    mde: float | None  # in the metric's units (relative × the control mean)
    power: float
    users_needed: int | None
    users_needed_with_cuped: int | None
    users_now: int


class Comparison(BaseModel):
    """One variant against the control."""

    model_config = ConfigDict(frozen=True)

    variant: str
    control: str
    effect: EffectEstimate | None  # None: too few users with a value
    cuped: CupedEstimate | None = None
    sequential: SequentialEstimate | None = None
    sample_size: SampleSizeGuide | None = None


class ArmSummary(BaseModel):
    """One variant's users and its metric."""

    model_config = ConfigDict(frozen=True)

    variant: str
    exposed: int  # users exposed (what the sample ratio is checked on)
    users: int  # of them, users with a value of the metric
    expected_share: float
    mean: float | None
    sd: float | None


class SampleRatioCheck(BaseModel):
    """Do the exposed users per variant fit the allocation? (Pearson's chi-square)"""

    model_config = ConfigDict(frozen=True)

    chi2: float
    p_value: float
    mismatch: bool
    threshold: float


class ExperimentAnalysis(BaseModel):
    """An experiment's effect on one metric, per variant against the control."""

    model_config = ConfigDict(frozen=True)

    experiment: str
    experiment_id: str
    metric: str
    alpha: float
    start: datetime
    end: datetime
    pre_period_days: float
    arms: list[ArmSummary]
    sample_ratio: SampleRatioCheck
    comparisons: list[Comparison]
    warnings: list[str] = Field(default_factory=list)


def experiment_trace(experiment: Experiment, variant: str) -> dict[str, Any]:
    """How a ``context`` trace records the experiment it ran under."""
    return {"id": experiment.id, "name": experiment.name, "variant": variant}


__all__ = [
    "BUCKETS",
    "DEFAULT_ALPHA",
    "DEFAULT_HORIZON_USERS",
    "DEFAULT_MDE_RELATIVE",
    "DEFAULT_POWER",
    "DEFAULT_PRE_PERIOD_DAYS",
    "MAX_DESCRIPTION_CHARS",
    "MAX_PRE_PERIOD_DAYS",
    "MAX_VARIANTS",
    "MIN_VARIANTS",
    "NAME_PATTERN",
    "PERSONALIZATION",
    "ArmSummary",
    "Assignment",
    "Comparison",
    "CupedEstimate",
    "EffectEstimate",
    "Experiment",
    "ExperimentAnalysis",
    "ExperimentStatus",
    "Exposure",
    "SampleRatioCheck",
    "SampleSizeGuide",
    "SequentialEstimate",
    "Variant",
    "VariantConfig",
    "experiment_trace",
]
