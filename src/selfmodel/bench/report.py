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

from rich.table import Table

MS_PER_S = 1000.0


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
    "Stopwatch",
    "mean",
    "metrics_table",
    "percentile",
    "timed",
    "write_json",
]
