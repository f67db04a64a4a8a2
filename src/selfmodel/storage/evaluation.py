"""``EvalStore``: recorded evaluation runs of a workspace and the scores of their items."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Protocol

from selfmodel.domain import EvalItemScore, EvalRun
from selfmodel.storage.database import Database


class EvalStore(Database, Protocol):
    """Eval runs, keyed by workspace; items are ids and numbers only (no user's text)."""

    @abstractmethod
    def insert_eval_run(self, run: EvalRun, items: Sequence[EvalItemScore]) -> None:
        """Store the run and its items, in order (in one transaction)."""

    @abstractmethod
    def get_eval_run(self, workspace_id: str, run_id: str) -> EvalRun | None: ...

    @abstractmethod
    def list_eval_runs(self, workspace_id: str) -> list[EvalRun]:
        """The workspace's runs, the last recorded first."""

    @abstractmethod
    def list_eval_items(self, workspace_id: str, run_id: str) -> list[EvalItemScore]:
        """A run's item scores in the order they were recorded ([] for an unknown run)."""
