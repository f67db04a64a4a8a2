"""Helpers every benchmark shares: latency summaries, timing, tables and JSON output.

Kept free of any one benchmark's vocabulary so ``bench/extraction.py`` and friends can reuse them.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

MS_PER_S = 1000.0
# Bootstrap confidence intervals: 2 000 resamples put the Monte Carlo error of a 95 % percentile
# bound near 0.005 on a recall in [0, 1] (Efron & Tibshirani 1993, ch. 19: ≥ 1 000 for
# percentile intervals); a fixed seed makes two runs over the same results print the same CI.
BOOTSTRAP_RESAMPLES = 2_000
BOOTSTRAP_SEED = 20240501
CONFIDENCE = 0.95


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = math.ceil(position)
    if low == high:
        return float(ordered[low])
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean; NaN for no values (never a silent zero)."""
    return float(sum(values) / len(values)) if values else math.nan


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    confidence: float = CONFIDENCE,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (NaN, NaN for no values).

    Resampling is over the items (questions, requests), which are the independent units. For a
    *paired* comparison of two systems pass their per-item differences: every resample then
    draws the same items for both, so what the items share (their difficulty) cancels out.
    """
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return float(low), float(high)


def lead_with_ci(mine: Sequence[float], theirs: Sequence[float]) -> dict[str, Any]:
    """Mean of ``mine - theirs`` (paired per item) with its bootstrap interval."""
    if len(mine) != len(theirs):
        raise ValueError("a paired comparison needs one value per item on both sides")
    differences = np.asarray(mine, dtype=np.float64) - np.asarray(theirs, dtype=np.float64)
    low, high = bootstrap_ci(differences)
    return {"lead": mean(list(differences)), "ci95": [low, high]}


def lead_over_best(
    mine: Sequence[float], baselines: Mapping[str, Sequence[float]]
) -> dict[str, Any]:
    """The lead of ``mine`` over the best of ``baselines`` (per-item scores, same items, order).

    The best baseline is the one with the highest mean (the first listed on a tie), chosen on
    all items and then held fixed while the paired bootstrap resamples them; choosing it again
    inside each resample would add a max-of-noise bias in the baselines' favour.
    """
    means = {name: mean(list(values)) for name, values in baselines.items()}
    best = max(means, key=lambda name: (means[name], -list(means).index(name)))
    return {
        "best_baseline": best,
        "system": mean(list(mine)),
        "baseline": means[best],
        **lead_with_ci(mine, baselines[best]),
    }


def bootstrap_note(unit: str) -> dict[str, Any]:
    """How the intervals of a report were computed, for its JSON."""
    return {
        "resamples": BOOTSTRAP_RESAMPLES,
        "seed": BOOTSTRAP_SEED,
        "confidence": CONFIDENCE,
        "unit": unit,
    }


class Stopwatch:
    """Collects durations (in milliseconds) of repeated operations."""

    def __init__(self) -> None:
        self.samples_ms: list[float] = []

    @contextmanager
    def time(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.samples_ms.append((time.perf_counter() - started) * MS_PER_S)

    def p(self, q: float) -> float:
        return percentile(self.samples_ms, q)


def timed(func: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``func`` and return (its result, seconds it took)."""
    started = time.perf_counter()
    result = func()
    return result, time.perf_counter() - started


def metrics_table(
    title: str,
    rows: Mapping[str, Mapping[str, float]],
    columns: Sequence[str],
    *,
    row_header: str = "",
    formats: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    default_format: str = "{:.3f}",
) -> Table:
    """A rich table: one row per key of ``rows``, one column per metric name in ``columns``.

    ``formats`` and ``labels`` (column headers) are keyed by metric name.
    """
    formats = formats or {}
    labels = labels or {}
    table = Table(title=title)
    table.add_column(row_header)
    for column in columns:
        table.add_column(labels.get(column, column), justify="right")
    for name, metrics in rows.items():
        cells = []
        for column in columns:
            value = metrics.get(column)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                cells.append("–")
            else:
                cells.append(formats.get(column, default_format).format(value))
        table.add_row(name, *cells)
    return table


def _json_safe(value: Any) -> Any:
    """NaN is not JSON: write it as null so every reader can parse the file."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_json(path: str | Path, data: Mapping[str, Any]) -> None:
    """Write benchmark results as indented JSON (NaN becomes null)."""
    Path(path).write_text(json.dumps(_json_safe(data), indent=2) + "\n", encoding="utf-8")


__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "BOOTSTRAP_SEED",
    "CONFIDENCE",
    "Stopwatch",
    "bootstrap_ci",
    "bootstrap_note",
    "lead_over_best",
    "lead_with_ci",
    "mean",
    "metrics_table",
    "percentile",
    "timed",
    "write_json",
]
