"""Every SQL statement a store runs, as the database sees it: for tests that count writes.

SQLite: each connection the store opens (``SQLiteStore._connect``) gets a trace callback, which
SQLite calls with the text of every statement it runs (``BEGIN IMMEDIATE`` included). PostgreSQL:
the test database is set to ``log_statement = 'all'`` and the statements are read back from the
server's own log. Neither replaces anything: the real connections run the real statements.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from selfmodel.storage.sqlite import SQLiteStore
from tests.support.postgres import PostgresCluster

# A statement that changes data or schema, or takes a lock a writer would wait on.
_WRITE = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|REPLACE|MERGE|UPSERT|CREATE|DROP|ALTER|TRUNCATE|COPY|VACUUM"
    r"|REINDEX|GRANT|REVOKE|LOCK)\b"
    r"|^\s*BEGIN\s+(IMMEDIATE|EXCLUSIVE)\b"
    r"|^\s*WITH\b.*\b(INSERT|UPDATE|DELETE)\b"
    r"|\bFOR\s+(NO\s+KEY\s+)?UPDATE\b|\bFOR\s+(KEY\s+)?SHARE\b"
    r"|\bpg_advisory\w*lock\b"
    r"|^\s*PRAGMA\s+[\w.]+\s*="
    r"|\bwal_checkpoint\b",
    re.IGNORECASE | re.DOTALL,
)
# How PostgreSQL logs a statement: simple protocol, or a (named or unnamed) extended execute.
_PG_LOGGED = re.compile(r"\bLOG:  (?:statement|execute [^:]*): (.*)")


def is_write(sql: str) -> bool:
    return _WRITE.search(sql) is not None


class SQLiteStatements:
    """Statements of every connection ``SQLiteStore`` opens once this is installed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._seen: list[str] = []
        self._lock = threading.Lock()
        connect = SQLiteStore._connect

        def traced(store: SQLiteStore, *args: Any, **kwargs: Any) -> Any:
            conn = connect(store, *args, **kwargs)
            conn.set_trace_callback(self._record)
            return conn

        monkeypatch.setattr(SQLiteStore, "_connect", traced)

    def _record(self, sql: str) -> None:
        with self._lock:
            self._seen.append(sql)

    def take(self) -> list[str]:
        """The statements run since the last ``take``."""
        with self._lock:
            taken, self._seen = self._seen, []
        return taken


class PostgresStatements:
    """Statements run on one database of the test cluster, read from the server's log.

    Set up before the store opens its connections: the setting applies to new sessions.
    """

    def __init__(self, cluster: PostgresCluster, url: str) -> None:
        self._log = cluster.log
        database = conninfo_to_dict(url)["dbname"]
        with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
            conn.execute(f"ALTER DATABASE \"{database}\" SET log_statement = 'all'")
        self._offset = _size(self._log)

    def take(self) -> list[str]:
        """The statements logged since the last ``take`` (each line a statement)."""
        with self._log.open("rb") as handle:
            handle.seek(self._offset)
            chunk = handle.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        statements: list[str] = []
        for line in complete.decode("utf-8", errors="replace").splitlines():
            found = _PG_LOGGED.search(line)
            if found:
                statements.append(found.group(1))
            elif line.startswith("\t") and statements:
                statements[-1] += "\n" + line.strip()  # a statement spanning lines
        return statements


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


__all__ = ["PostgresStatements", "SQLiteStatements", "is_write"]
