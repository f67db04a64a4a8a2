"""The one way the engine changes a user's rows: a transaction that holds each user it touches.

Every write — observe, the jobs' revisions, corrections, decay, Mirror links, cards and
selections, forgetting — runs inside ``with units.begin() as unit:`` and calls
``unit.hold(workspace_id, user_id)`` before it writes a user's rows. Holding takes the user lock
(so revisions of one user serialise across threads and processes; on SQLite the file's write
lock already does) and moves the user's revision, which stamps what the unit writes: warm
retrieval indexes, here or in any other process, see the new revision on their next call and
read the rows stamped with it (``retrieval/freshness.py``).

Slow work (extraction, embedding) is done before a unit begins: a unit holds locks for the
writes only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

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

    def __init__(self, store: ModelStore) -> None:
        self._store = store
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
