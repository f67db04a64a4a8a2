"""Backups of the SQLite store while it is written to, and restores that lose nothing."""

from __future__ import annotations

import sqlite3
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from selfmodel import SelfModel
from selfmodel.cli.app import app
from selfmodel.embedding.sentence_transformers import SentenceTransformerEmbedder
from selfmodel.errors import InvalidInputError, SchemaTooNewError
from selfmodel.storage.backup import backup, restore
from selfmodel.storage.migrations import SCHEMA_VERSION


def exported(sm: SelfModel, user: str) -> dict[str, Any]:
    data = sm.export(user)
    data.pop("exported_at")
    return data


def test_a_backup_taken_while_a_writer_writes_is_one_committed_state(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    live = tmp_path / "live.db"
    copies = [tmp_path / f"copy-{n}.db" for n in range(3)]
    with SelfModel.open(str(live), embedder=embedder) as sm:
        sm.observe("maya", "I'm a nurse in Leeds.")
        stop = threading.Event()
        written: list[int] = []

        def writer() -> None:
            n = 0
            while not stop.is_set():
                sm.observe("maya", {"content": f"Note {n}: I ran {n} km today.", "id": f"m{n}"})
                written.append(n)
                n += 1

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            while len(written) < 3:
                stop.wait(0.05)
            for copy in copies:
                backup(live, copy)
        finally:
            stop.set()
            thread.join()
        final = exported(sm, "maya")
        backup(live, tmp_path / "final.db")

    for copy in copies:
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        with SelfModel.open(str(copy), embedder=embedder) as restored:
            data = exported(restored, "maya")
        # Whole messages only: each one's observation, beliefs and evidence, or none of them.
        ids = sorted(int(o["external_id"][1:]) for o in data["observations"] if o["external_id"])
        assert ids == list(range(len(ids)))
        observed = {o["id"] for o in data["observations"]}
        assert {e["observation_id"] for e in data["evidence"]} <= observed
        assert {b["id"] for b in data["beliefs"]} == {e["belief_id"] for e in data["evidence"]}
    with SelfModel.open(str(tmp_path / "final.db"), embedder=embedder) as restored:
        assert exported(restored, "maya") == final


def test_restore_puts_a_backup_in_place_and_the_export_is_identical(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    live, saved = tmp_path / "live.db", tmp_path / "saved.db"
    with SelfModel.open(str(live), embedder=embedder) as sm:
        sm.observe("maya", ["I'm a nurse in Leeds.", "I love pottery."])
        before = exported(sm, "maya")
    runner = CliRunner()
    done = runner.invoke(app, ["backup", str(saved), "--db", str(live)])
    assert done.exit_code == 0, done.output
    with SelfModel.open(str(live), embedder=embedder) as sm:
        sm.forget("maya")
        sm.observe("tom", "I play chess.")

    refused = runner.invoke(app, ["restore", str(saved), "--db", str(live)])
    assert refused.exit_code == 2 and "--replace" in refused.output
    done = runner.invoke(app, ["restore", str(saved), "--db", str(live), "--replace"])
    assert done.exit_code == 0, done.output
    assert stat.S_IMODE(live.stat().st_mode) == 0o600
    with SelfModel.open(str(live), embedder=embedder) as sm:
        assert exported(sm, "maya") == before
        assert [u.external_id for u in sm.users()] == ["maya"]
    fresh = tmp_path / "elsewhere.db"
    restore(saved, fresh)
    with SelfModel.open(str(fresh), embedder=embedder) as sm:
        assert exported(sm, "maya") == before


def test_bad_backups_and_targets_are_refused_and_change_nothing(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    live = tmp_path / "live.db"
    with SelfModel.open(str(live), embedder=embedder) as sm:
        sm.observe("maya", "I'm a nurse in Leeds.")
    taken = tmp_path / "taken.db"
    taken.write_text("mine")
    with pytest.raises(InvalidInputError, match="never overwrites"):
        backup(live, taken)
    assert taken.read_text() == "mine"
    with pytest.raises(InvalidInputError, match="PostgreSQL"):
        backup("postgresql://127.0.0.1/selfmodel", tmp_path / "pg.db")
    with pytest.raises(InvalidInputError, match="no database file"):
        backup(tmp_path / "missing.db", tmp_path / "out.db")

    before = live.read_bytes()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all, just some bytes" * 100)
    with pytest.raises(InvalidInputError, match="not a SQLite database"):
        restore(junk, live, replace=True)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(InvalidInputError, match="not a selfmodel database"):
        restore(other, live, replace=True)
    newer = tmp_path / "newer.db"
    backup(live, newer)
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaTooNewError):
        restore(newer, live, replace=True)
    assert live.read_bytes() == before
    assert not list(tmp_path.glob(".live.db.restoring"))
