"""The Mirror's API writes are writes like any other: Idempotency-Key, one error body, one status
mapping (the Mirror's pages answer errors with the API's statuses too).

The real app in-process (httpx ASGI transport) on a real SQLite file and the real model.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing

import httpx
import pytest

from selfmodel import SelfModel
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.mirror.pages import MAX_FORM_BYTES
from tests.support.mirror import MirrorWorld, build_world, seed_person
from tests.support.server import asgi_client

pytestmark = pytest.mark.anyio

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CARDS = {"statements": [{"statement": "Ada likes green tea"}], "source": "article:42"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def world(db_path, embedder: SentenceTransformerEmbedder) -> Iterator[MirrorWorld]:
    with SelfModel.open(str(db_path), embedder=embedder) as engine:
        w = build_world(engine)
        seed_person(w.engine, "ada", "Ada")
        yield w


@pytest.fixture
async def api(world: MirrorWorld) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(world.app, world.write_key) as client:
        yield client


async def test_pushing_cards_twice_with_one_key_pushes_them_once(world, api) -> None:
    headers = {"Idempotency-Key": "cards-1"}
    first = await api.post("/v1/users/ada/prompts", json=CARDS, headers=headers)
    again = await api.post("/v1/users/ada/prompts", json=CARDS, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert [p.statement for p in world.engine.prompts("ada")] == ["Ada likes green tea"]

    other = {"statements": [{"statement": "Ada likes black coffee"}]}
    reused = await api.post("/v1/users/ada/prompts", json=other, headers=headers)
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "idempotency_conflict"
    assert len(world.engine.prompts("ada")) == 1


async def test_a_retried_mint_answers_the_same_link(api) -> None:
    headers = {"Idempotency-Key": "link-1"}
    first = await api.post("/v1/users/ada/mirror-link", json={"ttl_s": 600}, headers=headers)
    again = await api.post("/v1/users/ada/mirror-link", json={"ttl_s": 600}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    fresh = await api.post("/v1/users/ada/mirror-link", json={"ttl_s": 600})
    assert fresh.json()["id"] != first.json()["id"]
    longer = await api.post("/v1/users/ada/mirror-link", json={"ttl_s": 900}, headers=headers)
    assert longer.status_code == 409


async def test_a_retried_revocation_replays_its_first_answer(api) -> None:
    link = (await api.post("/v1/users/ada/mirror-link", json={})).json()
    headers = {"Idempotency-Key": "revoke-1"}
    url = f"/v1/users/ada/mirror-links/{link['id']}"
    first = await api.delete(url, headers=headers)
    again = await api.delete(url, headers=headers)
    # Done again, the second would revoke nothing (0); replayed, it says what the first did.
    assert first.json() == again.json() == {"revoked": 1}
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await api.delete(url)).json() == {"revoked": 0}


async def test_a_failed_mirror_write_frees_its_key_and_answers_the_error_body(api) -> None:
    headers = {"Idempotency-Key": "nobody-1"}
    for _ in range(2):
        missing = await api.post("/v1/users/nobody/mirror-link", json={}, headers=headers)
        assert missing.status_code == 404 and "Idempotent-Replayed" not in missing.headers
        assert missing.json()["error"]["code"] == "user_not_found"
        assert set(missing.json()["error"]) == {"code", "message", "details"}


async def test_mirror_pages_answer_errors_with_the_apis_statuses(world, api) -> None:
    link = (await api.post("/v1/users/ada/mirror-link", json={})).json()
    client = asgi_client(world.app)
    async with aclosing(client):
        assert (await client.get(link["path"])).status_code == 200
        csrf = CSRF.search((await client.get("/mirror/")).text)
        assert csrf
        huge = {"csrf": csrf.group(1), "statement": "x" * (MAX_FORM_BYTES + 1)}
        too_big = await client.post("/mirror/beliefs", data=huge)
        empty = await client.post("/mirror/beliefs", data={"csrf": csrf.group(1)})
    # payload_too_large is 413 through the API, so it is 413 on a page too (not a generic 422).
    assert too_big.status_code == 413 and "larger than the Mirror accepts" in too_big.text
    assert empty.status_code == 422
    assert too_big.headers["content-type"].startswith("text/html")
