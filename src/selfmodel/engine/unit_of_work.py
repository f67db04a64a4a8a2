"""The one way the engine changes a user's rows: a transaction that holds each user it touches.

Every write — observe, the jobs' revisions, corrections, decay, Mirror links, cards and
selections, forgetting — runs inside ``with units.begin() as unit:`` and calls
``unit.hold(workspace_id, user_id)`` before it writes a user's rows. Holding takes the user lock
(so revisions of one user serialise across threads and processes; on SQLite the file's write
lock already does) and records the user, whose warm retrieval indexes are refreshed once the
outermost unit has committed — never before, so a concurrent reader cannot rebuild an index
from the state that is about to change and keep it as fresh.

Slow work (extraction, embedding) is done before a unit begins: a unit holds locks for the
writes only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from selfmodel.retrieval import Retriever
from selfmodel.storage import ModelStore


class Unit:
    """One open unit of work: the users it holds, written in the transaction it runs in."""

    def __init__(self, store: ModelStore) -> None:
        self.store = store
        self.held: list[tuple[str, str]] = []

    def hold(self, workspace_id: str, user_id: str) -> None:
        """Take the user's lock until commit (once per unit) before writing their rows."""
        key = (workspace_id, user_id)
        if key not in self.held:
            self.store.lock_user(workspace_id, user_id)
            self.held.append(key)


class UnitsOfWork:
    """Opens units of work; a unit begun inside another (same thread) joins it."""

    def __init__(self, store: ModelStore, retriever: Retriever) -> None:
        self._store = store
        self._retriever = retriever
        self._local = threading.local()

    @contextmanager
    def begin(self) -> Iterator[Unit]:
        current: Unit | None = getattr(self._local, "unit", None)
        if current is not None:
            yield current
            return
        unit = Unit(self._store)
        self._local.unit = unit
        try:
            with self._store.transaction():
                yield unit
        finally:
            self._local.unit = None
        for workspace_id, user_id in unit.held:
            self._retriever.invalidate(workspace_id, user_id)

    @contextmanager
    def user(self, workspace_id: str, user_id: str) -> Iterator[Unit]:
        """A unit that holds one known user from the start."""
        with self.begin() as unit:
            unit.hold(workspace_id, user_id)
            yield unit

    @property
    def active(self) -> Unit | None:
        """The unit this thread is inside, if any (what tests check writes against)."""
        return getattr(self._local, "unit", None)
