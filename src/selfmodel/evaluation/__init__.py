"""Evaluation that stays true after launch: suites run under a configuration, recorded as runs
of a workspace, and compared with statistics (docs/evaluation.md).

- ``golden.py``: the golden-set format and its matching rule
- ``suites.py``: a golden set or a LoCoMo file as a suite of items
- ``configuration.py``: what a run ran under (configuration and its hash, code version)
- ``runner.py``: scoring a suite in a scratch store
- ``records.py``: recording runs and reading them back (``EvalRuns``)
- ``compare.py``: two runs, paired: CI, Wilcoxon test, verdict
- ``thresholds.py``: every threshold's default and the reason for it (the settings read them)
- ``drift.py``: drift statistics (MMD permutation test, PSI, chi-square), pure numerics
- ``changepoint.py``: change points in a series (Pettitt, permutation p, binary segmentation)
- ``quality.py``: each suite's eval scores over its runs, and where their level changed
- ``monitor.py``: drift of a workspace's queries, self-models and eval scores; findings
- ``alerts.py``: alerts raised from findings and regressions, deduplicated; webhook delivery
- ``eval_report.py``: the self-contained HTML page of ``selfmodel eval report`` (inline SVG)
- ``personalization.py``: how specific context blocks are, and which users the self-model covers
- ``joined_report.py``: engineering metrics beside outcomes (``selfmodel report``)

The names below are imported on first use (PEP 562): the HTTP server reads runs through
``records.py`` without loading the suite readers and the benchmark code behind them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_HOMES: dict[str, str] = {
    **dict.fromkeys(
        ("DEFAULT_ALPHA", "Comparison", "Verdict", "compare_runs"), "selfmodel.evaluation.compare"
    ),
    **dict.fromkeys(
        ("DEFAULT_K", "EvalConfiguration", "ranking_with"), "selfmodel.evaluation.configuration"
    ),
    "EvalRuns": "selfmodel.evaluation.records",
    **dict.fromkeys(("DriftReport", "drift_report"), "selfmodel.evaluation.monitor"),
    **dict.fromkeys(("ScoredSuite", "run_suite"), "selfmodel.evaluation.runner"),
    **dict.fromkeys(
        ("Suite", "SuiteKind", "golden_suite", "locomo_suite"), "selfmodel.evaluation.suites"
    ),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'selfmodel.evaluation' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


if TYPE_CHECKING:
    from selfmodel.evaluation.compare import DEFAULT_ALPHA, Comparison, Verdict, compare_runs
    from selfmodel.evaluation.configuration import DEFAULT_K, EvalConfiguration, ranking_with
    from selfmodel.evaluation.monitor import DriftReport, drift_report
    from selfmodel.evaluation.records import EvalRuns
    from selfmodel.evaluation.runner import ScoredSuite, run_suite
    from selfmodel.evaluation.suites import Suite, SuiteKind, golden_suite, locomo_suite

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_K",
    "Comparison",
    "DriftReport",
    "EvalConfiguration",
    "EvalRuns",
    "ScoredSuite",
    "Suite",
    "SuiteKind",
    "Verdict",
    "compare_runs",
    "drift_report",
    "golden_suite",
    "locomo_suite",
    "ranking_with",
    "run_suite",
]
