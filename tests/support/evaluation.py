"""Recorded eval runs for tests that need some in a store without running a suite."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from selfmodel import SelfModel
from selfmodel.domain import Alert, AlertKind, EvalItemScore, EvalRun, Workspace
from selfmodel.domain.time import utcnow
from selfmodel.evaluation import EvalConfiguration, EvalRuns, ScoredSuite, golden_suite
from selfmodel.evaluation.alerts import AlertBook
from selfmodel.evaluation.monitor import Finding
from selfmodel.storage import EvalStore

# The worked example of docs/evaluation.md: the tests run the very file the docs show.
GOLDEN_EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "golden-set.jsonl"


def raise_alert(sm: SelfModel, key: str = "input") -> Alert:
    """An open alert in ``sm``'s workspace, raised as a drift check would raise it."""
    finding = Finding(
        AlertKind.INPUT_DRIFT,
        key,
        f"input drift in {sm.workspace.name}: MMD² 0.1834, p = 0.0020",
        {"statistic": 0.1834, "p_value": 0.002},
    )
    book = AlertBook(sm.store, sm.workspace, sm.settings.monitoring)
    (alert,) = book.record([finding], checked=[key]).raised
    return alert


def record_run(
    store: EvalStore, workspace: Workspace, recalls: Sequence[float] = (1.0, 0.5, 0.0)
) -> EvalRun:
    """A run of the docs' golden set in ``workspace`` whose items scored ``recalls``."""
    suite = golden_suite(GOLDEN_EXAMPLE)
    asked = [item for history in suite.histories for item in history.items]
    items = [
        EvalItemScore(item.id, recall, int(recall * 2), 2, 0, 100 + n, 10.0 + n, item.category)
        for n, (item, recall) in enumerate(zip(asked, recalls, strict=True))
    ]
    now = utcnow()
    return EvalRuns(store).record(
        workspace, suite, EvalConfiguration(), ScoredSuite(items, now, now)
    )
