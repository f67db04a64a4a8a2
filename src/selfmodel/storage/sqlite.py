"""The embedded store: one SQLite file in WAL mode, foreign keys on, secure delete on."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

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
    MirrorLink,
    Observation,
    ObservationKind,
    ResonancePrompt,
    Role,
    User,
    Workspace,
    new_id,
)
from selfmodel.domain.time import from_storage, to_storage, utcnow
from selfmodel.errors import SchemaTooNewError, StorageError
from selfmodel.storage.base import (
    ApiKey,
    BeliefFilter,
    DeletedCounts,
    IdempotencyRecord,
    Store,
    StoredVectors,
    TraceRecord,
    UserWatermark,
)
from selfmodel.storage.migrations import MIGRATIONS, SCHEMA_VERSION
from selfmodel.storage.sqlite_queue import SQLiteQueue

# Tables holding rows about a user, children first (the order forget deletes them in).
USER_TABLES = (
    "mirror_prompts", "mirror_links",
    "jobs", "trace_users", "vectors", "belief_events", "evidence", "beliefs", "observations",
)


def _refuse_newer(conn: sqlite3.Connection) -> int:
    """The file's schema version; raises if a newer selfmodel wrote it."""
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if current > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"database schema version {current} is newer than this selfmodel supports "
            f"({SCHEMA_VERSION}); upgrade selfmodel to open it",
            found=current,
            supported=SCHEMA_VERSION,
        )
    return current


def apply_migrations(conn: sqlite3.Connection, up_to: int = SCHEMA_VERSION) -> int:
    """Walk the schema forward to ``up_to``, one transaction per version. Returns the version."""
    current = _refuse_newer(conn)
    for version in range(current + 1, up_to + 1):
        script = MIGRATIONS[version - 1]
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;"
            )
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.rollback()
            raise StorageError(f"migration to schema version {version} failed: {exc}") from exc
    return max(current, up_to)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def _ts(value: Any) -> str | None:
    return None if value is None else to_storage(value)


def _dt(value: str | None) -> Any:
    return None if value is None else from_storage(value)


class SQLiteStore(SQLiteQueue, Store):
    """A ``Store`` on one SQLite file. Safe to share between threads (one serialised connection)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise StorageError(f"{self.path} is a directory, not a database file")
        self._check_is_sqlite(self.path)
        try:
            conn = sqlite3.connect(
                str(self.path), check_same_thread=False, isolation_level=None, timeout=30.0
            )
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open database {self.path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        self._conn = conn
        self._lock = threading.RLock()
        self._depth = 0
        try:
            # Refuse a newer file before any pragma below touches its header.
            _refuse_newer(conn)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            # Deleted rows are overwritten with zeros, so forget() leaves no bytes behind.
            conn.execute("PRAGMA secure_delete = ON")
            self._version = apply_migrations(conn)
        except BaseException:
            conn.close()
            raise

    @staticmethod
    def _check_is_sqlite(path: Path) -> None:
        if not path.exists() or path.stat().st_size == 0:
            return
        with path.open("rb") as handle:
            header = handle.read(16)
        if header != b"SQLite format 3\x00":
            raise StorageError(f"{path} exists but is not a SQLite database")

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @property
    def schema_version(self) -> int:
        return self._version

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._conn.rollback()
                raise
            else:
                self._conn.commit()
            finally:
                self._depth = 0

    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _x(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._lock:
            return self._conn.execute(sql, params).rowcount

    # -- workspaces, users, contexts ---------------------------------------------------------
    def get_or_create_workspace(self, name: str) -> Workspace:
        with self.transaction():
            existing = self.get_workspace(name)
            if existing:
                return existing
            ws = Workspace(id=new_id("ws"), name=name, created_at=utcnow())
            self._x(
                "INSERT INTO workspaces (id, name, settings, created_at) VALUES (?, ?, ?, ?)",
                (ws.id, ws.name, _json(ws.settings), to_storage(ws.created_at)),
            )
            return ws

    @staticmethod
    def _workspace(row: sqlite3.Row) -> Workspace:
        return Workspace(
            id=row["id"],
            name=row["name"],
            settings=json.loads(row["settings"]),
            created_at=from_storage(row["created_at"]),
        )

    def get_workspace(self, name: str) -> Workspace | None:
        rows = self._q("SELECT * FROM workspaces WHERE name = ?", (name,))
        return self._workspace(rows[0]) if rows else None

    def list_workspaces(self) -> list[Workspace]:
        return [self._workspace(r) for r in self._q("SELECT * FROM workspaces ORDER BY name")]

    def update_workspace_settings(self, workspace_id: str, settings: dict[str, Any]) -> Workspace:
        with self.transaction():
            self._x(
                "UPDATE workspaces SET settings = ? WHERE id = ?", (_json(settings), workspace_id)
            )
            rows = self._q("SELECT * FROM workspaces WHERE id = ?", (workspace_id,))
        if not rows:
            raise StorageError(f"workspace {workspace_id} does not exist")
        return self._workspace(rows[0])

    @staticmethod
    def _user(row: sqlite3.Row) -> User:
        return User(
            id=row["id"],
            workspace_id=row["workspace_id"],
            external_id=row["external_id"],
            display_name=row["display_name"],
            created_at=from_storage(row["created_at"]),
        )

    def get_or_create_user(self, workspace_id: str, external_id: str) -> User:
        with self.transaction():
            existing = self.get_user(workspace_id, external_id)
            if existing:
                return existing
            user = User(
                id=new_id("usr"),
                workspace_id=workspace_id,
                external_id=external_id,
                created_at=utcnow(),
            )
            self._x(
                "INSERT INTO users (id, workspace_id, external_id, display_name, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (user.id, workspace_id, external_id, None, to_storage(user.created_at)),
            )
            return user

    def get_user(self, workspace_id: str, external_id: str) -> User | None:
        rows = self._q(
            "SELECT * FROM users WHERE workspace_id = ? AND external_id = ?",
            (workspace_id, external_id),
        )
        return self._user(rows[0]) if rows else None

    def get_user_by_id(self, workspace_id: str, user_id: str) -> User | None:
        rows = self._q(
            "SELECT * FROM users WHERE workspace_id = ? AND id = ?", (workspace_id, user_id)
        )
        return self._user(rows[0]) if rows else None

    def list_users(self, workspace_id: str) -> list[User]:
        rows = self._q(
            "SELECT * FROM users WHERE workspace_id = ? ORDER BY external_id", (workspace_id,)
        )
        return [self._user(r) for r in rows]

    def get_or_create_context(self, workspace_id: str, name: str) -> Context:
        with self.transaction():
            existing = self.get_context(workspace_id, name)
            if existing:
                return existing
            ctx = Context(
                id=new_id("ctx"), workspace_id=workspace_id, name=name, created_at=utcnow()
            )
            self._x(
                "INSERT INTO contexts (id, workspace_id, name, created_at) VALUES (?, ?, ?, ?)",
                (ctx.id, workspace_id, name, to_storage(ctx.created_at)),
            )
            return ctx

    def get_context(self, workspace_id: str, name: str) -> Context | None:
        rows = self._q(
            "SELECT * FROM contexts WHERE workspace_id = ? AND name = ?", (workspace_id, name)
        )
        if not rows:
            return None
        r = rows[0]
        return Context(
            id=r["id"],
            workspace_id=r["workspace_id"],
            name=r["name"],
            created_at=from_storage(r["created_at"]),
        )

    # -- observations ------------------------------------------------------------------------
    @staticmethod
    def _observation(row: sqlite3.Row) -> Observation:
        return Observation(
            id=row["id"],
            workspace_id=row["workspace_id"],
            user_id=row["user_id"],
            external_id=row["external_id"],
            kind=ObservationKind(row["kind"]),
            role=Role(row["role"]),
            speaker=row["speaker"],
            source=row["source"],
            context_id=row["context_id"],
            content=row["content"],
            occurred_at=from_storage(row["occurred_at"]),
            recorded_at=from_storage(row["recorded_at"]),
            metadata=json.loads(row["metadata"]),
        )

    def insert_observations(self, observations: Sequence[Observation]) -> list[Observation]:
        inserted: list[Observation] = []
        with self.transaction():
            for o in observations:
                count = self._x(
                    "INSERT INTO observations (id, workspace_id, user_id, external_id, kind, role,"
                    " speaker, source, context_id, content, occurred_at, recorded_at, metadata)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    (
                        o.id,
                        o.workspace_id,
                        o.user_id,
                        o.external_id,
                        o.kind.value,
                        o.role.value,
                        o.speaker,
                        o.source,
                        o.context_id,
                        o.content,
                        to_storage(o.occurred_at),
                        to_storage(o.recorded_at),
                        _json(o.metadata),
                    ),
                )
                if count:
                    inserted.append(o)
        return inserted

    def existing_external_ids(
        self, workspace_id: str, user_id: str, external_ids: Sequence[str]
    ) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(list(external_ids), 500):
            marks = ",".join("?" * len(chunk))
            rows = self._q(
                f"SELECT external_id FROM observations WHERE workspace_id = ? AND user_id = ?"
                f" AND external_id IN ({marks})",
                (workspace_id, user_id, *chunk),
            )
            found.update(r["external_id"] for r in rows)
        return found

    def get_observations(self, workspace_id: str, ids: Sequence[str]) -> list[Observation]:
        found: list[Observation] = []
        for chunk in _chunks(list(ids), 500):
            marks = ",".join("?" * len(chunk))
            rows = self._q(
                f"SELECT * FROM observations WHERE workspace_id = ? AND id IN ({marks})",
                (workspace_id, *chunk),
            )
            found.extend(self._observation(r) for r in rows)
        return found

    def list_observations(
        self, workspace_id: str, user_ids: Sequence[str], *, limit: int | None = None
    ) -> list[Observation]:
        if not user_ids:
            return []
        marks = ",".join("?" * len(user_ids))
        sql = (
            f"SELECT * FROM observations WHERE workspace_id = ? AND user_id IN ({marks})"
            " ORDER BY occurred_at, id"
        )
        params: list[Any] = [workspace_id, *user_ids]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [self._observation(r) for r in self._q(sql, params)]

    # -- beliefs -----------------------------------------------------------------------------
    @staticmethod
    def _belief(row: sqlite3.Row) -> Belief:
        return Belief(
            id=row["id"],
            workspace_id=row["workspace_id"],
            user_id=row["user_id"],
            context_id=row["context_id"],
            statement=row["statement"],
            kind=BeliefKind(row["kind"]),
            confidence=row["confidence"],
            origin=BeliefOrigin(row["origin"]),
            status=BeliefStatus(row["status"]),
            valid_from=_dt(row["valid_from"]),
            valid_to=_dt(row["valid_to"]),
            evidence_logit=row["evidence_logit"],
            last_evidence_at=_dt(row["last_evidence_at"]),
            support_count=row["support_count"],
            contradict_count=row["contradict_count"],
            superseded_by=row["superseded_by"],
            metadata=json.loads(row["metadata"]),
            created_at=from_storage(row["created_at"]),
            updated_at=from_storage(row["updated_at"]),
        )

    _BELIEF_COLUMNS = (
        "id, workspace_id, user_id, context_id, statement, kind, confidence, origin, status,"
        " valid_from, valid_to, evidence_logit, last_evidence_at, support_count,"
        " contradict_count, superseded_by, metadata, created_at, updated_at"
    )

    @staticmethod
    def _belief_params(b: Belief) -> tuple[Any, ...]:
        return (
            b.id,
            b.workspace_id,
            b.user_id,
            b.context_id,
            b.statement,
            b.kind.value,
            b.confidence,
            b.origin.value,
            b.status.value,
            _ts(b.valid_from),
            _ts(b.valid_to),
            b.evidence_logit,
            _ts(b.last_evidence_at),
            b.support_count,
            b.contradict_count,
            b.superseded_by,
            _json(b.metadata),
            to_storage(b.created_at),
            to_storage(b.updated_at),
        )

    def insert_belief(self, belief: Belief) -> None:
        marks = ",".join("?" * 19)
        self._x(
            f"INSERT INTO beliefs ({self._BELIEF_COLUMNS}) VALUES ({marks})",
            self._belief_params(belief),
        )

    def update_belief(self, belief: Belief) -> None:
        params = self._belief_params(belief)
        columns = [c.strip() for c in self._BELIEF_COLUMNS.split(",")]
        assignments = ", ".join(f"{c} = ?" for c in columns[1:])
        count = self._x(
            f"UPDATE beliefs SET {assignments} WHERE id = ? AND workspace_id = ?",
            (*params[1:], belief.id, belief.workspace_id),
        )
        if count != 1:
            raise StorageError(f"belief {belief.id} does not exist in this workspace")

    def get_belief(self, workspace_id: str, belief_id: str) -> Belief | None:
        rows = self._q(
            "SELECT * FROM beliefs WHERE workspace_id = ? AND id = ?", (workspace_id, belief_id)
        )
        return self._belief(rows[0]) if rows else None

    def list_beliefs(self, workspace_id: str, where: BeliefFilter) -> list[Belief]:
        if not where.user_ids:
            return []
        clauses = ["workspace_id = ?", f"user_id IN ({','.join('?' * len(where.user_ids))})"]
        params: list[Any] = [workspace_id, *where.user_ids]
        if where.statuses:
            clauses.append(f"status IN ({','.join('?' * len(where.statuses))})")
            params.extend(s.value for s in where.statuses)
        if where.kinds:
            clauses.append(f"kind IN ({','.join('?' * len(where.kinds))})")
            params.extend(k.value for k in where.kinds)
        if where.context_id is not None:
            clauses.append("(context_id IS NULL OR context_id = ?)")
            params.append(where.context_id)
        if where.min_confidence is not None:
            clauses.append("confidence >= ?")
            params.append(where.min_confidence)
        sql = f"SELECT * FROM beliefs WHERE {' AND '.join(clauses)} ORDER BY id DESC"
        if where.limit is not None:
            sql += " LIMIT ?"
            params.append(where.limit)
        return [self._belief(r) for r in self._q(sql, params)]

    # -- evidence and history ----------------------------------------------------------------
    def add_evidence(self, workspace_id: str, user_id: str, evidence: Evidence) -> bool:
        count = self._x(
            "INSERT INTO evidence (workspace_id, user_id, belief_id, observation_id, stance,"
            " weight, span_start, span_end, quote, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
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
                to_storage(evidence.created_at),
            ),
        )
        return count == 1

    def list_evidence(self, workspace_id: str, belief_ids: Sequence[str]) -> list[Evidence]:
        found: list[Evidence] = []
        for chunk in _chunks(list(belief_ids), 500):
            marks = ",".join("?" * len(chunk))
            rows = self._q(
                f"SELECT * FROM evidence WHERE workspace_id = ? AND belief_id IN ({marks})"
                " ORDER BY created_at",
                (workspace_id, *chunk),
            )
            found.extend(
                Evidence(
                    belief_id=r["belief_id"],
                    observation_id=r["observation_id"],
                    stance=EvidenceStance(r["stance"]),
                    weight=r["weight"],
                    span_start=r["span_start"],
                    span_end=r["span_end"],
                    quote=r["quote"],
                    created_at=from_storage(r["created_at"]),
                )
                for r in rows
            )
        return found

    def append_event(self, event: BeliefEvent) -> None:
        self._x(
            "INSERT INTO belief_events (id, workspace_id, user_id, belief_id, type, at, cause,"
            " observation_id, confidence_before, confidence_after, details)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event.id,
                event.workspace_id,
                event.user_id,
                event.belief_id,
                event.type.value,
                to_storage(event.at),
                event.cause,
                event.observation_id,
                event.confidence_before,
                event.confidence_after,
                _json(event.details),
            ),
        )

    def list_events(
        self, workspace_id: str, *, belief_id: str | None = None, user_id: str | None = None
    ) -> list[BeliefEvent]:
        clauses, params = ["workspace_id = ?"], [workspace_id]
        if belief_id is not None:
            clauses.append("belief_id = ?")
            params.append(belief_id)
        if user_id is not None:
            clauses.append("user_id = ?")
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
                at=from_storage(r["at"]),
                cause=r["cause"],
                observation_id=r["observation_id"],
                confidence_before=r["confidence_before"],
                confidence_after=r["confidence_after"],
                details=json.loads(r["details"]),
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
                    "INSERT OR REPLACE INTO vectors (workspace_id, user_id, item_type, item_id,"
                    " model, dim, vector) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        workspace_id,
                        user_id,
                        item_type,
                        item_id,
                        model,
                        data.shape[0],
                        data.tobytes(),
                    ),
                )

    def get_vectors(
        self, workspace_id: str, user_ids: Sequence[str], item_type: str, model: str
    ) -> StoredVectors:
        if not user_ids:
            return StoredVectors([], np.zeros((0, 0), dtype=np.float32))
        marks = ",".join("?" * len(user_ids))
        rows = self._q(
            f"SELECT item_id, dim, vector FROM vectors WHERE workspace_id = ? AND user_id IN"
            f" ({marks}) AND item_type = ? AND model = ? ORDER BY item_id",
            (workspace_id, *user_ids, item_type, model),
        )
        if not rows:
            return StoredVectors([], np.zeros((0, 0), dtype=np.float32))
        matrix = np.stack([np.frombuffer(r["vector"], dtype=np.float32) for r in rows])
        return StoredVectors([r["item_id"] for r in rows], matrix)

    def get_vectors_by_id(
        self, workspace_id: str, item_type: str, model: str, ids: Sequence[str]
    ) -> StoredVectors:
        found: list[str] = []
        vectors: list[np.ndarray] = []
        for chunk in _chunks(list(ids), 500):
            marks = ",".join("?" * len(chunk))
            for r in self._q(
                f"SELECT item_id, vector FROM vectors WHERE item_type = ? AND model = ?"
                f" AND item_id IN ({marks}) AND workspace_id = ?",
                (item_type, model, *chunk, workspace_id),
            ):
                found.append(r["item_id"])
                vectors.append(np.frombuffer(r["vector"], dtype=np.float32))
        if not found:
            return StoredVectors([], np.zeros((0, 0), dtype=np.float32))
        return StoredVectors(found, np.stack(vectors))

    # -- change tracking ---------------------------------------------------------------------
    def scope_watermark(
        self, workspace_id: str, user_ids: Sequence[str]
    ) -> tuple[UserWatermark, ...]:
        if not user_ids:
            return ()
        marks = ",".join("?" * len(user_ids))
        params = (workspace_id, *user_ids)
        where = f"WHERE workspace_id = ? AND user_id IN ({marks}) GROUP BY user_id"
        observations = {
            r[0]: (r[1], r[2])
            for r in self._q(
                f"SELECT user_id, COUNT(*), MAX(recorded_at) FROM observations {where}", params
            )
        }
        beliefs = {
            r[0]: (r[1], r[2])
            for r in self._q(
                f"SELECT user_id, COUNT(*), MAX(updated_at) FROM beliefs {where}", params
            )
        }
        vectors = {
            r[0]: r[1] for r in self._q(f"SELECT user_id, COUNT(*) FROM vectors {where}", params)
        }
        marks_out = []
        for uid in user_ids:
            obs_count, recorded = observations.get(uid, (0, None))
            bel_count, updated = beliefs.get(uid, (0, None))
            marks_out.append(
                UserWatermark(
                    user_id=uid,
                    observations=obs_count,
                    observations_recorded_at=_dt(recorded),
                    beliefs=bel_count,
                    beliefs_updated_at=_dt(updated),
                    vectors=vectors.get(uid, 0),
                )
            )
        return tuple(marks_out)

    def list_observations_since(
        self, workspace_id: str, user_ids: Sequence[str], since: Any
    ) -> list[Observation]:
        if not user_ids:
            return []
        marks = ",".join("?" * len(user_ids))
        sql = f"SELECT * FROM observations WHERE workspace_id = ? AND user_id IN ({marks})"
        params: list[Any] = [workspace_id, *user_ids]
        if since is not None:
            sql += " AND recorded_at >= ?"
            params.append(to_storage(since))
        return [self._observation(r) for r in self._q(sql + " ORDER BY occurred_at, id", params)]

    def list_beliefs_changed_since(
        self, workspace_id: str, user_ids: Sequence[str], since: Any
    ) -> list[Belief]:
        if not user_ids:
            return []
        marks = ",".join("?" * len(user_ids))
        sql = f"SELECT * FROM beliefs WHERE workspace_id = ? AND user_id IN ({marks})"
        params: list[Any] = [workspace_id, *user_ids]
        if since is not None:
            sql += " AND updated_at >= ?"
            params.append(to_storage(since))
        return [self._belief(r) for r in self._q(sql + " ORDER BY id DESC", params)]

    # -- traces ------------------------------------------------------------------------------
    def insert_trace(self, trace: TraceRecord) -> None:
        with self.transaction():
            self._x(
                "INSERT INTO traces (id, workspace_id, query, latency_ms, config, payload,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    trace.id,
                    trace.workspace_id,
                    trace.query,
                    trace.latency_ms,
                    _json(trace.config),
                    _json(trace.payload),
                    to_storage(trace.created_at),
                ),
            )
            for user_id in trace.user_ids:
                self._x(
                    "INSERT INTO trace_users (trace_id, workspace_id, user_id) VALUES (?, ?, ?)",
                    (trace.id, trace.workspace_id, user_id),
                )

    def get_trace(self, workspace_id: str, trace_id: str) -> TraceRecord | None:
        rows = self._q(
            "SELECT * FROM traces WHERE workspace_id = ? AND id = ?", (workspace_id, trace_id)
        )
        if not rows:
            return None
        r = rows[0]
        users = self._q("SELECT user_id FROM trace_users WHERE trace_id = ?", (trace_id,))
        return TraceRecord(
            id=r["id"],
            workspace_id=r["workspace_id"],
            user_ids=tuple(u["user_id"] for u in users),
            query=r["query"],
            created_at=from_storage(r["created_at"]),
            latency_ms=r["latency_ms"],
            config=json.loads(r["config"]),
            payload=json.loads(r["payload"]),
        )

    # -- the Mirror --------------------------------------------------------------------------
    def insert_mirror_link(self, link: MirrorLink) -> None:
        self._x(
            "INSERT INTO mirror_links (id, workspace_id, user_id, created_at, expires_at,"
            " revoked_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                link.id,
                link.workspace_id,
                link.user_id,
                to_storage(link.created_at),
                to_storage(link.expires_at),
                _ts(link.revoked_at),
            ),
        )

    def get_mirror_link(self, workspace_id: str, link_id: str) -> MirrorLink | None:
        rows = self._q(
            "SELECT * FROM mirror_links WHERE workspace_id = ? AND id = ?", (workspace_id, link_id)
        )
        if not rows:
            return None
        r = rows[0]
        return MirrorLink(
            id=r["id"],
            workspace_id=r["workspace_id"],
            user_id=r["user_id"],
            created_at=from_storage(r["created_at"]),
            expires_at=from_storage(r["expires_at"]),
            revoked_at=_dt(r["revoked_at"]),
        )

    def revoke_mirror_links(
        self, workspace_id: str, user_id: str, at: Any, *, link_id: str | None = None
    ) -> int:
        sql = (
            "UPDATE mirror_links SET revoked_at = ?"
            " WHERE workspace_id = ? AND user_id = ? AND revoked_at IS NULL"
        )
        params: list[Any] = [to_storage(at), workspace_id, user_id]
        if link_id is not None:
            sql += " AND id = ?"
            params.append(link_id)
        return self._x(sql, params)

    def mirror_secret(self, workspace_id: str, candidate: str) -> str:
        with self.transaction():
            self._x(
                "INSERT INTO mirror_secrets (workspace_id, secret, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (workspace_id, candidate, to_storage(utcnow())),
            )
            rows = self._q(
                "SELECT secret FROM mirror_secrets WHERE workspace_id = ?", (workspace_id,)
            )
        return str(rows[0]["secret"])

    def insert_prompts(self, prompts: Sequence[ResonancePrompt]) -> None:
        with self.transaction():
            for p in prompts:
                self._x(
                    "INSERT INTO mirror_prompts (id, workspace_id, user_id, statement, kind,"
                    " source, created_at, answered_at, selected, observation_id, belief_id)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        p.id,
                        p.workspace_id,
                        p.user_id,
                        p.statement,
                        p.kind.value,
                        p.source,
                        to_storage(p.created_at),
                        _ts(p.answered_at),
                        None if p.selected is None else int(p.selected),
                        p.observation_id,
                        p.belief_id,
                    ),
                )

    def list_prompts(
        self, workspace_id: str, user_id: str, *, open_only: bool = False
    ) -> list[ResonancePrompt]:
        sql = "SELECT * FROM mirror_prompts WHERE workspace_id = ? AND user_id = ?"
        if open_only:
            sql += " AND answered_at IS NULL"
        rows = self._q(sql + " ORDER BY created_at, id", (workspace_id, user_id))
        return [
            ResonancePrompt(
                id=r["id"],
                workspace_id=r["workspace_id"],
                user_id=r["user_id"],
                statement=r["statement"],
                kind=BeliefKind(r["kind"]),
                source=r["source"],
                created_at=from_storage(r["created_at"]),
                answered_at=_dt(r["answered_at"]),
                selected=None if r["selected"] is None else bool(r["selected"]),
                observation_id=r["observation_id"],
                belief_id=r["belief_id"],
            )
            for r in rows
        ]

    def answer_prompt(self, prompt: ResonancePrompt) -> bool:
        if prompt.answered_at is None or prompt.selected is None:
            raise StorageError(f"prompt {prompt.id} has no answer to record")
        count = self._x(
            "UPDATE mirror_prompts SET answered_at = ?, selected = ?, observation_id = ?,"
            " belief_id = ? WHERE workspace_id = ? AND user_id = ? AND id = ?"
            " AND answered_at IS NULL",
            (
                to_storage(prompt.answered_at),
                int(prompt.selected),
                prompt.observation_id,
                prompt.belief_id,
                prompt.workspace_id,
                prompt.user_id,
                prompt.id,
            ),
        )
        return count == 1

    # -- forgetting --------------------------------------------------------------------------
    def delete_user(self, workspace_id: str, user_id: str) -> DeletedCounts:
        counts: dict[str, int] = {}
        with self.transaction():
            # Traces that mention the user go whole: their payload quotes the user's text.
            counts["traces"] = self._x(
                "DELETE FROM traces WHERE id IN (SELECT trace_id FROM trace_users"
                " WHERE workspace_id = ? AND user_id = ?)",
                (workspace_id, user_id),
            )
            for table in USER_TABLES:
                counts[table] = self._x(
                    f"DELETE FROM {table} WHERE workspace_id = ? AND user_id = ?",
                    (workspace_id, user_id),
                )
            counts["users"] = self._x(
                "DELETE FROM users WHERE workspace_id = ? AND id = ?", (workspace_id, user_id)
            )
        with self._lock:
            # secure_delete zeroed the pages; the WAL still holds copies until checkpointed.
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return DeletedCounts(counts)


    # -- API keys and idempotency keys -------------------------------------------------------
    @staticmethod
    def _api_key(row: sqlite3.Row) -> ApiKey:
        return ApiKey(
            id=row["id"],
            workspace_id=row["workspace_id"],
            name=row["name"],
            prefix=row["prefix"],
            scope=row["scope"],
            created_at=from_storage(row["created_at"]),
            revoked_at=_dt(row["revoked_at"]),
            last_used_at=_dt(row["last_used_at"]),
        )

    def insert_api_key(self, key: ApiKey, secret_hash: str) -> None:
        self._x(
            "INSERT INTO api_keys (id, workspace_id, name, prefix, secret_hash, scope, created_at,"
            " revoked_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key.id,
                key.workspace_id,
                key.name,
                key.prefix,
                secret_hash,
                key.scope,
                to_storage(key.created_at),
                _ts(key.revoked_at),
                _ts(key.last_used_at),
            ),
        )

    def find_api_key(self, secret_hash: str) -> tuple[ApiKey, Workspace] | None:
        rows = self._q(
            "SELECT k.*, w.name AS ws_name, w.settings AS ws_settings,"
            " w.created_at AS ws_created_at FROM api_keys k"
            " JOIN workspaces w ON w.id = k.workspace_id WHERE k.secret_hash = ?",
            (secret_hash,),
        )
        if not rows:
            return None
        r = rows[0]
        workspace = Workspace(
            id=r["workspace_id"],
            name=r["ws_name"],
            settings=json.loads(r["ws_settings"]),
            created_at=from_storage(r["ws_created_at"]),
        )
        return self._api_key(r), workspace

    def list_api_keys(self, workspace_id: str) -> list[ApiKey]:
        rows = self._q(
            "SELECT * FROM api_keys WHERE workspace_id = ? ORDER BY created_at, id",
            (workspace_id,),
        )
        return [self._api_key(r) for r in rows]

    def revoke_api_key(self, workspace_id: str, key_id: str, at: Any) -> ApiKey | None:
        with self.transaction():
            self._x(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?)"
                " WHERE workspace_id = ? AND id = ?",
                (to_storage(at), workspace_id, key_id),
            )
            rows = self._q(
                "SELECT * FROM api_keys WHERE workspace_id = ? AND id = ?", (workspace_id, key_id)
            )
        return self._api_key(rows[0]) if rows else None

    def touch_api_key(self, key_id: str, at: Any) -> None:
        self._x("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (to_storage(at), key_id))

    def reserve_idempotency_key(
        self, workspace_id: str, key: str, request_hash: str, *, expired_before: Any
    ) -> IdempotencyRecord | None:
        with self.transaction():
            self._x(
                "DELETE FROM idempotency_keys WHERE workspace_id = ? AND key = ?"
                " AND created_at < ?",
                (workspace_id, key, to_storage(expired_before)),
            )
            rows = self._q(
                "SELECT * FROM idempotency_keys WHERE workspace_id = ? AND key = ?",
                (workspace_id, key),
            )
            if rows:
                r = rows[0]
                return IdempotencyRecord(
                    key=r["key"],
                    request_hash=r["request_hash"],
                    status_code=r["status_code"],
                    response=r["response"],
                    created_at=from_storage(r["created_at"]),
                )
            self._x(
                "INSERT INTO idempotency_keys (workspace_id, key, request_hash, status_code,"
                " response, created_at) VALUES (?, ?, ?, 0, '', ?)",
                (workspace_id, key, request_hash, to_storage(utcnow())),
            )
        return None

    def complete_idempotency_key(
        self, workspace_id: str, key: str, status_code: int, response: str
    ) -> None:
        self._x(
            "UPDATE idempotency_keys SET status_code = ?, response = ?"
            " WHERE workspace_id = ? AND key = ?",
            (status_code, response, workspace_id, key),
        )

    def release_idempotency_key(self, workspace_id: str, key: str) -> None:
        self._x(
            "DELETE FROM idempotency_keys WHERE workspace_id = ? AND key = ? AND status_code = 0",
            (workspace_id, key),
        )

def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
