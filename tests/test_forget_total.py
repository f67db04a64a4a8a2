"""Forget is total and secrets are never stored, through the HTTP API, on both backends.

A black-box probe found that answers kept for ``Idempotency-Key`` replays outlived ``forget``
(the statement was still in the SQLite file, and a replay handed back the deleted belief) and
that a new API key's secret was kept in them in plain text. These tests scan what a store holds
— every byte of the SQLite file and its WAL, every row of every PostgreSQL table — for the
marker strings a test seeds.
"""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from selfmodel import SelfModel
from selfmodel.cli.app import app as cli_app
from selfmodel.embedding.sentence_transformers import SentenceTransformerEmbedder
from selfmodel.errors import TraceNotFoundError
from selfmodel.server import create_app
from tests.support.server import asgi_client, new_workspace_key
from tests.support.stored import location_of, stored_text

MARKER = "Quetzalcoatl-marmalade"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def api(any_sm: SelfModel) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(create_app(any_sm), new_workspace_key(any_sm.store, "acme")) as client:
        yield client


@pytest.mark.anyio
async def test_forget_deletes_the_answers_kept_for_replays(
    api: httpx.AsyncClient, any_sm: SelfModel
) -> None:
    observed = await api.post(
        "/v1/users/maya/observations",
        json={"messages": [{"content": f"I spread {MARKER} on everything."}]},
        headers={"Idempotency-Key": "obs-1"},
    )
    assert observed.status_code == 201, observed.text
    added = await api.post(
        "/v1/users/maya/beliefs",
        json={"statement": f"Maya loves {MARKER} on toast"},
        headers={"Idempotency-Key": "add-1"},
    )
    assert added.status_code == 201, added.text
    edited = await api.patch(
        f"/v1/beliefs/{added.json()['id']}",
        json={"statement": f"Maya adores {MARKER}"},
        headers={"Idempotency-Key": "edit-1"},
    )
    assert edited.status_code == 200, edited.text
    await api.post("/v1/users/tom/observations", json={"messages": [{"content": "I play chess."}]})
    assert MARKER.encode() in stored_text(location_of(any_sm))

    assert (await api.delete("/v1/users/maya")).status_code == 200
    assert MARKER.encode() not in stored_text(location_of(any_sm))
    # No replay resurrects a forgotten answer: each request runs afresh, as a new write.
    again = await api.post(
        "/v1/users/maya/beliefs",
        json={"statement": f"Maya loves {MARKER} on toast"},
        headers={"Idempotency-Key": "add-1"},
    )
    assert again.status_code == 404 and "Idempotent-Replayed" not in again.headers
    anew = await api.post(
        "/v1/users/maya/observations",
        json={"messages": [{"content": f"I spread {MARKER} on everything."}]},
        headers={"Idempotency-Key": "obs-1"},
    )
    assert anew.status_code == 201 and "Idempotent-Replayed" not in anew.headers
    assert anew.json()["new_observation_ids"] != observed.json()["new_observation_ids"]
    # Other users' replays are untouched.
    tom = await api.post(
        "/v1/users/tom/beliefs",
        json={"statement": "Tom plays go"},
        headers={"Idempotency-Key": "t"},
    )
    replay = await api.post(
        "/v1/users/tom/beliefs",
        json={"statement": "Tom plays go"},
        headers={"Idempotency-Key": "t"},
    )
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json() == tom.json()


@pytest.mark.anyio
async def test_a_new_keys_secret_is_never_stored_not_even_for_a_replay(
    api: httpx.AsyncClient, any_sm: SelfModel
) -> None:
    headers = {"Idempotency-Key": "key-1"}
    created = await api.post("/v1/keys", json={"scope": "read", "name": "ci"}, headers=headers)
    assert created.status_code == 201, created.text
    secret = created.json()["key"]
    assert secret and secret.startswith("smk_")
    assert secret.encode() not in stored_text(location_of(any_sm))

    replay = await api.post("/v1/keys", json={"scope": "read", "name": "ci"}, headers=headers)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == created.json()["id"] and replay.json()["key"] is None
    # The one key was created once, and it works.
    async with asgi_client(create_app(any_sm), secret) as reader:
        assert (await reader.get("/v1/users")).status_code == 200


def test_a_new_database_file_and_an_export_are_readable_by_their_owner_only(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    path = tmp_path / "private.db"
    with SelfModel.open(str(path), embedder=embedder) as sm:
        sm.observe("maya", "I'm a nurse in Leeds.")
        companions = [p for p in tmp_path.iterdir() if p.name.startswith("private.db")]
        assert len(companions) >= 2  # the file and its WAL
        for file in companions:
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
    exported = tmp_path / "maya.json"
    exported.write_text("stale")
    os.chmod(exported, 0o644)
    result = CliRunner().invoke(
        cli_app, ["export", "maya", "--db", str(path), "--output", str(exported)]
    )
    assert result.exit_code == 0, result.output
    assert "nurse" in exported.read_text()
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600


def test_an_export_holds_the_users_traces_and_forget_removes_them(any_sm: SelfModel) -> None:
    any_sm.observe("maya", f"I love {MARKER} on toast.")
    any_sm.observe("tom", "I play chess.")
    block = any_sm.context("maya", f"What does she put on toast, {MARKER}?")
    any_sm.context("tom", "What games?")
    both = any_sm.context(["maya", "tom"], "Who plays chess?")
    exported = any_sm.export("maya")
    assert [t["id"] for t in exported["traces"]] == [block.trace_id, both.trace_id]
    assert MARKER in exported["traces"][0]["query"]
    # A trace that read Tom too is named, not shown: its payload quotes Tom.
    assert exported["traces"][1] == {
        "id": both.trace_id,
        "created_at": exported["traces"][1]["created_at"],
        "shared": True,
    }
    assert "chess" not in str(exported["traces"])
    any_sm.forget("maya")
    with pytest.raises(TraceNotFoundError):
        any_sm.trace(block.trace_id)


def test_an_export_holds_the_users_outcomes_and_forget_leaves_no_byte_of_them(
    any_sm: SelfModel,
) -> None:
    any_sm.observe("maya", "I love marmalade on toast.")
    any_sm.observe("tom", "I play chess.")
    answer = any_sm.context("maya", "What does she put on toast?")
    any_sm.record_outcome(
        "maya", "correction", trace_id=answer.trace_id, label=f"I said {MARKER}", id="fb-1"
    )
    any_sm.record_outcome("maya", "metric", name="session.length_s", value=42.5)
    any_sm.record_outcome("tom", "thumbs_up")
    exported = any_sm.export("maya")
    assert [o["kind"] for o in exported["outcomes"]] == ["correction", "metric"]
    assert exported["outcomes"][0]["label"] == f"I said {MARKER}"
    assert exported["outcomes"][0]["trace_id"] == answer.trace_id
    assert MARKER.encode() in stored_text(location_of(any_sm))
    any_sm.forget("maya")
    assert MARKER.encode() not in stored_text(location_of(any_sm))
    assert [o.kind.value for o in any_sm.outcomes("tom")] == ["thumbs_up"]
