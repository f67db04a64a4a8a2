"""``ExperimentStore``: experiments (definitions) and each user's first exposure to one."""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from typing import Protocol

from selfmodel.domain import Experiment, ExperimentStatus, Exposure, Outcome, OutcomeKind
from selfmodel.storage.database import Database


class ExperimentStore(Database, Protocol):
    """Experiments per workspace; exposures keyed by workspace and user (forgotten with them)."""

    @abstractmethod
    def lock_experiments(self, workspace_id: str) -> None:
        """Inside a transaction: hold the workspace's experiments until commit, so two creators
        cannot both take the same buckets of a layer."""

    @abstractmethod
    def insert_experiment(self, experiment: Experiment) -> None:
        """Store the experiment; ``ConflictError`` if its name is the workspace's already."""

    @abstractmethod
    def get_experiment(self, workspace_id: str, name_or_id: str) -> Experiment | None: ...

    @abstractmethod
    def list_experiments(
        self, workspace_id: str, *, status: ExperimentStatus | None = None
    ) -> list[Experiment]:
        """The workspace's experiments, oldest first."""

    @abstractmethod
    def stop_experiment(self, workspace_id: str, experiment_id: str, stopped_at: datetime) -> bool:
        """Stop a running experiment; False if it was not running."""

    @abstractmethod
    def record_exposure(self, exposure: Exposure) -> Exposure:
        """Keep the user's first exposure to the experiment; returns the one kept (a later
        exposure changes nothing)."""

    @abstractmethod
    def list_exposures(
        self, workspace_id: str, *, experiment_id: str | None = None, user_id: str | None = None
    ) -> list[Exposure]:
        """Exposures of one experiment or one user (or both), in the order they happened."""

    @abstractmethod
    def exposed_outcomes(
        self, workspace_id: str, experiment_id: str, kind: OutcomeKind, name: str | None = None
    ) -> list[Outcome]:
        """Every outcome of ``kind`` (and ``name``) of the users exposed to the experiment, at
        any time (the analysis splits them at each user's exposure), by user then recording."""
