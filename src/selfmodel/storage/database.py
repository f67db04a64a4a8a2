"""``Database``: what every storage concern shares — transactions, the schema version, closing.

Each concern interface (``ModelStore``, ``VectorStore``, ``TraceStore``, ``QueueStore``,
``MirrorStore``, ``TenancyStore``) extends it, so code typed against one concern can still group
its writes in a transaction; ``Store`` is all of them in one object.

The interfaces are ``Protocol`` classes whose methods are abstract: a backend subclasses them (and
cannot be instantiated while a method is missing), and a consumer needing two concerns can name
their combination as a protocol of its own that any ``Store`` satisfies.
"""

from __future__ import annotations

from abc import abstractmethod
from contextlib import AbstractContextManager
from typing import Protocol


class Database(Protocol):
    """An open database: its transactions, its schema version, and closing it."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """A unit of work: everything written inside commits together or not at all.

        Re-entrant: a nested ``transaction()`` joins the outer one. Writes of every concern of one
        store join it (a job enqueued inside commits with the observations it is about).
        """

    @property
    @abstractmethod
    def schema_version(self) -> int: ...
