"""Evaluation that stays true after launch: suites run under a configuration, recorded as runs
of a workspace, and compared with statistics (docs/evaluation.md).

- ``golden.py``: the golden-set format and its matching rule
- ``suites.py``: a golden set or a LoCoMo file as a suite of items
- ``configuration.py``: what a run ran under (configuration and its hash, code version)
- ``runner.py``: scoring a suite in a scratch store
- ``records.py``: recording runs and reading them back (``EvalRuns``)
- ``compare.py``: two runs, paired: CI, Wilcoxon test, verdict
"""

from selfmodel.evaluation.compare import DEFAULT_ALPHA, Comparison, Verdict, compare_runs
from selfmodel.evaluation.configuration import DEFAULT_K, EvalConfiguration, ranking_with
from selfmodel.evaluation.records import EvalRuns
from selfmodel.evaluation.runner import ScoredSuite, run_suite
from selfmodel.evaluation.suites import Suite, SuiteKind, golden_suite, locomo_suite

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_K",
    "Comparison",
    "EvalConfiguration",
    "EvalRuns",
    "ScoredSuite",
    "Suite",
    "SuiteKind",
    "Verdict",
    "compare_runs",
    "golden_suite",
    "locomo_suite",
    "ranking_with",
    "run_suite",
]
