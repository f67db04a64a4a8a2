"""The SQLite store: file format, migrations, transactions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from selfmodel import SchemaTooNewError, SelfModel, StorageError
from selfmodel.domain import Observation, new_id
from selfmodel.domain.time import utcnow
from selfmodel.storage import SQLiteStore
from selfmodel.storage.migrations import SCHEMA_VERSION
from selfmodel.storage.sqlite import apply_migrations


def test_new_file_uses_wal_foreign_keys_and_current_schema(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    try:
        assert store.schema_version == SCHEMA_VERSION
        conn = sqlite3.connect(str(db_path))
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        conn.close()
    finally:
        store.close()


def test_an_old_file_is_migrated_forward_and_keeps_its_data(
    db_path: Path, embedder: object
) -> None:
    # A file as version 1 of the schema left it, with a user and an observation in it.
    conn = sqlite3.connect(str(db_path), isolation_level=None)
    apply_migrations(conn, up_to=1)
    now = utcnow().strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    conn.execute("INSERT INTO workspaces VALUES ('ws_1', 'default', '{}', ?)", (now,))
    conn.execute("INSERT INTO users VALUES ('usr_1', 'ws_1', 'maya', NULL, ?)", (now,))
    conn.execute(
        "INSERT INTO observations (id, workspace_id, user_id, external_id, kind, role, content,"
        " occurred_at, recorded_at) VALUES ('obs_1', 'ws_1', 'usr_1', 'x1', 'message', 'user',"
        " 'I love hiking.', ?, ?)",
        (now, now),
    )
    conn.close()

    with SelfModel.open(str(db_path), embedder=embedder) as sm:  # type: ignore[arg-type]
        assert sm.store.schema_version == SCHEMA_VERSION
        assert [u.external_id for u in sm.users()] == ["maya"]
        assert sm.export("maya")["observations"][0]["content"] == "I love hiking."
        # And the new version's features work on the old data.
        sm.observe("maya", "I'm a nurse.")
        assert sm.context("maya", "job").items


def test_a_file_from_a_newer_version_is_refused_and_left_untouched(db_path: Path) -> None:
    conn = sqlite3.connect(str(db_path))
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(SchemaTooNewError, match="newer"):
        SQLiteStore(db_path)
    assert db_path.read_bytes() == before


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database")
    with pytest.raises(StorageError, match="not a SQLite database"):
        SQLiteStore(path)
    assert path.read_text() == "these are my notes, not a database"


def test_a_failed_transaction_writes_nothing(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    ws = store.get_or_create_workspace("default")
    user = store.get_or_create_user(ws.id, "maya")
    obs = Observation(
        id=new_id("obs"),
        workspace_id=ws.id,
        user_id=user.id,
        content="I love tea.",
        occurred_at=utcnow(),
        recorded_at=utcnow(),
        external_id="t1",
    )
    with pytest.raises(RuntimeError), store.transaction():
        store.insert_observations([obs])
        raise RuntimeError("crash after the first write")
    assert store.list_observations(ws.id, [user.id]) == []
    store.close()


def test_inserting_an_observation_twice_by_external_id_keeps_one(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    ws = store.get_or_create_workspace("default")
    user = store.get_or_create_user(ws.id, "maya")

    def make() -> Observation:
        return Observation(
            id=new_id("obs"),
            workspace_id=ws.id,
            user_id=user.id,
            content="I love tea.",
            occurred_at=utcnow(),
            recorded_at=utcnow(),
            external_id="same",
        )

    assert len(store.insert_observations([make()])) == 1
    assert store.insert_observations([make()]) == []
    assert len(store.list_observations(ws.id, [user.id])) == 1
    store.close()
