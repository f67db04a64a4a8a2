"""Quality drift: a suite's eval scores over its recorded runs, and where their level changed.

A series is the runs of one suite on one dataset (same name, same data hash), oldest first,
scored by mean recall@k: runs of different data measure different things and are never one
series. Its change points come from ``changepoint.change_points`` (Pettitt's test, permutation
p, binary segmentation). A series **drifted** when its last change point is a fall: the level
the suite scores at now is below the one before. A fall followed by a recovery is history, not
an alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from selfmodel.domain import EvalRun
from selfmodel.evaluation.changepoint import DEFAULT_SEED, ChangePoint, change_points
from selfmodel.evaluation.thresholds import QUALITY_ALPHA, QUALITY_MIN_RUNS, QUALITY_PERMUTATIONS


@dataclass(frozen=True)
class QualityChange:
    """A change point placed among the runs: the first run at the new level."""

    run_id: str
    started_at: datetime
    position: int  # index of that run in the series
    before_mean: float
    after_mean: float
    p_value: float
    statistic: float

    @property
    def fell(self) -> bool:
        return self.after_mean < self.before_mean


@dataclass(frozen=True)
class QualitySeries:
    """One suite on one dataset: its runs oldest first, their mean recall, its change points."""

    suite: str
    dataset_sha256: str
    k: int  # of the latest run (recall@k)
    run_ids: tuple[str, ...]
    started: tuple[datetime, ...]
    scores: tuple[float, ...]
    changes: tuple[QualityChange, ...]
    drifted: bool  # the last change is a fall
    note: str | None = None  # why no test ran (too few runs)

    @property
    def key(self) -> str:
        """What identifies the series (and an alert about it) across checks."""
        return f"{self.suite}@{self.dataset_sha256[:12]}"


def quality_series(
    runs: Sequence[EvalRun],
    *,
    alpha: float = QUALITY_ALPHA,
    min_runs: int = QUALITY_MIN_RUNS,
    permutations: int = QUALITY_PERMUTATIONS,
    seed: int = DEFAULT_SEED,
) -> tuple[QualitySeries, ...]:
    """Every suite's series with its change points; suites by name, then data."""
    groups: dict[tuple[str, str], list[EvalRun]] = {}
    for run in runs:
        if run.mean_recall is not None:
            groups.setdefault((run.suite, run.dataset_sha256), []).append(run)
    series = []
    for (suite, data), members in sorted(groups.items()):
        members.sort(key=lambda r: (r.started_at, r.id))
        scores = [float(r.mean_recall or 0.0) for r in members]
        note = None
        found: tuple[ChangePoint, ...] = ()
        if len(members) < min_runs:
            note = f"{len(members)} runs, at least {min_runs} needed for a change-point test"
        else:
            found = change_points(
                scores, alpha=alpha, min_size=min_runs, permutations=permutations, seed=seed
            )
        changes = tuple(
            QualityChange(
                run_id=members[c.index].id,
                started_at=members[c.index].started_at,
                position=c.index,
                before_mean=c.before_mean,
                after_mean=c.after_mean,
                p_value=c.p_value,
                statistic=c.statistic,
            )
            for c in found
        )
        series.append(
            QualitySeries(
                suite=suite,
                dataset_sha256=data,
                k=members[-1].k,
                run_ids=tuple(r.id for r in members),
                started=tuple(r.started_at for r in members),
                scores=tuple(scores),
                changes=changes,
                drifted=bool(changes) and changes[-1].fell,
                note=note,
            )
        )
    return tuple(series)


__all__ = ["QualityChange", "QualitySeries", "quality_series"]
