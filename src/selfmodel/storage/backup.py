"""Backups of the embedded SQLite store: a consistent copy while the server writes, and a restore.

``backup`` uses SQLite's online backup API, which copies the database page by page and restarts
if a writer changes a page it already copied, so the copy is one committed state even while
``selfmodel serve`` or a worker keeps writing. ``restore`` puts a checked backup in place of a
database file atomically. PostgreSQL has its own tools for this (``pg_dump``, point-in-time
recovery; docs/deployment.md), so these refuse a ``postgresql://`` URL rather than pretend.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from selfmodel.errors import InvalidInputError, SchemaTooNewError, StorageError
from selfmodel.storage import is_postgres_url
from selfmodel.storage.migrations import SCHEMA_VERSION
from selfmodel.storage.sqlite import create_private_file

# Pages copied per step: small steps let writers in between (each step holds a read lock only).
PAGES_PER_STEP = 256


@dataclass(frozen=True)
class BackupInfo:
    """What a backup or a restore wrote."""

    path: Path
    schema_version: int
    bytes: int


def backup(database: str | Path, target: str | Path) -> BackupInfo:
    """Copy the SQLite database at ``database`` to the new file ``target`` (0600), consistently
    even while others write to it, and check the copy."""
    source_path = _sqlite_path(database)
    if not source_path.is_file():
        raise InvalidInputError(f"no database file at {source_path}", field="db")
    target_path = Path(target)
    if target_path.exists():
        raise InvalidInputError(f"{target_path} exists: a backup never overwrites", field="target")
    create_private_file(target_path)
    try:
        _copy(source_path, target_path)
        return _checked(target_path)
    except BaseException:
        target_path.unlink(missing_ok=True)
        raise


def restore(backup_file: str | Path, database: str | Path, *, replace: bool = False) -> BackupInfo:
    """Put the backup ``backup_file`` in place of the SQLite database ``database``.

    The backup is checked first and the database file is swapped in one rename, so a failed
    restore leaves the old database as it was. Replacing an existing database needs ``replace``,
    and no server or worker may have it open (stop them first): its write-ahead log goes with it.
    """
    source_path = Path(backup_file)
    if not source_path.is_file():
        raise InvalidInputError(f"no backup file at {source_path}", field="backup")
    info = _checked(source_path)
    target_path = _sqlite_path(database)
    if target_path.exists() and not replace:
        raise InvalidInputError(
            f"{target_path} exists: pass replace=True (--replace) to put the backup in its place",
            field="db",
        )
    staging = target_path.with_name(f".{target_path.name}.restoring")
    staging.unlink(missing_ok=True)
    create_private_file(staging)
    try:
        _copy(source_path, staging)
        _checked(staging)
        for companion in ("-wal", "-shm"):
            # The old database's log would be replayed onto the restored pages.
            target_path.with_name(target_path.name + companion).unlink(missing_ok=True)
        os.replace(staging, target_path)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    return BackupInfo(target_path, info.schema_version, target_path.stat().st_size)


def _sqlite_path(database: str | Path) -> Path:
    if is_postgres_url(str(database)):
        raise InvalidInputError(
            "backup and restore are for the embedded SQLite store; back PostgreSQL up with its "
            "own tools (pg_dump, or base backups with WAL archiving: docs/deployment.md)",
            field="db",
        )
    return Path(database)


def _copy(source: Path, target: Path) -> None:
    """One committed state of ``source`` into ``target`` (SQLite's online backup API)."""
    with (
        closing(_connect(f"{source.resolve().as_uri()}?mode=ro")) as reading,
        closing(_connect(str(target))) as writing,
    ):
        reading.backup(writing, pages=PAGES_PER_STEP)


def _connect(target: str) -> sqlite3.Connection:
    try:
        return sqlite3.connect(target, uri=target.startswith("file:"), isolation_level=None)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open {target}: {exc}") from exc


def _checked(path: Path) -> BackupInfo:
    """``path`` is a whole selfmodel database this version can open, or an error says why."""
    try:
        with closing(_connect(f"{path.resolve().as_uri()}?mode=ro")) as conn:
            integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        raise InvalidInputError(f"{path} is not a SQLite database: {exc}", field="backup") from exc
    if integrity != "ok":
        raise StorageError(f"{path} failed SQLite's integrity check: {integrity}")
    if version > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"{path} was written by a newer selfmodel (schema {version}, this one knows "
            f"{SCHEMA_VERSION})"
        )
    if version == 0 or "beliefs" not in tables:
        raise InvalidInputError(f"{path} is not a selfmodel database", field="backup")
    return BackupInfo(path, version, path.stat().st_size)
