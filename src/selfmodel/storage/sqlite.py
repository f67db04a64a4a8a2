"""The embedded store: one SQLite file in WAL mode, foreign keys on, secure delete on."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from selfmodel.domain.time import from_storage, to_storage
from selfmodel.errors import StorageError
from selfmodel.storage.migrations import MIGRATIONS, SCHEMA_VERSION
from selfmodel.storage.sql import SQLStore
from selfmodel.storage.sql_base import QmarkDialect, json_text, refuse_newer_schema
from selfmodel.storage.sqlite_queue import SQLiteQueue

__all__ = ["SQLiteDialect", "SQLiteStore", "apply_migrations"]


def _refuse_newer(conn: sqlite3.Connection) -> int:
    """The file's schema version; raises if a newer selfmodel wrote it."""
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    refuse_newer_schema(current, SCHEMA_VERSION)
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


class SQLiteDialect(QmarkDialect):
    """SQLite's spelling: ISO-8601 text timestamps, JSON as text, ``IN (?, ?, …)`` lists."""

    # Under SQLite's bound-variable limit (999 in older builds).
    chunk_size = 500
    # BEGIN IMMEDIATE already holds the file's one write lock until commit.
    for_update = ""

    def ts_in(self, value: datetime | None) -> str | None:
        return None if value is None else to_storage(value)

    def ts_out(self, value: Any) -> datetime:
        return from_storage(value)

    def json_in(self, value: Any, *, strict: bool = False, as_text: bool = False) -> str:
        return json_text(value, strict=strict)

    def json_out(self, value: Any) -> Any:
        return json.loads(value)

    def in_list(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        return f"{column} IN ({','.join('?' * len(values))})", list(values)

    def id_array(self, select: str) -> str:
        # An ordered subquery is never flattened into an aggregate: rows come in its order.
        return f"(SELECT json_group_array(id) FROM ({select}))"

    def ids_out(self, value: Any) -> list[str]:
        return list(json.loads(value))

    def json_list_has(self, column: str, key: str, field: str) -> str:
        return (
            f"EXISTS (SELECT 1 FROM json_each({column}, '$.{key}') AS item"
            f" WHERE item.type = 'object' AND json_extract(item.value, '$.{field}') = ?)"
        )

    def upsert(self, table: str, columns: Sequence[str], key: Sequence[str], values: str) -> str:
        # SQLite replaces on the table's own primary key, so ``key`` need not be spelled out.
        return f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({values})"


class SQLiteStore(SQLiteQueue, SQLStore):
    """A ``Store`` on one SQLite file, shared by threads: one writer, many readers.

    Writes (and every statement inside ``transaction()``) go through one connection, taken by
    one thread at a time. Reads outside a transaction go through a read-only connection of the
    reading thread's own: in WAL mode readers see the last commit and neither wait for the
    writer nor hold it up, so a slow write never stalls ``context`` calls.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise StorageError(f"{self.path} is a directory, not a database file")
        self._check_is_sqlite(self.path)
        create_private_file(self.path)
        conn = self._connect(str(self.path), uri=False)
        self._conn = conn
        self._lock = threading.RLock()
        self._dialect = SQLiteDialect()
        self._depth = 0
        self._checkpoint_after_commit = False
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
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

    def _connect(self, target: str, *, uri: bool) -> sqlite3.Connection:
        """Every connection the store opens is made here, the writer and each reader (tests hook
        it to see each statement run: ``tests/test_get_writes_nothing.py``)."""
        try:
            conn = sqlite3.connect(
                target, check_same_thread=False, isolation_level=None, timeout=30.0, uri=uri
            )
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open database {self.path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        return conn

    def _reader(self) -> sqlite3.Connection:
        """This thread's read-only connection, opened on its first read."""
        conn: sqlite3.Connection | None = getattr(self._local, "reader", None)
        if conn is None:
            if self._closed:
                raise StorageError(f"the store on {self.path} is closed")
            conn = self._connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            conn.execute("PRAGMA query_only = ON")
            with self._readers_lock:
                self._readers.append(conn)
            self._local.reader = conn
        return conn

    def _in_own_transaction(self) -> bool:
        """Whether this thread is inside ``transaction()`` (its reads must see its writes)."""
        return bool(getattr(self._local, "writing", False))

    def _size(self) -> tuple[str, int, int | None]:
        pages = self._q(
            "SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()"
        )
        wal = self.path.with_name(self.path.name + "-wal")
        # Pages not yet checkpointed live in the log: they are part of what the file will hold.
        logged = wal.stat().st_size if wal.exists() else 0
        return "sqlite", int(pages[0]["n"]) + logged, shutil.disk_usage(self.path.parent).free

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
            self._closed = True
            with self._readers_lock:
                readers, self._readers = self._readers, []
            for reader in readers:
                reader.close()
            self._conn.close()

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
            self._local.writing = True
            try:
                yield
            except BaseException:
                self._conn.rollback()
                raise
            else:
                self._conn.commit()
            finally:
                self._depth = 0
                self._local.writing = False
                scrub, self._checkpoint_after_commit = self._checkpoint_after_commit, False
            if scrub:
                self._checkpoint()

    def lock_user(self, workspace_id: str, user_id: str) -> None:
        # No lock to take: a transaction here is BEGIN IMMEDIATE, which already holds the file's
        # single write lock until commit, so two revisions of one user cannot interleave.
        self._x(
            "UPDATE users SET revision = revision + 1 WHERE workspace_id = ? AND id = ?",
            (workspace_id, user_id),
        )

    def _query(self, sql: str, params: Sequence[Any]) -> list[Any]:
        if self._in_own_transaction():
            return self._conn.execute(sql, params).fetchall()
        return self._reader().execute(sql, params).fetchall()

    def _execute(self, sql: str, params: Sequence[Any]) -> int:
        with self._lock:
            return self._conn.execute(sql, params).rowcount

    def _after_hard_delete(self) -> None:
        if self._depth:
            # Inside a caller's transaction: the pages are only free once it commits.
            self._checkpoint_after_commit = True
        else:
            self._checkpoint()

    def _checkpoint(self) -> None:
        with self._lock:
            # secure_delete zeroed the pages; the WAL still holds copies until checkpointed.
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def create_private_file(path: Path) -> None:
    """Create a new database file readable by its owner only (0600): it holds what people said.
    SQLite gives the ``-wal`` and ``-shm`` files it creates beside it the same mode."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return  # an existing file keeps the mode its owner chose
    except OSError as exc:
        raise StorageError(f"cannot create database {path}: {exc}") from exc
