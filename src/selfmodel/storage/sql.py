"""``SQLStore``: every concern in shared SQL, one mixin per concern; a backend adds the rest.

=================  ======================  ===============================================
mixin              module                  implements
=================  ======================  ===============================================
``SQLTenancy``     ``sql_tenancy.py``      ``TenancyStore``
``SQLModel``       ``sql_model.py``        ``ModelStore`` (but the user lock; forgetting)
``SQLVectors``     ``sql_vectors.py``      ``VectorStore``
``SQLTraces``      ``sql_traces.py``       ``TraceStore``
``SQLQueue``       ``sql_queue.py``        ``QueueStore`` (but job claims)
``SQLMirror``      ``sql_mirror.py``       ``MirrorStore``
``SQLEvaluation``  ``sql_evaluation.py``   ``EvalStore``
=================  ======================  ===============================================

Shared SQL is written once with ``?`` placeholders and run through a ``Dialect``
(``sql_base.py``); rows become domain records in ``sql_rows.py``. Backends (``sqlite.py``,
``postgres.py``) bring the connection handling, the ``Dialect``, and the few methods that
genuinely differ: job claims, the user lock, and what forgetting must scrub afterwards.
Forgetting a user is here because it spans the tables of every concern.
"""

from __future__ import annotations

from selfmodel.domain import DeletedCounts
from selfmodel.storage.base import Store
from selfmodel.storage.sql_evaluation import SQLEvaluation
from selfmodel.storage.sql_mirror import SQLMirror
from selfmodel.storage.sql_model import SQLModel
from selfmodel.storage.sql_queue import SQLQueue
from selfmodel.storage.sql_tenancy import SQLTenancy
from selfmodel.storage.sql_traces import SQLTraces
from selfmodel.storage.sql_vectors import SQLVectors

# Tables holding rows about a user, children first (the order forget deletes them in).
USER_TABLES = (
    "idempotency_keys",  # tenancy: answers kept for replays quote the user's data
    "mirror_prompts",  # Mirror
    "mirror_links",
    "jobs",  # queue
    "trace_users",  # traces (the traces themselves go first, whole)
    "vectors",  # vectors
    "belief_events",  # model
    "evidence",
    "beliefs",
    "observations",
)


class SQLStore(
    SQLTenancy, SQLModel, SQLVectors, SQLTraces, SQLQueue, SQLMirror, SQLEvaluation, Store
):
    """A ``Store`` over a SQL database; subclasses bring the connection and the ``Dialect``."""

    _version: int

    @property
    def schema_version(self) -> int:
        return self._version

    def _after_delete_user(self) -> None:
        """Scrub what deleted rows leave behind outside the tables (nothing by default)."""

    def delete_user(self, workspace_id: str, user_id: str) -> DeletedCounts:
        counts: dict[str, int] = {}
        with self.transaction():
            self.lock_user(workspace_id, user_id)
            # Traces that mention the user go whole: their payload quotes the user's text.
            counts["traces"] = self._x(
                "DELETE FROM traces WHERE workspace_id = ? AND id IN (SELECT trace_id FROM"
                " trace_users WHERE workspace_id = ? AND user_id = ?)",
                (workspace_id, workspace_id, user_id),
            )
            for table in USER_TABLES:
                counts[table] = self._x(
                    f"DELETE FROM {table} WHERE workspace_id = ? AND user_id = ?",
                    (workspace_id, user_id),
                )
            counts["users"] = self._x(
                "DELETE FROM users WHERE workspace_id = ? AND id = ?",
                (workspace_id, user_id),
            )
        self._after_delete_user()
        return DeletedCounts(counts)
