"""Bad paths of the HTTP API: every one answers a 4xx in the one error shape, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from selfmodel import SelfModel, Settings
from selfmodel.config import ServerSettings
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.server import create_app
from selfmodel.tenancy import Scope
from tests.support.server import asgi_client, new_workspace_key, raw_request, running_server

pytestmark = pytest.mark.anyio

SMALL_BODY_LIMIT = 2_000


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sm(db_path: Path, embedder: SentenceTransformerEmbedder) -> Iterator[SelfModel]:
    """An engine whose server settings refuse bodies over ``SMALL_BODY_LIMIT``."""
    settings = Settings(server=ServerSettings(max_body_bytes=SMALL_BODY_LIMIT))
    with SelfModel.open(str(db_path), embedder=embedder, settings=settings) as model:
        yield model


@pytest.fixture
def app(sm: SelfModel) -> FastAPI:
    return create_app(sm)


@pytest.fixture
async def api(app: FastAPI, sm: SelfModel) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app, new_workspace_key(sm.store, "acme")) as client:
        yield client


def error_of(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["message"]
    return body["error"]


async def test_missing_key_is_401_with_bearer_challenge(app: FastAPI) -> None:
    async with asgi_client(app) as anonymous:
        response = await anonymous.get("/v1/users")
    assert error_of(response, 401)["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_unknown_and_malformed_keys_are_401(app: FastAPI) -> None:
    for header in ("Bearer smk_not_a_real_key", "Basic dXNlcjpwYXNz", "Bearer"):
        async with asgi_client(app) as client:
            response = await client.get("/v1/users", headers={"Authorization": header})
        assert error_of(response, 401)["code"] == "unauthorized"


async def test_under_scoped_keys_are_403(app: FastAPI, sm: SelfModel) -> None:
    reader = new_workspace_key(sm.store, "acme", Scope.READ)
    writer = new_workspace_key(sm.store, "acme", Scope.WRITE)
    async with asgi_client(app, reader) as client:
        refused = await client.post(
            "/v1/users/ada/observations", json={"messages": [{"content": "hi"}]}
        )
        assert error_of(refused, 403)["details"] == {"needed": "write", "scope": "read"}
    async with asgi_client(app, writer) as client:
        assert error_of(await client.get("/v1/keys"), 403)["code"] == "forbidden"
        assert (
            await client.post("/v1/users/ada/observations", json={"messages": [{"content": "hi"}]})
        ).status_code == 201


async def test_body_that_is_not_json_is_400(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/users/ada/observations",
        content=b'{"messages": [',
        headers={"Content-Type": "application/json"},
    )
    assert error_of(response, 400)["code"] == "malformed_json"


async def test_wrong_types_are_422_with_every_problem(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/users/ada/observations",
        json={"messages": [{"content": 5, "role": "king"}], "wait": "maybe"},
    )
    error = error_of(response, 422)
    assert error["code"] == "invalid_input"
    locs = {p["loc"] for p in error["details"]["errors"]}
    assert {"body.messages.0.content", "body.messages.0.role", "body.wait"} <= locs


async def test_empty_batch_and_unknown_fields_are_422(api: httpx.AsyncClient) -> None:
    assert error_of(await api.post("/v1/users/ada/observations", json={"messages": []}), 422)
    unknown = await api.post(
        "/v1/users/ada/observations", json={"messages": [{"content": "hi"}], "colour": "red"}
    )
    assert error_of(unknown, 422)["code"] == "invalid_input"


async def test_oversized_body_is_413_before_parsing(api: httpx.AsyncClient) -> None:
    big = {"messages": [{"content": "x" * (SMALL_BODY_LIMIT + 10)}]}
    response = await api.post("/v1/users/ada/observations", json=big)
    assert error_of(response, 413)["code"] == "payload_too_large"


async def test_oversized_streamed_body_without_length_is_413(api: httpx.AsyncClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"messages": [{"content": "'
        for _ in range(10):
            yield b"y" * 500
        yield b'"}]}'

    async def stream() -> AsyncIterator[bytes]:
        for chunk in chunks():
            yield chunk

    response = await api.post(
        "/v1/users/ada/observations",
        content=stream(),
        headers={"Content-Type": "application/json"},
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert error_of(response, 413)["code"] == "payload_too_large"


async def test_message_over_the_engine_limit_is_413(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    # Default settings (not this module's small body limit): the message limit bites first.
    with SelfModel.open(str(tmp_path / "defaults.db"), embedder=embedder) as sm:
        app = create_app(sm)
        limit = sm.settings.limits.max_message_chars
        async with asgi_client(app, new_workspace_key(sm.store, "acme")) as client:
            response = await client.post(
                "/v1/users/ada/observations", json={"messages": [{"content": "z" * (limit + 1)}]}
            )
            too_many = await client.post(
                "/v1/users/ada/observations",
                json={"messages": [{"content": "a"}] * (sm.settings.limits.max_batch_messages + 1)},
            )
    assert error_of(response, 413)["details"]["limit"] == limit
    assert error_of(too_many, 413)["code"] == "payload_too_large"


async def test_unknown_ids_are_404_with_specific_codes(api: httpx.AsyncClient) -> None:
    assert error_of(await api.get("/v1/beliefs/bel_missing"), 404)["code"] == "belief_not_found"
    assert error_of(await api.post("/v1/beliefs/bel_missing/reject"), 404)["code"] == (
        "belief_not_found"
    )
    assert error_of(await api.get("/v1/users/nobody"), 404)["code"] == "user_not_found"
    assert error_of(await api.get("/v1/users/nobody/beliefs"), 404)["code"] == "user_not_found"
    assert error_of(await api.get("/v1/traces/trc_missing"), 404)["code"] == "trace_not_found"
    assert error_of(await api.delete("/v1/keys/key_missing"), 404)["code"] == "not_found"
    context = await api.post("/v1/context", json={"user": "nobody", "query": "anything"})
    assert error_of(context, 404)["code"] == "user_not_found"


async def test_unknown_routes_and_methods_use_the_error_shape(api: httpx.AsyncClient) -> None:
    assert error_of(await api.get("/v1/nothing-here"), 404)["code"] == "not_found"
    assert error_of(await api.put("/v1/users"), 405)["code"] == "method_not_allowed"


async def test_bad_query_values_are_422(api: httpx.AsyncClient) -> None:
    await api.post("/v1/users/ada/observations", json={"messages": [{"content": "hi"}]})
    for params in (
        {"cursor": "not-a-cursor"},
        {"limit": "0"},
        {"min_confidence": "2"},
        {"status": "happy"},
        {"kind": "zodiac"},
    ):
        response = await api.get("/v1/users/ada/beliefs", params=params)
        assert error_of(response, 422)["code"] == "invalid_input", params


async def test_bad_idempotency_key_is_422(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/users/ada/observations",
        json={"messages": [{"content": "hi"}]},
        headers={"Idempotency-Key": "k" * 300},
    )
    assert error_of(response, 422)["details"]["field"] == "Idempotency-Key"


async def test_bad_timestamps_are_422(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/users/ada/observations",
        json={"messages": [{"content": "hi", "occurred_at": "last tuesday-ish"}]},
    )
    assert error_of(response, 422)["code"] == "invalid_input"


async def test_context_with_too_many_users_is_422(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/context", json={"user": [f"u{i}" for i in range(21)], "query": "q"}
    )
    assert error_of(response, 422)["code"] == "invalid_input"


async def test_settling_needs_two_known_beliefs_of_one_user_in_the_workspace(
    app: FastAPI, api: httpx.AsyncClient, sm: SelfModel
) -> None:
    for user in ("ada", "bo"):
        await api.post(f"/v1/users/{user}/observations", json={"messages": [{"content": "hi"}]})
    ada = (await api.post("/v1/users/ada/beliefs", json={"statement": "Ada likes jazz"})).json()
    ada_too = (
        await api.post("/v1/users/ada/beliefs", json={"statement": "Ada doesn't like jazz"})
    ).json()
    bo = (await api.post("/v1/users/bo/beliefs", json={"statement": "Bo likes jazz"})).json()
    async with asgi_client(app, new_workspace_key(sm.store, "other")) as other:
        await other.post("/v1/users/ada/observations", json={"messages": [{"content": "hi"}]})
        theirs = (
            await other.post("/v1/users/ada/beliefs", json={"statement": "Ada likes tea"})
        ).json()

    async def settle(true_id: str, over: object) -> httpx.Response:
        return await api.post(f"/v1/beliefs/{true_id}/settle", json={"over": over})

    for true_id, over in (("bel_missing", ada["id"]), (ada["id"], "bel_missing")):
        assert error_of(await settle(true_id, over), 404)["code"] == "belief_not_found"
    # Another workspace's belief is unknown here, on either side.
    for true_id, over in ((theirs["id"], ada["id"]), (ada["id"], theirs["id"])):
        assert error_of(await settle(true_id, over), 404)["code"] == "belief_not_found"
    assert error_of(await settle(ada["id"], ada["id"]), 422)["code"] == "invalid_input"
    assert error_of(await settle(ada["id"], bo["id"]), 422)["code"] == "invalid_input"
    for body in ({}, {"over": ""}, {"over": 7}, {"over": ada_too["id"], "also": "x"}):
        response = await api.post(f"/v1/beliefs/{ada['id']}/settle", json=body)
        assert error_of(response, 422)["code"] == "invalid_input", body
    # Nothing was changed by any of the refusals.
    for belief in (ada, ada_too, bo):
        after = (await api.get(f"/v1/beliefs/{belief['id']}")).json()["belief"]
        assert (after["status"], after["origin"]) == ("active", "edited"), belief["statement"]
    assert sm.in_workspace("other").belief(theirs["id"]).belief.status.value == "active"


# --- issue 11, defect 9: the smaller ones -------------------------------------------------------


async def test_cards_for_an_unknown_user_are_404_and_create_no_user(api: httpx.AsyncClient) -> None:
    for path in ("/v1/users/ghost/cards", "/v1/users/ghost/prompts"):
        response = await api.post(path, json={"statements": [{"statement": "I like tea"}]})
        assert error_of(response, 404)["code"] == "user_not_found"
    assert error_of(await api.get("/v1/users/ghost"), 404)["code"] == "user_not_found"


async def test_json_nested_too_deep_to_parse_is_malformed_json(
    db_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    nested = "[" * 5_000 + "]" * 5_000  # past the parser's depth, well within the body limit
    with SelfModel.open(str(db_path), embedder=embedder) as sm:
        async with asgi_client(create_app(sm), new_workspace_key(sm.store, "acme")) as client:
            response = await client.post(
                "/v1/users/u1/observations",
                content=nested,
                headers={"Content-Type": "application/json"},
            )
    assert error_of(response, 400)["code"] == "malformed_json"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/context", {"user": "u1", "query": "tea", "budget_tokens": True}),
        ("/v1/context", {"user": "u1", "query": "tea", "budget_tokens": "300"}),
        ("/v1/context", {"user": "u1", "query": "tea", "limit": True}),
        ("/v1/observations/wait", {"observation_ids": ["obs_1"], "timeout": True}),
        ("/v1/users/u1/mirror-link", {"ttl_s": True}),
    ],
)
async def test_a_boolean_or_a_string_is_no_number(
    api: httpx.AsyncClient, path: str, body: dict
) -> None:
    await api.post("/v1/users/u1/observations", json={"messages": [{"content": "I love tea"}]})
    assert error_of(await api.post(path, json=body), 422)["code"] == "invalid_input"


async def test_mirror_links_take_their_origin_from_the_public_url_not_the_host_header(
    db_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    public = "https://mirror.example.com/app"
    settings = Settings(server=ServerSettings(public_url=public))
    with SelfModel.open(str(db_path), embedder=embedder, settings=settings) as sm:
        async with asgi_client(create_app(sm), new_workspace_key(sm.store, "acme")) as client:
            await client.post("/v1/users/ada/observations", json={"messages": [{"content": "Hi"}]})
            minted = await client.post(
                "/v1/users/ada/mirror-link", json={}, headers={"Host": "attacker.example"}
            )
    assert minted.status_code == 201, minted.text
    link = minted.json()
    assert link["url"] == public + link["path"]


@pytest.mark.parametrize(
    "content_length",
    [
        b"Content-Length: abc\r\n",
        b"Content-Length: -1\r\n",
        b"Content-Length: 2\r\nContent-Length: 3\r\n",
    ],
    ids=["not-a-number", "negative", "two-that-disagree"],
)
async def test_a_bad_content_length_is_400_in_the_error_shape_over_a_real_socket(
    app: FastAPI, content_length: bytes
) -> None:
    # uvicorn refuses these before the app sees them; its own answer would be plain text.
    request = (
        b"POST /v1/users/ada/observations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\n" + content_length + b"\r\n{}"
    )
    with running_server(app) as base_url:
        response = raw_request(base_url, request)
    assert error_of(response, 400)["code"] == "bad_request"
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Connection"] == "close"
    assert int(response.headers["Content-Length"]) == len(response.content)
