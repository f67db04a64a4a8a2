"""Tenancy: workspaces, keys and their last use (and how often the server writes it), on both
backends; the CLI's admin work without the HTTP server."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from selfmodel.domain.time import utcnow
from selfmodel.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    WorkspaceNotFoundError,
)
from selfmodel.storage import Store, open_store
from selfmodel.tenancy import KEY_PREFIX, Scope, Tenancy, parse_scope


def test_a_minted_key_is_found_by_its_secret_until_revoked(store: Store) -> None:
    tenancy = Tenancy(store)
    acme = tenancy.create_workspace("acme")
    minted = tenancy.mint_key(acme, Scope.WRITE, "ci")
    assert minted.secret.startswith(KEY_PREFIX) and minted.record.scope is Scope.WRITE
    key, workspace = tenancy.find_key(minted.secret)
    assert (key, workspace) == (minted.record, acme)
    for wrong in ("", minted.secret + "x", KEY_PREFIX):
        with pytest.raises(AuthenticationError):
            tenancy.find_key(wrong)
    revoked = tenancy.revoke_key(acme, key.id)
    assert revoked.revoked_at is not None
    assert tenancy.revoke_key(acme, key.id).revoked_at == revoked.revoked_at
    with pytest.raises(AuthenticationError, match="revoked"):
        tenancy.find_key(minted.secret)


def test_workspaces_and_keys_refuse_what_is_not_theirs(store: Store) -> None:
    tenancy = Tenancy(store)
    acme, other = tenancy.create_workspace("acme"), tenancy.create_workspace("other")
    with pytest.raises(ConflictError):
        tenancy.create_workspace(" acme ")
    for bad in ("", "   ", "x" * 101):
        with pytest.raises(InvalidInputError):
            tenancy.create_workspace(bad)
    with pytest.raises(WorkspaceNotFoundError):
        tenancy.workspace("acme-typo")
    key = tenancy.mint_key(acme, Scope.READ).record
    with pytest.raises(NotFoundError):
        tenancy.revoke_key(other, key.id)
    assert tenancy.keys(other) == [] and tenancy.keys(acme) == [key]
    with pytest.raises(InvalidInputError):
        tenancy.mint_key(acme, Scope.READ, "n" * 101)
    with pytest.raises(InvalidInputError, match="admin"):
        parse_scope("root")
    assert {w.name for w in tenancy.workspaces()} == {"acme", "other"}


def test_a_keys_use_is_remembered_then_written_in_one_flush(store: Store) -> None:
    tenancy = Tenancy(store)
    acme = tenancy.create_workspace("acme")
    key = tenancy.mint_key(acme, Scope.READ).record
    used = utcnow()
    tenancy.record_use(key, used - timedelta(seconds=5))
    tenancy.record_use(key, used)
    tenancy.record_use(key, used - timedelta(seconds=1))  # out of order: the latest is kept
    assert store.list_api_keys(acme.id)[0].last_used_at is None  # not written yet
    assert tenancy.keys(acme)[0].last_used_at == used  # but listed
    assert tenancy.flush_key_usage() == 1
    assert store.list_api_keys(acme.id)[0].last_used_at == used
    assert tenancy.flush_key_usage() == 0
    # Another process (here: another Tenancy) with an older use does not move it back.
    elsewhere = Tenancy(store)
    elsewhere.record_use(key, used - timedelta(minutes=1))
    assert elsewhere.flush_key_usage() == 1
    assert Tenancy(store).keys(acme)[0].last_used_at == used


def test_uses_that_could_not_be_written_are_kept_for_the_next_flush(pg_url: str) -> None:
    store = open_store(pg_url)
    try:
        tenancy = Tenancy(store)
        acme = tenancy.create_workspace("acme")
        key = tenancy.mint_key(acme, Scope.READ).record
        tenancy.record_use(key)
        # The database drops the store's connection (a restart, a failover).
        others = (
            "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f"SELECT pg_terminate_backend(pid) {others}")
            deadline = time.monotonic() + 10
            while (row := admin.execute(f"SELECT count(*) {others}").fetchone()) and row[0]:
                assert time.monotonic() < deadline, "the store's connection outlived its end"
                time.sleep(0.01)
        with pytest.raises(psycopg.OperationalError):
            tenancy.flush_key_usage()
        assert tenancy.flush_key_usage() == 1
        assert store.list_api_keys(acme.id)[0].last_used_at is not None
    finally:
        store.close()


def test_admin_commands_do_their_work_without_the_http_server(tmp_path: Path) -> None:
    db = str(tmp_path / "admin.db")
    script = f"""
import sys
from typer.testing import CliRunner
from selfmodel.cli import app
runner = CliRunner()
for args in (["workspace", "create", "acme"], ["key", "create", "-w", "acme", "--scope", "admin"],
             ["key", "list", "-w", "acme"], ["workspace", "list"]):
    result = runner.invoke(app, [*args, "--db", {db!r}])
    assert result.exit_code == 0, result.output
print(sorted(m for m in sys.modules if m.startswith(("selfmodel.server", "fastapi", "uvicorn"))))
"""
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip().splitlines()[-1] == "[]"
