"""The admin bootstrap: `selfmodel workspace create` and `selfmodel key create` on a real file."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from selfmodel import SelfModel
from selfmodel.cli import app
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.server import create_app

runner = CliRunner()
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_minted_key_is_the_last_line_and_opens_its_workspace(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    db = str(tmp_path / "admin.db")
    created = runner.invoke(app, ["workspace", "create", "acme", "--db", db])
    assert created.exit_code == 0, created.output
    minted = runner.invoke(
        app, ["key", "create", "--workspace", "acme", "--scope", "write", "--db", db]
    )
    assert minted.exit_code == 0, minted.output
    key = minted.output.strip().splitlines()[-1]
    assert key.startswith("smk_") and " " not in key

    listed = runner.invoke(app, ["key", "list", "--workspace", "acme", "--db", db])
    assert "write" in listed.output and key not in listed.output

    with SelfModel.open(db, embedder=embedder) as sm:
        transport = httpx.ASGITransport(app=create_app(sm))
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=headers
        ) as c:
            assert (await c.get("/v1/workspace")).json()["name"] == "acme"
            key_id = sm.store.list_api_keys(sm.in_workspace("acme").workspace.id)[0].id
            revoked = runner.invoke(
                app, ["key", "revoke", key_id, "--workspace", "acme", "--db", db]
            )
            assert revoked.exit_code == 0, revoked.output
            assert (await c.get("/v1/workspace")).status_code == 401


def test_admin_commands_refuse_bad_input(tmp_path: Path) -> None:
    db = str(tmp_path / "admin.db")
    assert runner.invoke(app, ["workspace", "create", "acme", "--db", db]).exit_code == 0
    again = runner.invoke(app, ["workspace", "create", "acme", "--db", db])
    assert again.exit_code == 1 and "already exists" in again.output
    nowhere = runner.invoke(app, ["key", "create", "--workspace", "nope", "--db", db])
    assert nowhere.exit_code == 1 and "no workspace" in nowhere.output
    bad_scope = runner.invoke(app, ["key", "create", "-w", "acme", "--scope", "root", "--db", db])
    assert bad_scope.exit_code == 2 and "scope" in bad_scope.output
    assert not (tmp_path / "selfmodel.db").exists()  # --db was honoured, nothing else written
