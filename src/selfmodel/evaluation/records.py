"""``EvalRuns``: recording a scored suite as a run of a workspace, and reading runs back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from selfmodel.bench.report import mean, percentile
from selfmodel.domain import EvalItemScore, EvalRun, Workspace, new_id
from selfmodel.errors import EvalRunNotFoundError
from selfmodel.evaluation.configuration import EvalConfiguration, code_version
from selfmodel.storage import EvalStore

if TYPE_CHECKING:  # reading runs (the HTTP server) needs neither the runner nor the suites
    from selfmodel.evaluation.runner import ScoredSuite
    from selfmodel.evaluation.suites import Suite


@dataclass(frozen=True)
class EvalRuns:
    """The recorded eval runs of a store, one workspace at a time."""

    store: EvalStore

    def record(
        self,
        workspace: Workspace,
        suite: Suite,
        configuration: EvalConfiguration,
        scored: ScoredSuite,
    ) -> EvalRun:
        """Store ``scored`` as a new run of ``workspace``: ids, hashes and numbers only."""
        recalls = [item.recall for item in scored.items]
        run = EvalRun(
            id=new_id("evr"),
            workspace_id=workspace.id,
            suite=suite.name,
            suite_kind=suite.kind.value,
            dataset_sha256=suite.dataset_sha256,
            config_sha256=configuration.sha256,
            k=configuration.k,
            started_at=scored.started_at,
            finished_at=scored.finished_at,
            item_count=len(scored.items),
            mean_recall=mean(recalls) if recalls else None,
            config=configuration.as_dict(),
            code_version=code_version(),
            summary=summary(scored.items, scored.history_messages),
        )
        self.store.insert_eval_run(run, scored.items)
        return run

    def runs(self, workspace: Workspace) -> list[EvalRun]:
        """The workspace's runs, newest first."""
        return self.store.list_eval_runs(workspace.id)

    def run(self, workspace: Workspace, run_id: str) -> EvalRun:
        found = self.store.get_eval_run(workspace.id, run_id)
        if found is None:
            raise EvalRunNotFoundError(
                f"no eval run {run_id!r} in workspace {workspace.name!r}", run_id=run_id
            )
        return found

    def items(self, workspace: Workspace, run_id: str) -> list[EvalItemScore]:
        """A run's item scores in suite order (the run must exist)."""
        return self.store.list_eval_items(workspace.id, self.run(workspace, run_id).id)


def summary(
    items: list[EvalItemScore], history_messages: dict[str, int] | None = None
) -> dict[str, Any]:
    """What a run's list shows besides the mean recall: all-found rate, violations, cost, and
    (when the history of each item is known) mean recall per history length."""
    if not items:
        return {}
    categories = sorted({i.category for i in items if i.category is not None})
    latencies = [i.latency_ms for i in items]
    by_length: dict[int, list[float]] = {}
    for item in items:
        if history_messages and item.item_id in history_messages:
            by_length.setdefault(history_messages[item.item_id], []).append(item.recall)
    return {
        "all_found": mean([float(i.evidence_found == i.evidence_total) for i in items]),
        "violations": sum(i.violations for i in items),
        "items_with_violations": sum(1 for i in items if i.violations),
        "tokens_mean": mean([float(i.tokens) for i in items]),
        "latency_ms_p50": percentile(latencies, 50),
        "latency_ms_p95": percentile(latencies, 95),
        "recall_by_category": {
            c: mean([i.recall for i in items if i.category == c]) for c in categories
        },
        "recall_by_history": [
            {"messages": n, "items": len(found), "recall": mean(found)}
            for n, found in sorted(by_length.items())
        ],
    }


__all__ = ["EvalRuns", "summary"]
