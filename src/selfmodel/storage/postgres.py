"""The scale-out store: PostgreSQL through a psycopg 3 connection pool.

Same behaviour as ``SQLiteStore``, so both pass one contract suite. Thread-safe: each call borrows
a pooled connection, and ``transaction()`` pins one connection to the calling thread until the
outermost block ends (re-entrant per thread). Vectors are BYTEA (float32), scored in the
application like on SQLite; the pgvector extension is detected and reported, never required.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple, cast

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Json, Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from selfmodel.errors import StorageError
from selfmodel.storage.pg_migrations import MIGRATION_LOCK_KEY, MIGRATIONS, SCHEMA_VERSION
from selfmodel.storage.pg_queue import PostgresQueue
from selfmodel.storage.sql import SQLStore
from selfmodel.storage.sql_base import (
    PercentDialect,
    Statement,
    insert,
    json_text,
    refuse_newer_schema,
    refuse_nul,
)

# Connections per process: API workers and job workers are few threads each; PostgreSQL's own
# default max_connections (100) must cover every process of a deployment.
DEFAULT_POOL_SIZE = 8
CONNECT_TIMEOUT_S = 10.0
# Values the rows held back for a transaction's next statement may add up to: one statement
# takes at most 65,535 parameters, and the statement that carries them has its own.
MAX_HELD_PARAMS = 30_000


class PostgresDialect(PercentDialect):
    """PostgreSQL's spelling: timestamptz and JSONB handled by psycopg, ``= ANY(array)`` lists."""

    # One array parameter holds any number of values, so lists never need chunking.
    chunk_size = sys.maxsize
    for_update = " FOR UPDATE"

    def ts_in(self, value: datetime | None) -> datetime | None:
        return value

    def ts_out(self, value: Any) -> datetime:
        # Sessions run with TIME ZONE 'UTC' (see _configure), so values come back aware UTC.
        return cast(datetime, value)

    def json_in(self, value: Any, *, strict: bool = False, as_text: bool = False) -> Json | Jsonb:
        # Written once, as SQLite writes it (NUL refused alike); psycopg sends that text.
        text = json_text(value, strict=strict)
        return (Json if as_text else Jsonb)(value, dumps=lambda _: text)

    def json_out(self, value: Any) -> Any:
        return value

    def in_list(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        if len(values) == 1:
            # A prepared statement's generic plan cannot see how long the array is: with
            # ``= ANY(?)`` it may scan the whole workspace and filter, where ``= ?`` (one user,
            # the usual case) walks the index to the rows it wants.
            return f"{column} = ?", [values[0]]
        return f"{column} = ANY(?)", [list(values)]

    def id_array(self, select: str) -> str:
        return f"ARRAY({select})"  # in the subquery's order

    def ids_out(self, value: Any) -> list[str]:
        return list(value)

    def json_list_has(self, column: str, key: str, field: str) -> str:
        # Containment: the list holds an object with at least that field and value (a column
        # kept as text is read as jsonb for it).
        return (
            f"({column} -> '{key}')::jsonb"
            f" @> jsonb_build_array(jsonb_build_object('{field}', ?::text))"
        )

    def as_one(self, statements: Sequence[Statement]) -> list[Statement]:
        # Each write but the last runs in the WITH of the last. They all see the rows as they
        # were before the statement (a history copy reads the vector its upsert replaces), and
        # foreign keys are checked once all have run (a trace's users after the trace).
        if len(statements) < 2:
            return list(statements)
        *first, (last, last_params) = statements
        prefix = "w"
        while f"{prefix}0 AS (" in last:  # the last one made here already: names of its own
            prefix += "w"
        writes = ", ".join(f"{prefix}{i} AS ({sql})" for i, (sql, _) in enumerate(first))
        params = tuple(p for _, ps in first for p in ps)
        head, found, rest = last.partition("WITH ")
        joined = f"WITH {writes}, {rest}" if found and not head else f"WITH {writes} {last}"
        return [(joined, (*params, *last_params))]

    def upsert(self, table: str, columns: Sequence[str], key: Sequence[str], values: str) -> str:
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in key)
        on = ", ".join(key)
        return f"{insert(table, columns, values)} ON CONFLICT ({on}) DO UPDATE SET {updates}"


def _configure(conn: psycopg.Connection[Any]) -> None:
    # Timestamps come back as UTC-aware datetimes, like the rest of selfmodel uses.
    conn.execute("SET TIME ZONE 'UTC'")
    # Large values (a context call's trace is tens of kB of JSON) are compressed with lz4, several
    # times faster to write than the default pglz for a little more space; a server built
    # without lz4 keeps pglz.
    conn.execute(
        "DO $$ BEGIN PERFORM set_config('default_toast_compression', 'lz4', false);"
        " EXCEPTION WHEN invalid_parameter_value THEN NULL; END $$"
    )


def apply_migrations(conn: psycopg.Connection[Any], up_to: int = SCHEMA_VERSION) -> int:
    """Walk the schema forward to ``up_to`` under an advisory lock. Returns the version."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
        conn.execute("CREATE TABLE IF NOT EXISTS selfmodel_schema (version INTEGER NOT NULL)")
        row = conn.execute("SELECT max(version) AS v FROM selfmodel_schema").fetchone()
        current = int(row["v"] or 0) if row else 0
        refuse_newer_schema(current, SCHEMA_VERSION)
        for version in range(current + 1, up_to + 1):
            conn.execute(MIGRATIONS[version - 1])
            conn.execute("DELETE FROM selfmodel_schema")
            conn.execute("INSERT INTO selfmodel_schema (version) VALUES (%s)", (version,))
    return max(current, up_to)


class PostgresStore(PostgresQueue, SQLStore):
    """A ``Store`` on a PostgreSQL database (``postgresql://`` URL), shared by many processes."""

    def __init__(self, url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self.url = url
        self._local = threading.local()
        self._dialect = PostgresDialect()
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

    def _size(self) -> tuple[str, int, int | None]:
        # The server's disk is not this process's to see: free space is left unknown.
        rows = self._q("SELECT pg_database_size(current_database()) AS n", ())
        return "postgresql", int(rows[0]["n"]), None

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        state = self._local
        if getattr(state, "conn", None) is not None:
            yield  # joins the outer transaction of this thread
            return
        with self._pool.connection() as conn, conn.transaction():
            state.conn = conn
            state.pending = _Held()
            try:
                yield
                self._send_pending(conn)
            finally:
                state.conn = None
                state.pending = _Held()

    def lock_user(self, workspace_id: str, user_id: str) -> None:
        # An UPDATE of a non-key column takes the row's NO KEY UPDATE lock: it serialises
        # revisions of this user without conflicting with the KEY SHARE locks that foreign-key
        # checks (inserting observations) take.
        self._x(
            "UPDATE users SET revision = revision + 1 WHERE workspace_id = ? AND id = ?",
            (workspace_id, user_id),
        )

    def _append_soon(
        self, table: str, columns: Sequence[str], values: str, params: Sequence[Any]
    ) -> None:
        if getattr(self._local, "conn", None) is None:
            super()._append_soon(table, columns, values, params)
            return
        refuse_nul(params)
        sql = self._dialect.sql(insert(table, columns, values))
        if self._local.pending.params + len(params) > MAX_HELD_PARAMS:
            self._send_pending(self._local.conn)
        self._local.pending.add(_Append(table, sql, tuple(params)))

    def _send_pending(self, conn: psycopg.Connection[Any]) -> None:
        """Run the appends held back for this transaction, as one statement."""
        pending = self._local.pending.take()
        if pending:
            conn.execute(*self._with_appends(pending, None))

    def _with_appends(self, appends: Sequence[_Append], statement: Statement | None) -> Statement:
        """``statement`` (native SQL, or none) led by ``appends`` in its WITH: one round trip,
        whose row count stays the statement's own. Every part of a WITH sees the rows as they
        were before it, so the statement must neither read nor change the appends' tables
        (``_after_pending`` checks)."""
        parts = [(a.sql, a.params) for a in appends]
        (one,) = self._dialect.as_one([*parts, statement] if statement else parts)
        return one

    def _query(self, sql: str, params: Sequence[Any]) -> list[Any]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            cur = conn.execute(*self._after_pending(conn, sql, params))
            return cur.fetchall() if cur.description else []
        with self._pool.connection() as pooled:
            cur = pooled.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def _execute(self, sql: str, params: Sequence[Any]) -> int:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return int(conn.execute(*self._after_pending(conn, sql, params)).rowcount)
        with self._pool.connection() as pooled:
            return int(pooled.execute(sql, params).rowcount)

    def _after_pending(
        self, conn: psycopg.Connection[Any], sql: str, params: Sequence[Any]
    ) -> Statement:
        """``sql`` to run in the transaction after the appends held back so far: a statement
        that reads or changes their tables runs after them (they are sent first); any other
        carries them in its WITH."""
        held = self._local.pending
        if any(re.search(rf"\b{table}\b", sql) for table in held.tables):
            self._send_pending(conn)
        elif held.rows:
            return self._with_appends(held.take(), (sql, tuple(params)))
        return sql, tuple(params)


class _Append(NamedTuple):
    """A row held back for the transaction's next statement (``_append_soon``): native SQL and
    its values."""

    table: str
    sql: str
    params: tuple[Any, ...]


class _Held:
    """The rows a transaction holds back, with the tables they go to and their values' count."""

    def __init__(self) -> None:
        self.rows: list[_Append] = []
        self.tables: set[str] = set()
        self.params = 0

    def add(self, row: _Append) -> None:
        self.rows.append(row)
        self.tables.add(row.table)
        self.params += len(row.params)

    def take(self) -> list[_Append]:
        """Every row held, in order; none is held after."""
        rows = self.rows
        self.rows, self.tables, self.params = [], set(), 0
        return rows


def _redact(url: str) -> str:
    """The URL without its password, for error messages."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    if "password" in info:
        info["password"] = "***"
    return psycopg.conninfo.make_conninfo("", **info)
