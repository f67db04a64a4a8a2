"""Text the API cannot keep as sent is refused with a 422 in the one error shape, never a 500:
the NUL character (which PostgreSQL cannot store) on both backends alike, and path bytes that
are not UTF-8 (which would otherwise be read as U+FFFD, folding different ids into one).

The real app in-process (httpx ASGI transport) on a real SQLite file and a real PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from selfmodel import InvalidInputError, SelfModel
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.server import create_app
from tests.support.server import asgi_client, new_workspace_key

pytestmark = pytest.mark.anyio

NUL = "\x00"
TEA = {"content": "I love green tea.", "id": "m1"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def engine(db_location: str, embedder: SentenceTransformerEmbedder) -> Iterator[SelfModel]:
    """An engine on each backend, with one user (``ada``) who said one thing."""
    with SelfModel.open(db_location, embedder=embedder) as model:
        model.in_workspace("acme").observe("ada", dict(TEA))
        yield model


@pytest.fixture
async def api(engine: SelfModel) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(create_app(engine), new_workspace_key(engine.store, "acme")) as client:
        yield client


def invalid_input(response: httpx.Response) -> str:
    """The message of a 422 ``invalid_input`` answer in the one error shape."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == "invalid_input"
    return str(body["error"]["message"])


async def user_ids(api: httpx.AsyncClient) -> list[str]:
    listed = await api.get("/v1/users")
    assert listed.status_code == 200, listed.text
    return [u["external_id"] for u in listed.json()["items"]]


def with_nul_in(field: str) -> dict[str, Any]:
    """An observe body whose ``field`` (of the message, or of the batch) holds a NUL."""
    message: dict[str, Any] = {**TEA, "id": "m2", "speaker": "Ada", "source": "chat"}
    body: dict[str, Any] = {"messages": [message]}
    if field == "metadata":
        message["metadata"] = {"tags": ["tea", f"gr{NUL}een"]}
    elif field == "metadata key":
        message["metadata"] = {f"ta{NUL}g": "tea"}
    elif field in message:
        message[field] = f"{message[field]}{NUL}"
    else:
        body[field] = f"work{NUL}"
    return body


@pytest.mark.parametrize(
    "field",
    ["content", "id", "speaker", "source", "metadata", "metadata key", "area", "context"],
)
async def test_nul_in_observed_text_is_refused_alike_on_both_backends(
    api: httpx.AsyncClient, field: str
) -> None:
    response = await api.post("/v1/users/bea/observations", json=with_nul_in(field))
    assert "NUL" in invalid_input(response)
    assert await user_ids(api) == ["ada"]  # nothing written: not even the user


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/users/a%00da"),
        ("GET", "/v1/users/a%00da/beliefs"),
        ("GET", "/v1/users/a%00da/profile"),
        ("GET", "/v1/users/a%00da/export"),
        ("DELETE", "/v1/users/a%00da"),
        ("POST", "/v1/users/a%00da/mirror-link"),
        ("GET", "/v1/beliefs/bel%00x"),
        ("GET", "/v1/traces/trc%00x"),
    ],
)
async def test_nul_in_a_path_id_is_refused_alike_on_both_backends(
    api: httpx.AsyncClient, method: str, path: str
) -> None:
    assert "NUL" in invalid_input(await api.request(method, path))


async def test_nul_in_a_new_users_id_is_refused_and_creates_no_user(
    api: httpx.AsyncClient,
) -> None:
    response = await api.post("/v1/users/b%00ea/observations", json={"messages": [TEA]})
    assert "user id contains the NUL character" in invalid_input(response)
    assert await user_ids(api) == ["ada"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/context", {"user": "ada", "query": f"te{NUL}a"}),
        ("POST", "/v1/context", {"user": "ada", "query": "tea", "area": f"w{NUL}"}),
        ("POST", "/v1/context", {"user": [f"a{NUL}da"], "query": "tea"}),
        ("POST", "/v1/users/ada/beliefs", {"statement": f"Ada likes c{NUL}ats"}),
        ("POST", "/v1/users/ada/cards", {"statements": [{"statement": f"Ada likes {NUL}"}]}),
        ("PATCH", "/v1/users/ada", {"display_name": f"A{NUL}da"}),
    ],
)
async def test_nul_in_other_text_is_refused_alike_on_both_backends(
    api: httpx.AsyncClient, method: str, path: str, body: dict[str, Any]
) -> None:
    assert "NUL" in invalid_input(await api.request(method, path, json=body))


async def test_nul_is_refused_by_the_library_before_anything_is_written(
    engine: SelfModel,
) -> None:
    acme = engine.in_workspace("acme")
    with pytest.raises(InvalidInputError, match="message 0: content contains the NUL"):
        acme.observe("bea", f"I love{NUL} tea.")
    with pytest.raises(InvalidInputError, match="user id contains the NUL"):
        acme.observe(f"b{NUL}ea", "I love tea.")
    with pytest.raises(InvalidInputError, match="NUL"):
        acme.user(f"a{NUL}da")
    assert [u.external_id for u in acme.users()] == ["ada"]


async def test_path_user_ids_that_are_not_utf8_are_refused_not_folded_into_one(
    api: httpx.AsyncClient,
) -> None:
    """%FF and %FE are different bytes that both decode to U+FFFD when read leniently."""
    for user in ("%FF", "%FE", "a%C3", "%ED%A0%80"):  # the last: a UTF-8-encoded surrogate
        observed = await api.post(f"/v1/users/{user}/observations", json={"messages": [TEA]})
        assert "not UTF-8" in invalid_input(observed), user
        assert "not UTF-8" in invalid_input(await api.get(f"/v1/users/{user}")), user
    assert await user_ids(api) == ["ada"]


async def test_a_query_that_is_not_utf8_is_refused(api: httpx.AsyncClient) -> None:
    assert "not UTF-8" in invalid_input(await api.get("/v1/users/ada/beliefs?area=%FF"))


async def test_percent_encoded_utf8_user_ids_are_kept_as_sent(api: httpx.AsyncClient) -> None:
    observed = await api.post("/v1/users/Zo%C3%AB-%E6%9D%8E/observations", json={"messages": [TEA]})
    assert observed.status_code == 201, observed.text
    assert sorted(await user_ids(api)) == ["Zoë-李", "ada"]


@pytest.mark.parametrize("addressee", [5, "", "   ", ["Jon"]])
async def test_an_addressee_that_is_not_a_name_is_refused_and_nothing_is_written(
    api: httpx.AsyncClient, addressee: Any
) -> None:
    message = {**TEA, "id": "m3", "metadata": {"addressee": addressee}}
    response = await api.post("/v1/users/bea/observations", json={"messages": [message]})
    assert "metadata.addressee names whom the message is said to" in invalid_input(response)
    assert await user_ids(api) == ["ada"]
