"""``TraceStore``: what each ``context`` call considered and chose, kept for replay and audit."""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from typing import NamedTuple, Protocol

from selfmodel.domain import TraceRecord
from selfmodel.storage.database import Database


class ItemUses(NamedTuple):
    """How many of a user's traces chose an item, and when the first and the last were made."""

    traces: int
    first: datetime | None
    last: datetime | None


class TraceStore(Database, Protocol):
    """Traces of ``context`` calls, each filed under every user it read."""

    @abstractmethod
    def insert_trace(self, trace: TraceRecord) -> None:
        """Store the trace and its users (in one transaction)."""

    @abstractmethod
    def get_trace(self, workspace_id: str, trace_id: str) -> TraceRecord | None: ...

    @abstractmethod
    def list_traces(self, workspace_id: str, user_id: str) -> list[TraceRecord]:
        """Every trace filed under the user, oldest first (what an export of them includes)."""

    @abstractmethod
    def recent_traces(
        self, workspace_id: str, user_id: str, *, limit: int, before: TraceRecord | None = None
    ) -> list[TraceRecord]:
        """The user's newest ``limit`` traces, newest first; with ``before`` (the last of the
        previous page), only those older than it."""

    @abstractmethod
    def item_uses(self, workspace_id: str, user_id: str, item_id: str) -> ItemUses:
        """The user's traces whose payload chose ``item_id`` (an object of its ``chosen`` list
        with that ``id``), counted by the database: the payloads are not read back."""
