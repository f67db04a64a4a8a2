"""``SQLStore``: every concern in shared SQL, one mixin per concern; a backend adds the rest.

==================  ======================  ===============================================
mixin               module                  implements
==================  ======================  ===============================================
``SQLTenancy``      ``sql_tenancy.py``      ``TenancyStore``
``SQLModel``        ``sql_model.py``        ``ModelStore`` (but the user lock; forgetting)
``SQLVectors``      ``sql_vectors.py``      ``VectorStore``
``SQLTraces``       ``sql_traces.py``       ``TraceStore``
``SQLQueue``        ``sql_queue.py``        ``QueueStore`` (but job claims)
``SQLMirror``       ``sql_mirror.py``       ``MirrorStore``
``SQLEvaluation``   ``sql_evaluation.py``   ``EvalStore``
``SQLAlerts``       ``sql_alerts.py``       ``AlertStore``
``SQLOutcomes``     ``sql_outcomes.py``     ``OutcomeStore``
``SQLExperiments``  ``sql_experiments.py``  ``ExperimentStore``
``SQLRetention``    ``sql_retention.py``    ``RetentionStore`` (but deleting; checking)
==================  ======================  ===============================================

Shared SQL is written once with ``?`` placeholders and run through a ``Dialect``
(``sql_base.py``); rows become domain records in ``sql_rows.py``. Backends (``sqlite.py``,
``postgres.py``) bring the connection handling, the ``Dialect``, and the few methods that
genuinely differ: job claims, the user lock, and what a hard delete must scrub afterwards.
Forgetting a user and deleting observations are here because they span the tables of every
concern, and so are the checks made after them (``remaining_*``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from selfmodel.domain import DeletedCounts
from selfmodel.storage.base import Store
from selfmodel.storage.sql_alerts import SQLAlerts
from selfmodel.storage.sql_evaluation import SQLEvaluation
from selfmodel.storage.sql_experiments import SQLExperiments
from selfmodel.storage.sql_mirror import SQLMirror
from selfmodel.storage.sql_model import SQLModel
from selfmodel.storage.sql_outcomes import SQLOutcomes
from selfmodel.storage.sql_queue import SQLQueue
from selfmodel.storage.sql_retention import SQLRetention
from selfmodel.storage.sql_tenancy import SQLTenancy
from selfmodel.storage.sql_traces import SQLTraces
from selfmodel.storage.sql_vectors import SQLVectors
from selfmodel.storage.vectors import OBSERVATION_VECTORS

# Tables holding rows about a user, children first (the order forget deletes them in).
USER_TABLES = (
    "idempotency_keys",  # tenancy: answers kept for replays quote the user's data
    "mirror_prompts",  # Mirror
    "mirror_links",
    "jobs",  # queue
    "outcomes",  # outcomes: feedback and signals about the user
    "experiment_exposures",  # experiments: when the user first met each
    "trace_users",  # traces (the traces themselves go first, whole)
    "vectors",  # vectors
    "vector_history",
    "belief_versions",  # model: the self-model as it was
    "belief_events",
    "evidence",
    "beliefs",
    "observations",
)


class SQLStore(
    SQLTenancy,
    SQLModel,
    SQLVectors,
    SQLTraces,
    SQLQueue,
    SQLMirror,
    SQLEvaluation,
    SQLAlerts,
    SQLOutcomes,
    SQLExperiments,
    SQLRetention,
    Store,
):
    """A ``Store`` over a SQL database; subclasses bring the connection and the ``Dialect``."""

    _version: int

    @property
    def schema_version(self) -> int:
        return self._version

    def _after_hard_delete(self) -> None:
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
        self._after_hard_delete()
        return DeletedCounts(counts)

    def remaining_of_user(self, workspace_id: str, user_id: str) -> dict[str, int]:
        left: dict[str, int] = {}
        for table in (*USER_TABLES, "users"):
            column = "id" if table == "users" else "user_id"
            count = self._count(
                f"SELECT COUNT(*) AS n FROM {table} WHERE workspace_id = ? AND {column} = ?",
                (workspace_id, user_id),
            )
            if count:
                left[table] = count
        return left

    # -- retention: observations and traces --------------------------------------------------
    def delete_observations(
        self, workspace_id: str, user_id: str, observation_ids: Sequence[str]
    ) -> DeletedCounts:
        counts = {"evidence_quoted": 0, "traces": 0, "vectors": 0, "observations": 0}
        with self.transaction():
            self.lock_user(workspace_id, user_id)
            # Warm indexes read only rows written after their revision: one that holds these
            # observations must be built again (``UserWatermark.pruned_revision``).
            self._x(
                "UPDATE users SET pruned_revision = revision WHERE workspace_id = ? AND id = ?",
                (workspace_id, user_id),
            )
            counts["evidence_quoted"] = self._keep_quotes(workspace_id, user_id, observation_ids)
            # Traces quoting the observations go whole, as forget deletes them: their candidates
            # and block hold the observations' text.
            counts["traces"] = self.delete_traces(
                workspace_id, self._traces_citing(workspace_id, user_id, observation_ids)
            )
            for chunk in self._chunks(observation_ids):
                in_items, params = self._dialect.in_list("item_id", chunk)
                for table in ("vectors", "vector_history"):
                    counts["vectors"] += self._x(
                        f"DELETE FROM {table} WHERE workspace_id = ? AND user_id = ?"
                        f" AND item_type = ? AND {in_items}",
                        (workspace_id, user_id, OBSERVATION_VECTORS, *params),
                    )
                in_ids, params = self._dialect.in_list("id", chunk)
                counts["observations"] += self._x(
                    f"DELETE FROM observations WHERE workspace_id = ? AND user_id = ? AND {in_ids}",
                    (workspace_id, user_id, *params),
                )
        self._after_hard_delete()
        return DeletedCounts(counts)

    def delete_traces(self, workspace_id: str, trace_ids: Sequence[str]) -> int:
        deleted = 0
        with self.transaction():
            for chunk in self._chunks(trace_ids):
                in_ids, params = self._dialect.in_list("trace_id", chunk)
                self._x(
                    f"DELETE FROM trace_users WHERE workspace_id = ? AND {in_ids}",
                    (workspace_id, *params),
                )
                in_ids, params = self._dialect.in_list("id", chunk)
                deleted += self._x(
                    f"DELETE FROM traces WHERE workspace_id = ? AND {in_ids}",
                    (workspace_id, *params),
                )
        if deleted:
            self._after_hard_delete()
        return deleted

    def remaining_of_observations(
        self, workspace_id: str, user_id: str, observation_ids: Sequence[str]
    ) -> dict[str, int]:
        left = {
            "observations": 0,
            "vectors": 0,
            "evidence_without_quote": 0,
            "traces": len(self._traces_citing(workspace_id, user_id, observation_ids)),
        }
        for chunk in self._chunks(observation_ids):
            in_ids, params = self._dialect.in_list("id", chunk)
            left["observations"] += self._count(
                f"SELECT COUNT(*) AS n FROM observations WHERE workspace_id = ? AND {in_ids}",
                (workspace_id, *params),
            )
            in_items, params = self._dialect.in_list("item_id", chunk)
            left["vectors"] += self._count(
                f"SELECT COUNT(*) AS n FROM vectors WHERE workspace_id = ? AND item_type = ?"
                f" AND {in_items}",
                (workspace_id, OBSERVATION_VECTORS, *params),
            )
            in_obs, params = self._dialect.in_list("observation_id", chunk)
            left["evidence_without_quote"] += self._count(
                "SELECT COUNT(*) AS n FROM evidence WHERE workspace_id = ? AND quote IS NULL"
                f" AND {in_obs}",
                (workspace_id, *params),
            )
        return {table: count for table, count in left.items() if count}

    def _keep_quotes(self, workspace_id: str, user_id: str, observation_ids: Sequence[str]) -> int:
        """Copy onto each unquoted evidence row the words it stands for (its span of the
        observation, else the whole message: what the Mirror shows as "why we think this"),
        before the observation goes. Returns the rows given a quote."""
        kept = 0
        for chunk in self._chunks(observation_ids):
            in_ids, params = self._dialect.in_list("o.id", chunk)
            rows = self._q(
                "SELECT e.belief_id, e.observation_id, e.stance, e.span_start, e.span_end,"
                " o.content FROM evidence e JOIN observations o"
                " ON o.workspace_id = e.workspace_id AND o.user_id = e.user_id"
                " AND o.id = e.observation_id"
                f" WHERE e.workspace_id = ? AND e.user_id = ? AND e.quote IS NULL AND {in_ids}",
                (workspace_id, user_id, *params),
            )
            for r in rows:
                content: str = r["content"]
                start, end = r["span_start"], r["span_end"]
                spanned = start is not None and end is not None and 0 <= start < end
                kept += self._x(
                    "UPDATE evidence SET quote = ? WHERE workspace_id = ? AND user_id = ?"
                    " AND belief_id = ? AND observation_id = ? AND stance = ?",
                    (
                        content[start:end] if spanned else content,
                        workspace_id,
                        user_id,
                        r["belief_id"],
                        r["observation_id"],
                        r["stance"],
                    ),
                )
        return kept

    def _traces_citing(
        self, workspace_id: str, user_id: str, observation_ids: Sequence[str]
    ) -> list[str]:
        """The user's traces whose record names any of these observations."""
        wanted = set(observation_ids)
        rows = self._q(
            "SELECT t.id, t.payload FROM traces t JOIN trace_users r"
            " ON r.workspace_id = t.workspace_id AND r.trace_id = t.id"
            " WHERE t.workspace_id = ? AND r.user_id = ?",
            (workspace_id, user_id),
        )
        citing = []
        for r in rows:
            text = json.dumps(self._dialect.json_out(r["payload"]))
            if any(observation_id in text for observation_id in wanted):
                citing.append(r["id"])
        return citing

    def _count(self, sql: str, params: Sequence[object]) -> int:
        return int(self._q(sql, params)[0]["n"])
