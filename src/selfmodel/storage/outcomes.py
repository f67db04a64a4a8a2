"""``OutcomeStore``: a user's outcomes (feedback, implicit signals, metrics), by trace or not."""

from __future__ import annotations

from abc import abstractmethod
from typing import Protocol

from selfmodel.domain import Outcome, OutcomeKind
from selfmodel.storage.database import Database


class OutcomeStore(Database, Protocol):
    """Outcomes, keyed by workspace and user; forgetting the user deletes them."""

    @abstractmethod
    def insert_outcome(self, outcome: Outcome) -> None:
        """Store the outcome; ``ConflictError`` if its ``external_id`` is the user's already."""

    @abstractmethod
    def get_outcome_by_external_id(
        self, workspace_id: str, user_id: str, external_id: str
    ) -> Outcome | None: ...

    @abstractmethod
    def list_outcomes(
        self,
        workspace_id: str,
        user_id: str,
        *,
        trace_id: str | None = None,
        kind: OutcomeKind | None = None,
    ) -> list[Outcome]:
        """The user's outcomes in the order they were recorded (ids are time-ordered)."""
