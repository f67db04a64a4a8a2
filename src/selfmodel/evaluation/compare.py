"""Comparing two recorded runs of one suite: paired differences, a CI, a test, a verdict.

Items are paired by id, so what makes an item hard cancels out and only the configuration's
effect is left. The mean of the per-item differences in recall@k (candidate − baseline) gets a
paired percentile-bootstrap 95 % interval (``bench.report.bootstrap_ci``, the benchmarks' own),
and the differences a two-sided Wilcoxon signed-rank test (scipy): recall is bounded and lumpy
(0, 1/2, 1 …), which rules out a t-test's normality, and the signed-rank test uses the size of
each change, not only its sign. Items whose recall did not move carry no evidence of direction
and are left out of the test (Wilcoxon's own treatment of zeros); when none moved, p = 1.

The verdict is "worse" (or "better") when p < α and the mean difference is below (above) zero,
else "no detectable change". α defaults to 0.05 (docs/evaluation.md says why).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from selfmodel.bench.report import bootstrap_note, lead_with_ci, mean
from selfmodel.domain import EvalItemScore, EvalRun
from selfmodel.errors import IncomparableRunsError, InvalidInputError
from selfmodel.evaluation.thresholds import COMPARE_ALPHA

# The default and the reason for it: thresholds.py (and the setting SELFMODEL_COMPARE_ALPHA).
DEFAULT_ALPHA = COMPARE_ALPHA
# How many of the items that moved most a comparison lists.
DEFAULT_SHOWN = 5


class Verdict(StrEnum):
    BETTER = "better"
    WORSE = "worse"
    NO_CHANGE = "no detectable change"


@dataclass(frozen=True)
class ItemChange:
    item_id: str
    baseline: float
    candidate: float

    @property
    def difference(self) -> float:
        return self.candidate - self.baseline


@dataclass(frozen=True)
class Comparison:
    """Candidate run against baseline run, over the items both scored."""

    baseline_id: str
    candidate_id: str
    paired: int
    unpaired: int  # items only one of the runs scored (left out)
    baseline_mean: float
    candidate_mean: float
    mean_difference: float
    ci95: tuple[float, float]
    p_value: float
    alpha: float
    verdict: Verdict
    changed_most: tuple[ItemChange, ...]
    same_data: bool

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        data["ci95"] = list(self.ci95)
        data["changed_most"] = [
            {**asdict(change), "difference": change.difference} for change in self.changed_most
        ]
        data["bootstrap"] = bootstrap_note("item")
        data["test"] = "two-sided Wilcoxon signed-rank on per-item recall differences"
        return data


def wilcoxon_p(differences: Sequence[float]) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired differences; 1.0 when none is non-zero
    (nothing moved: no change to detect, where scipy would refuse or return NaN)."""
    values = np.asarray(differences, dtype=np.float64)
    if not np.any(values != 0.0):
        return 1.0
    from scipy.stats import wilcoxon  # heavy: loaded only when runs are compared

    return float(wilcoxon(values, zero_method="wilcox", alternative="two-sided").pvalue)


def compare_runs(
    baseline: EvalRun,
    baseline_items: Sequence[EvalItemScore],
    candidate: EvalRun,
    candidate_items: Sequence[EvalItemScore],
    *,
    alpha: float = DEFAULT_ALPHA,
    allow_different_data: bool = False,
    shown: int = DEFAULT_SHOWN,
) -> Comparison:
    """Compare ``candidate`` with ``baseline``, item by item.

    Raises:
        IncomparableRunsError: the runs scored different suites or data (unless
            ``allow_different_data``), or share no item.
    """
    if not 0.0 < alpha < 1.0:
        raise InvalidInputError("alpha must be between 0 and 1", field="alpha")
    same_data = (baseline.suite, baseline.dataset_sha256) == (
        candidate.suite,
        candidate.dataset_sha256,
    )
    if not same_data and not allow_different_data:
        raise IncomparableRunsError(
            f"run {baseline.id} scored suite {baseline.suite!r} (data "
            f"{baseline.dataset_sha256[:12]}) and run {candidate.id} suite {candidate.suite!r} "
            f"(data {candidate.dataset_sha256[:12]}); pass --allow-different-data to pair "
            "their items by id anyway",
            baseline=baseline.id,
            candidate=candidate.id,
        )
    theirs = {item.item_id: item.recall for item in candidate_items}
    changes = [
        ItemChange(item.item_id, item.recall, theirs[item.item_id])
        for item in baseline_items
        if item.item_id in theirs
    ]
    if not changes:
        raise IncomparableRunsError(
            f"runs {baseline.id} and {candidate.id} have no item id in common",
            baseline=baseline.id,
            candidate=candidate.id,
        )
    before = [c.baseline for c in changes]
    after = [c.candidate for c in changes]
    lead = lead_with_ci(after, before)
    p_value = wilcoxon_p([c.difference for c in changes])
    difference = float(lead["lead"])
    verdict = Verdict.NO_CHANGE
    if p_value < alpha and difference != 0.0:
        verdict = Verdict.BETTER if difference > 0 else Verdict.WORSE
    moved = sorted(
        (c for c in changes if c.difference != 0.0),
        key=lambda c: (-abs(c.difference), c.item_id),
    )
    low, high = lead["ci95"]
    return Comparison(
        baseline_id=baseline.id,
        candidate_id=candidate.id,
        paired=len(changes),
        unpaired=len(baseline_items) + len(candidate_items) - 2 * len(changes),
        baseline_mean=mean(before),
        candidate_mean=mean(after),
        mean_difference=difference,
        ci95=(float(low), float(high)),
        p_value=p_value,
        alpha=alpha,
        verdict=verdict,
        changed_most=tuple(moved[:shown]),
        same_data=same_data,
    )


__all__ = [
    "DEFAULT_ALPHA",
    "Comparison",
    "ItemChange",
    "Verdict",
    "compare_runs",
    "wilcoxon_p",
]
