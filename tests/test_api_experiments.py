"""``/v1/experiments``: real HTTP round trips in-process — admin keys define and stop, read keys
assign and read; every refusal is a typed JSON error with its status."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from selfmodel import SelfModel
from selfmodel.server import create_app
from selfmodel.tenancy import Scope
from tests.support.server import asgi_client, new_workspace_key

pytestmark = pytest.mark.anyio
DEFINITION: dict[str, Any] = {
    "name": "pers",
    "description": "Does the self-model help?",
    "variants": [
        {"name": "off", "config": {"personalized": False}},
        {"name": "on", "weight": 1, "config": {"ranking": {"keyword_weight": 0.25}}},
    ],
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def admin(sm: SelfModel) -> AsyncIterator[httpx.AsyncClient]:
    key = new_workspace_key(sm.store, sm.workspace.name, Scope.ADMIN)
    async with asgi_client(create_app(sm), key) as client:
        yield client


@pytest.fixture
async def reader(sm: SelfModel) -> AsyncIterator[httpx.AsyncClient]:
    key = new_workspace_key(sm.store, sm.workspace.name, Scope.READ)
    async with asgi_client(create_app(sm), key) as client:
        yield client


async def test_an_experiment_is_defined_read_assigned_and_stopped(
    admin: httpx.AsyncClient, reader: httpx.AsyncClient, sm: SelfModel
) -> None:
    sm.observe("maya", "I love hiking with my dog Biscuit.")
    created = await admin.post("/v1/experiments", json=DEFINITION)
    assert created.status_code == 201, created.text
    got = created.json()
    assert (got["name"], got["control"], got["status"]) == ("pers", "off", "running")
    assert got["variants"][1]["config"]["ranking"] == {"keyword_weight": 0.25}
    assert (await reader.get("/v1/experiments/pers")).json() == got
    assert (await reader.get(f"/v1/experiments/{got['id']}")).json() == got
    assert (await reader.get("/v1/experiments")).json() == {"items": [got], "next_cursor": None}
    assigned = await reader.post("/v1/experiments/pers/assignments", json={"user": "maya"})
    assert assigned.status_code == 200, assigned.text
    variant = assigned.json()["variant"]
    assert variant == sm.assignment("maya", "pers").variant
    answer = (await reader.post("/v1/context", json={"user": "maya", "query": "dog"})).json()
    assert answer["config"]["experiments"] == [
        {"id": got["id"], "name": "pers", "variant": variant}
    ]
    assert (answer["text"] == "") is (variant == "off")
    stopped = await admin.post("/v1/experiments/pers/stop")
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    listed = (await reader.get("/v1/experiments", params={"status": "running"})).json()
    assert listed["items"] == []
    after = (await reader.post("/v1/experiments/pers/assignments", json={"user": "maya"})).json()
    assert (after["variant"], after["reason"]) == (None, "stopped")


async def test_only_an_admin_key_defines_or_stops(reader: httpx.AsyncClient, sm: SelfModel) -> None:
    key = new_workspace_key(sm.store, sm.workspace.name, Scope.WRITE)
    async with asgi_client(create_app(sm), key) as writer:
        refused = await writer.post("/v1/experiments", json=DEFINITION)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    sm.create_experiment("pers", DEFINITION["variants"])
    stop = await reader.post("/v1/experiments/pers/stop")
    assert stop.status_code == 403
    assert sm.experiment("pers").status.value == "running"


async def test_an_idempotency_key_replays_the_definition(admin: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "x-1"}
    first = await admin.post("/v1/experiments", json=DEFINITION, headers=headers)
    again = await admin.post("/v1/experiments", json=DEFINITION, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    taken = await admin.post("/v1/experiments", json=DEFINITION)
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "conflict"


def with_variants(*variants: Any, **fields: Any) -> dict[str, Any]:
    return {"name": "x", "variants": list(variants), **fields}


OFF, ON = {"name": "off", "config": {"personalized": False}}, {"name": "on"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "x"},
        with_variants(OFF),
        with_variants(OFF, ON, extra=1),
        with_variants(OFF, ON, traffic="0.5"),
        with_variants(OFF, ON, traffic=0),
        with_variants(OFF, ON, traffic=2),
        with_variants(OFF, ON, control="nope"),
        with_variants(OFF, ON, layer="Bad Layer"),
        with_variants(OFF, {"name": "on", "weight": "2"}),
        with_variants(OFF, {"name": "on", "weight": 0}),
        with_variants(OFF, {"name": "on", "config": {"ranking": {"keyword_weight": "0"}}}),
        with_variants(OFF, {"name": "on", "config": {"ranking": {"nope": 1}}}),
        with_variants(OFF, {"name": "on", "config": {"budget_tokens": 0}}),
        with_variants(OFF, {"name": "on", "config": {"personalized": "no"}}),
        with_variants(OFF, {"name": "On Air"}),
        with_variants(OFF, OFF),
        {"name": "Bad Name", "variants": [OFF, ON]},
        {"name": "x\u0000", "variants": [OFF, ON]},
    ],
)
async def test_a_malformed_definition_is_422_invalid_input(
    admin: httpx.AsyncClient, sm: SelfModel, body: dict[str, Any]
) -> None:
    response = await admin.post("/v1/experiments", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input" and error["message"]
    assert sm.experiments() == []


async def test_unknown_things_are_404_with_their_codes(
    admin: httpx.AsyncClient, reader: httpx.AsyncClient, sm: SelfModel
) -> None:
    for response in (
        await reader.get("/v1/experiments/nope"),
        await admin.post("/v1/experiments/nope/stop"),
        await reader.post("/v1/experiments/nope/assignments", json={"user": "maya"}),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "experiment_not_found"
    sm.create_experiment("pers", [OFF, ON])
    nobody = await reader.post("/v1/experiments/pers/assignments", json={"user": "nobody"})
    assert nobody.status_code == 404 and nobody.json()["error"]["code"] == "user_not_found"
    bad = await reader.post("/v1/experiments/pers/assignments", json={"user": ""})
    assert bad.status_code == 422
    wrong = await reader.get("/v1/experiments", params={"status": "paused"})
    assert wrong.status_code == 422


async def test_a_layer_without_room_is_409(admin: httpx.AsyncClient) -> None:
    full = with_variants(OFF, ON, layer="memory", traffic=0.75)
    assert (await admin.post("/v1/experiments", json=full)).status_code == 201
    more = {**with_variants(ON, {"name": "off2"}, layer="memory", traffic=0.5), "name": "y"}
    refused = await admin.post("/v1/experiments", json=more)
    assert refused.status_code == 409
    assert "no room" in refused.json()["error"]["message"]
