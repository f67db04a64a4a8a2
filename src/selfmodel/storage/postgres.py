"""The scale-out store: PostgreSQL through a psycopg 3 connection pool.

Same behaviour as ``SQLiteStore``, so both pass one contract suite. Thread-safe: each call borrows
a pooled connection, and ``transaction()`` pins one connection to the calling thread until the
outermost block ends (re-entrant per thread). Vectors are BYTEA (float32), scored in the
application like on SQLite; the pgvector extension is detected and reported, never required.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from selfmodel.domain import (
    Belief,
    BeliefEvent,
    BeliefEventType,
    BeliefKind,
    BeliefOrigin,
    BeliefStatus,
    Context,
    Evidence,
    EvidenceStance,
    Observation,
    ObservationKind,
    Role,
    User,
    Workspace,
    new_id,
)
from selfmodel.domain.time import utcnow
from selfmodel.errors import SchemaTooNewError, StorageError
from selfmodel.storage.base import (
    BeliefFilter,
    DeletedCounts,
    Store,
    StoredVectors,
    TraceRecord,
    UserWatermark,
)
from selfmodel.storage.pg_migrations import MIGRATION_LOCK_KEY, MIGRATIONS, SCHEMA_VERSION
from selfmodel.storage.pg_queue import PostgresQueue
from selfmodel.storage.pg_service import PostgresService

Row = dict[str, Any]
# Connections per process: API workers and job workers are few threads each; PostgreSQL's own
# default max_connections (100) must cover every process of a deployment.
DEFAULT_POOL_SIZE = 8
CONNECT_TIMEOUT_S = 10.0
# Tables holding rows about a user, children first (the order forget deletes them in).
USER_TABLES = (
    "mirror_prompts",
    "mirror_links",
    "jobs",
    "trace_users",
    "vectors",
    "belief_events",
    "evidence",
    "beliefs",
    "observations",
)


def _configure(conn: psycopg.Connection[Any]) -> None:
    # Timestamps come back as UTC-aware datetimes, like the rest of selfmodel uses.
    conn.execute("SET TIME ZONE 'UTC'")


def apply_migrations(conn: psycopg.Connection[Any], up_to: int = SCHEMA_VERSION) -> int:
    """Walk the schema forward to ``up_to`` under an advisory lock. Returns the version."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
        conn.execute("CREATE TABLE IF NOT EXISTS selfmodel_schema (version INTEGER NOT NULL)")
        row = conn.execute("SELECT max(version) AS v FROM selfmodel_schema").fetchone()
        current = int(row["v"] or 0) if row else 0
        if current > SCHEMA_VERSION:
            raise SchemaTooNewError(
                f"database schema version {current} is newer than this selfmodel supports "
                f"({SCHEMA_VERSION}); upgrade selfmodel to open it",
                found=current,
                supported=SCHEMA_VERSION,
            )
        for version in range(current + 1, up_to + 1):
            conn.execute(MIGRATIONS[version - 1])
            conn.execute("DELETE FROM selfmodel_schema")
            conn.execute("INSERT INTO selfmodel_schema (version) VALUES (%s)", (version,))
    return max(current, up_to)


class PostgresStore(PostgresQueue, PostgresService, Store):
    """A ``Store`` on a PostgreSQL database (``postgresql://`` URL), shared by many processes."""

    def __init__(self, url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self.url = url
        self._local = threading.local()
        self._pool: ConnectionPool[Any] = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "row_factory": dict_row},
            configure=_configure,
            open=False,
            name="selfmodel",
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        except PoolTimeout as exc:
            self._pool.close()
            raise StorageError(f"cannot connect to PostgreSQL at {_redact(url)}") from exc
        try:
            with self._pool.connection() as conn:
                self._version = apply_migrations(conn)
                found = conn.execute(
                    "SELECT 1 FROM pg_extension WHERE extname = 'vector'"
                ).fetchone()
            self.has_pgvector = found is not None
        except BaseException:
            self._pool.close()
            raise

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        self._pool.close()

    @property
    def schema_version(self) -> int:
        return self._version

    @contextmanager
    def transaction(self) -> Iterator[None]:
        state = self._local
        if getattr(state, "conn", None) is not None:
            yield  # joins the outer transaction of this thread
            return
        with self._pool.connection() as conn, conn.transaction():
            state.conn = conn
            try:
                yield
            finally:
                state.conn = None

    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []
        with self._pool.connection() as pooled:
            cur = pooled.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def _x(self, sql: str, params: Sequence[Any] = ()) -> int:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return int(conn.execute(sql, params).rowcount)
        with self._pool.connection() as pooled:
            return int(pooled.execute(sql, params).rowcount)

    # -- workspaces, users, contexts ---------------------------------------------------------
    @staticmethod
    def _workspace(r: Row) -> Workspace:
        return Workspace(
            id=r["id"], name=r["name"], settings=r["settings"], created_at=r["created_at"]
        )

    def get_or_create_workspace(self, name: str) -> Workspace:
        # ON CONFLICT: two processes creating the same workspace at once both get the one row.
        self._x(
            "INSERT INTO workspaces (id, name, settings, created_at) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (name) DO NOTHING",
            (new_id("ws"), name, Jsonb({}), utcnow()),
        )
        found = self.get_workspace(name)
        if found is None:
            raise StorageError(f"workspace {name!r} vanished while being created")
        return found

    def get_workspace(self, name: str) -> Workspace | None:
        rows = self._q("SELECT * FROM workspaces WHERE name = %s", (name,))
        return self._workspace(rows[0]) if rows else None

    def list_workspaces(self) -> list[Workspace]:
        return [self._workspace(r) for r in self._q("SELECT * FROM workspaces ORDER BY name")]

    def update_workspace_settings(self, workspace_id: str, settings: dict[str, Any]) -> Workspace:
        rows = self._q(
            "UPDATE workspaces SET settings = %s WHERE id = %s RETURNING *",
            (Jsonb(settings), workspace_id),
        )
        if not rows:
            raise StorageError(f"workspace {workspace_id} does not exist")
        return self._workspace(rows[0])

    @staticmethod
    def _user(r: Row) -> User:
        return User(
            id=r["id"],
            workspace_id=r["workspace_id"],
            external_id=r["external_id"],
            display_name=r["display_name"],
            created_at=r["created_at"],
        )

    def get_or_create_user(self, workspace_id: str, external_id: str) -> User:
        self._x(
            "INSERT INTO users (workspace_id, id, external_id, display_name, created_at)"
            " VALUES (%s, %s, %s, NULL, %s) ON CONFLICT (workspace_id, external_id) DO NOTHING",
            (workspace_id, new_id("usr"), external_id, utcnow()),
        )
        found = self.get_user(workspace_id, external_id)
        if found is None:
            raise StorageError(f"user {external_id!r} vanished while being created")
        return found

    def get_user(self, workspace_id: str, external_id: str) -> User | None:
        rows = self._q(
            "SELECT * FROM users WHERE workspace_id = %s AND external_id = %s",
            (workspace_id, external_id),
        )
        return self._user(rows[0]) if rows else None

    def get_user_by_id(self, workspace_id: str, user_id: str) -> User | None:
        rows = self._q(
            "SELECT * FROM users WHERE workspace_id = %s AND id = %s", (workspace_id, user_id)
        )
        return self._user(rows[0]) if rows else None

    def list_users(self, workspace_id: str) -> list[User]:
        rows = self._q(
            "SELECT * FROM users WHERE workspace_id = %s ORDER BY external_id", (workspace_id,)
        )
        return [self._user(r) for r in rows]

    def get_or_create_context(self, workspace_id: str, name: str) -> Context:
        self._x(
            "INSERT INTO contexts (workspace_id, id, name, created_at) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (workspace_id, name) DO NOTHING",
            (workspace_id, new_id("ctx"), name, utcnow()),
        )
        found = self.get_context(workspace_id, name)
        if found is None:
            raise StorageError(f"context {name!r} vanished while being created")
        return found

    def get_context(self, workspace_id: str, name: str) -> Context | None:
        rows = self._q(
            "SELECT * FROM contexts WHERE workspace_id = %s AND name = %s", (workspace_id, name)
        )
        if not rows:
            return None
        r = rows[0]
        return Context(
            id=r["id"], workspace_id=r["workspace_id"], name=r["name"], created_at=r["created_at"]
        )

    # -- observations ------------------------------------------------------------------------
    @staticmethod
    def _observation(r: Row) -> Observation:
        return Observation(
            id=r["id"],
            workspace_id=r["workspace_id"],
            user_id=r["user_id"],
            external_id=r["external_id"],
            kind=ObservationKind(r["kind"]),
            role=Role(r["role"]),
            speaker=r["speaker"],
            source=r["source"],
            context_id=r["context_id"],
            content=r["content"],
            occurred_at=r["occurred_at"],
            recorded_at=r["recorded_at"],
            metadata=r["metadata"],
        )

    def insert_observations(self, observations: Sequence[Observation]) -> list[Observation]:
        inserted: list[Observation] = []
        with self.transaction():
            for o in observations:
                count = self._x(
                    "INSERT INTO observations (workspace_id, user_id, id, external_id, kind, role,"
                    " speaker, source, context_id, content, occurred_at, recorded_at, metadata)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT DO NOTHING",
                    (
                        o.workspace_id,
                        o.user_id,
                        o.id,
                        o.external_id,
                        o.kind.value,
                        o.role.value,
                        o.speaker,
                        o.source,
                        o.context_id,
                        o.content,
                        o.occurred_at,
                        o.recorded_at,
                        Jsonb(o.metadata),
                    ),
                )
                if count:
                    inserted.append(o)
        return inserted

    def existing_external_ids(
        self, workspace_id: str, user_id: str, external_ids: Sequence[str]
    ) -> set[str]:
        if not external_ids:
            return set()
        rows = self._q(
            "SELECT external_id FROM observations WHERE workspace_id = %s AND user_id = %s"
            " AND external_id = ANY(%s)",
            (workspace_id, user_id, list(external_ids)),
        )
        return {r["external_id"] for r in rows}

    def get_observations(self, workspace_id: str, ids: Sequence[str]) -> list[Observation]:
        if not ids:
            return []
        rows = self._q(
            "SELECT * FROM observations WHERE workspace_id = %s AND id = ANY(%s)",
            (workspace_id, list(ids)),
        )
        return [self._observation(r) for r in rows]

    def list_observations(
        self, workspace_id: str, user_ids: Sequence[str], *, limit: int | None = None
    ) -> list[Observation]:
        if not user_ids:
            return []
        sql = (
            "SELECT * FROM observations WHERE workspace_id = %s AND user_id = ANY(%s)"
            " ORDER BY occurred_at, id"
        )
        params: list[Any] = [workspace_id, list(user_ids)]
        if limit is not None:
            sql += " LIMIT %s"
            params.append(limit)
        return [self._observation(r) for r in self._q(sql, params)]

    # -- beliefs -----------------------------------------------------------------------------
    @staticmethod
    def _belief(r: Row) -> Belief:
        return Belief(
            id=r["id"],
            workspace_id=r["workspace_id"],
            user_id=r["user_id"],
            context_id=r["context_id"],
            statement=r["statement"],
            kind=BeliefKind(r["kind"]),
            confidence=r["confidence"],
            origin=BeliefOrigin(r["origin"]),
            status=BeliefStatus(r["status"]),
            valid_from=r["valid_from"],
            valid_to=r["valid_to"],
            evidence_logit=r["evidence_logit"],
            last_evidence_at=r["last_evidence_at"],
            support_count=r["support_count"],
            contradict_count=r["contradict_count"],
            superseded_by=r["superseded_by"],
            metadata=r["metadata"],
            created_at=r["created_at"],
            updated_at=r["updated_at"],
        )

    _BELIEF_COLUMNS = (
        "workspace_id",
        "user_id",
        "id",
        "context_id",
        "statement",
        "kind",
        "confidence",
        "origin",
        "status",
        "valid_from",
        "valid_to",
        "evidence_logit",
        "last_evidence_at",
        "support_count",
        "contradict_count",
        "superseded_by",
        "metadata",
        "created_at",
        "updated_at",
    )

    @staticmethod
    def _belief_params(b: Belief) -> tuple[Any, ...]:
        return (
            b.workspace_id,
            b.user_id,
            b.id,
            b.context_id,
            b.statement,
            b.kind.value,
            b.confidence,
            b.origin.value,
            b.status.value,
            b.valid_from,
            b.valid_to,
            b.evidence_logit,
            b.last_evidence_at,
            b.support_count,
            b.contradict_count,
            b.superseded_by,
            Jsonb(b.metadata),
            b.created_at,
            b.updated_at,
        )

    def insert_belief(self, belief: Belief) -> None:
        marks = ", ".join(["%s"] * len(self._BELIEF_COLUMNS))
        self._x(
            f"INSERT INTO beliefs ({', '.join(self._BELIEF_COLUMNS)}) VALUES ({marks})",
            self._belief_params(belief),
        )

    def update_belief(self, belief: Belief) -> None:
        params = self._belief_params(belief)
        # The key (workspace, user, id) stays; every other column is rewritten.
        assignments = ", ".join(f"{c} = %s" for c in self._BELIEF_COLUMNS[3:])
        count = self._x(
            f"UPDATE beliefs SET {assignments}"
            " WHERE workspace_id = %s AND user_id = %s AND id = %s",
            (*params[3:], belief.workspace_id, belief.user_id, belief.id),
        )
        if count != 1:
            raise StorageError(f"belief {belief.id} does not exist in this workspace")

    def get_belief(self, workspace_id: str, belief_id: str) -> Belief | None:
        rows = self._q(
            "SELECT * FROM beliefs WHERE workspace_id = %s AND id = %s", (workspace_id, belief_id)
        )
        return self._belief(rows[0]) if rows else None

    def list_beliefs(self, workspace_id: str, where: BeliefFilter) -> list[Belief]:
        if not where.user_ids:
            return []
        clauses = ["workspace_id = %s", "user_id = ANY(%s)"]
        params: list[Any] = [workspace_id, list(where.user_ids)]
        if where.statuses:
            clauses.append("status = ANY(%s)")
            params.append([s.value for s in where.statuses])
        if where.kinds:
            clauses.append("kind = ANY(%s)")
            params.append([k.value for k in where.kinds])
        if where.context_id is not None:
            clauses.append("(context_id IS NULL OR context_id = %s)")
            params.append(where.context_id)
        if where.min_confidence is not None:
            clauses.append("confidence >= %s")
            params.append(where.min_confidence)
        sql = f"SELECT * FROM beliefs WHERE {' AND '.join(clauses)} ORDER BY id DESC"
        if where.limit is not None:
            sql += " LIMIT %s"
            params.append(where.limit)
        return [self._belief(r) for r in self._q(sql, params)]

    # -- evidence and history ----------------------------------------------------------------
    def add_evidence(self, workspace_id: str, user_id: str, evidence: Evidence) -> bool:
        count = self._x(
            "INSERT INTO evidence (workspace_id, user_id, belief_id, observation_id, stance,"
            " weight, span_start, span_end, quote, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (
                workspace_id,
                user_id,
                evidence.belief_id,
                evidence.observation_id,
                evidence.stance.value,
                evidence.weight,
                evidence.span_start,
                evidence.span_end,
                evidence.quote,
                evidence.created_at,
            ),
        )
        return count == 1

    def list_evidence(self, workspace_id: str, belief_ids: Sequence[str]) -> list[Evidence]:
        if not belief_ids:
            return []
        rows = self._q(
            "SELECT * FROM evidence WHERE workspace_id = %s AND belief_id = ANY(%s)"
            " ORDER BY created_at",
            (workspace_id, list(belief_ids)),
        )
        return [
            Evidence(
                belief_id=r["belief_id"],
                observation_id=r["observation_id"],
                stance=EvidenceStance(r["stance"]),
                weight=r["weight"],
                span_start=r["span_start"],
                span_end=r["span_end"],
                quote=r["quote"],
                created_at=r["created_at"],
            )
            for r in rows
        ]

    def append_event(self, event: BeliefEvent) -> None:
        self._x(
            "INSERT INTO belief_events (workspace_id, user_id, id, belief_id, type, at, cause,"
            " observation_id, confidence_before, confidence_after, details)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                event.workspace_id,
                event.user_id,
                event.id,
                event.belief_id,
                event.type.value,
                event.at,
                event.cause,
                event.observation_id,
                event.confidence_before,
                event.confidence_after,
                Jsonb(event.details),
            ),
        )

    def list_events(
        self, workspace_id: str, *, belief_id: str | None = None, user_id: str | None = None
    ) -> list[BeliefEvent]:
        clauses, params = ["workspace_id = %s"], [workspace_id]
        if belief_id is not None:
            clauses.append("belief_id = %s")
            params.append(belief_id)
        if user_id is not None:
            clauses.append("user_id = %s")
            params.append(user_id)
        rows = self._q(
            f"SELECT * FROM belief_events WHERE {' AND '.join(clauses)} ORDER BY at, id", params
        )
        return [
            BeliefEvent(
                id=r["id"],
                workspace_id=r["workspace_id"],
                user_id=r["user_id"],
                belief_id=r["belief_id"],
                type=BeliefEventType(r["type"]),
                at=r["at"],
                cause=r["cause"],
                observation_id=r["observation_id"],
                confidence_before=r["confidence_before"],
                confidence_after=r["confidence_after"],
                details=r["details"],
            )
            for r in rows
        ]

    # -- vectors -----------------------------------------------------------------------------
    def put_vectors(
        self,
        workspace_id: str,
        user_id: str,
        item_type: str,
        model: str,
        items: Sequence[tuple[str, np.ndarray]],
    ) -> None:
        with self.transaction():
            for item_id, vector in items:
                data = np.asarray(vector, dtype=np.float32)
                self._x(
                    "INSERT INTO vectors (workspace_id, user_id, item_type, model, item_id, dim,"
                    " vector) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (workspace_id, user_id, item_type, model, item_id)"
                    " DO UPDATE SET dim = EXCLUDED.dim, vector = EXCLUDED.vector",
                    (
                        workspace_id,
                        user_id,
                        item_type,
                        model,
                        item_id,
                        data.shape[0],
                        data.tobytes(),
                    ),
                )

    def get_vectors(
        self, workspace_id: str, user_ids: Sequence[str], item_type: str, model: str
    ) -> StoredVectors:
        if not user_ids:
            return StoredVectors([], np.zeros((0, 0), dtype=np.float32))
        rows = self._q(
            "SELECT item_id, vector FROM vectors WHERE workspace_id = %s AND user_id = ANY(%s)"
            " AND item_type = %s AND model = %s ORDER BY item_id",
            (workspace_id, list(user_ids), item_type, model),
        )
        if not rows:
            return StoredVectors([], np.zeros((0, 0), dtype=np.float32))
        matrix = np.stack([np.frombuffer(bytes(r["vector"]), dtype=np.float32) for r in rows])
        return StoredVectors([r["item_id"] for r in rows], matrix)

    def get_vectors_by_id(
        self, workspace_id: str, item_type: str, model: str, ids: Sequence[str]
    ) -> StoredVectors:
        rows = (
            self._q(
                "SELECT item_id, vector FROM vectors WHERE workspace_id = %s AND item_type = %s"
                " AND model = %s AND item_id = ANY(%s)",
                (workspace_id, item_type, model, list(ids)),
            )
            if ids
            else []
        )
        if not rows:
            return StoredVectors([], np.zeros((0, 0), dtype=np.float32))
        matrix = np.stack([np.frombuffer(bytes(r["vector"]), dtype=np.float32) for r in rows])
        return StoredVectors([r["item_id"] for r in rows], matrix)

    # -- change tracking ---------------------------------------------------------------------
    def scope_watermark(
        self, workspace_id: str, user_ids: Sequence[str]
    ) -> tuple[UserWatermark, ...]:
        if not user_ids:
            return ()
        params = (workspace_id, list(user_ids))
        where = "WHERE workspace_id = %s AND user_id = ANY(%s) GROUP BY user_id"
        observations = {
            r["user_id"]: r
            for r in self._q(
                "SELECT user_id, COUNT(*) AS n, MAX(recorded_at) AS at FROM observations " + where,
                params,
            )
        }
        beliefs = {
            r["user_id"]: r
            for r in self._q(
                "SELECT user_id, COUNT(*) AS n, MAX(updated_at) AS at FROM beliefs " + where,
                params,
            )
        }
        vectors = {
            r["user_id"]: r["n"]
            for r in self._q("SELECT user_id, COUNT(*) AS n FROM vectors " + where, params)
        }
        empty: dict[str, Any] = {"n": 0, "at": None}
        return tuple(
            UserWatermark(
                user_id=uid,
                observations=observations.get(uid, empty)["n"],
                observations_recorded_at=observations.get(uid, empty)["at"],
                beliefs=beliefs.get(uid, empty)["n"],
                beliefs_updated_at=beliefs.get(uid, empty)["at"],
                vectors=vectors.get(uid, 0),
            )
            for uid in user_ids
        )

    def list_observations_since(
        self, workspace_id: str, user_ids: Sequence[str], since: Any
    ) -> list[Observation]:
        if not user_ids:
            return []
        sql = "SELECT * FROM observations WHERE workspace_id = %s AND user_id = ANY(%s)"
        params: list[Any] = [workspace_id, list(user_ids)]
        if since is not None:
            sql += " AND recorded_at >= %s"
            params.append(since)
        return [self._observation(r) for r in self._q(sql + " ORDER BY occurred_at, id", params)]

    def list_beliefs_changed_since(
        self, workspace_id: str, user_ids: Sequence[str], since: Any
    ) -> list[Belief]:
        if not user_ids:
            return []
        sql = "SELECT * FROM beliefs WHERE workspace_id = %s AND user_id = ANY(%s)"
        params: list[Any] = [workspace_id, list(user_ids)]
        if since is not None:
            sql += " AND updated_at >= %s"
            params.append(since)
        return [self._belief(r) for r in self._q(sql + " ORDER BY id DESC", params)]

    # -- traces ------------------------------------------------------------------------------
    def insert_trace(self, trace: TraceRecord) -> None:
        with self.transaction():
            self._x(
                "INSERT INTO traces (workspace_id, id, query, latency_ms, config, payload,"
                " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    trace.workspace_id,
                    trace.id,
                    trace.query,
                    trace.latency_ms,
                    Jsonb(trace.config),
                    Jsonb(trace.payload),
                    trace.created_at,
                ),
            )
            for user_id in trace.user_ids:
                self._x(
                    "INSERT INTO trace_users (workspace_id, user_id, trace_id)"
                    " VALUES (%s, %s, %s)",
                    (trace.workspace_id, user_id, trace.id),
                )

    def get_trace(self, workspace_id: str, trace_id: str) -> TraceRecord | None:
        rows = self._q(
            "SELECT * FROM traces WHERE workspace_id = %s AND id = %s", (workspace_id, trace_id)
        )
        if not rows:
            return None
        r = rows[0]
        users = self._q(
            "SELECT user_id FROM trace_users WHERE workspace_id = %s AND trace_id = %s",
            (workspace_id, trace_id),
        )
        return TraceRecord(
            id=r["id"],
            workspace_id=r["workspace_id"],
            user_ids=tuple(u["user_id"] for u in users),
            query=r["query"],
            created_at=r["created_at"],
            latency_ms=r["latency_ms"],
            config=r["config"],
            payload=r["payload"],
        )

    # -- forgetting --------------------------------------------------------------------------
    def delete_user(self, workspace_id: str, user_id: str) -> DeletedCounts:
        counts: dict[str, int] = {}
        with self.transaction():
            # Traces that mention the user go whole: their payload quotes the user's text.
            counts["traces"] = self._x(
                "DELETE FROM traces WHERE workspace_id = %s AND id IN (SELECT trace_id FROM"
                " trace_users WHERE workspace_id = %s AND user_id = %s)",
                (workspace_id, workspace_id, user_id),
            )
            for table in USER_TABLES:
                counts[table] = self._x(
                    f"DELETE FROM {table} WHERE workspace_id = %s AND user_id = %s",
                    (workspace_id, user_id),
                )
            counts["users"] = self._x(
                "DELETE FROM users WHERE workspace_id = %s AND id = %s", (workspace_id, user_id)
            )
        return DeletedCounts(counts)


def _redact(url: str) -> str:
    """The URL without its password, for error messages."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    if "password" in info:
        info["password"] = "***"
    return psycopg.conninfo.make_conninfo("", **info)
