"""``POST`` and ``GET /v1/users/{user}/outcomes``: real HTTP round trips in-process — scopes,
each refusal and its status, Idempotency-Key and the outcome's own id, pages and filters."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from selfmodel import SelfModel
from selfmodel.server import create_app
from selfmodel.tenancy import Scope
from tests.support.server import asgi_client, new_workspace_key

pytestmark = pytest.mark.anyio
URL = "/v1/users/maya/outcomes"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def api(sm: SelfModel) -> AsyncIterator[httpx.AsyncClient]:
    key = new_workspace_key(sm.store, sm.workspace.name, Scope.WRITE)
    async with asgi_client(create_app(sm), key) as client:
        yield client


@pytest.fixture
def answered(sm: SelfModel) -> tuple[str, list[str]]:
    sm.observe("maya", "I'm training for the Berlin marathon in April.")
    sm.observe("tom", "I play chess on Sundays.")
    result = sm.context("maya", "What is she training for?")
    return result.trace_id, [item.id for item in result.items]


async def test_an_outcome_is_recorded_and_listed(
    api: httpx.AsyncClient, sm: SelfModel, answered: tuple
) -> None:
    trace_id, items = answered
    body = {"kind": "rating", "trace_id": trace_id, "value": 4, "used_item_ids": items[:1]}
    created = await api.post(URL, json=body)
    assert created.status_code == 201, created.text
    got = created.json()
    assert (got["kind"], got["value"], got["trace_id"]) == ("rating", 4.0, trace_id)
    assert got["used_item_ids"] == items[:1] and got["user_id"] == sm.user("maya").id
    listed = (await api.get(URL)).json()
    assert listed == {"items": [got], "next_cursor": None}
    assert [o.id for o in sm.outcomes("maya")] == [got["id"]]


async def test_outcomes_are_listed_in_pages_and_filtered(
    api: httpx.AsyncClient, answered: tuple
) -> None:
    trace_id, _ = answered
    sent = [
        {"kind": "thumbs_up", "trace_id": trace_id},
        {"kind": "returned", "value": 2},
        {"kind": "metric", "name": "session.turns", "value": 7},
        {"kind": "thumbs_down", "trace_id": trace_id, "label": "wrong city"},
    ]
    ids = [(await api.post(URL, json=body)).json()["id"] for body in sent]
    first = (await api.get(URL, params={"limit": 3})).json()
    rest = (await api.get(URL, params={"limit": 3, "cursor": first["next_cursor"]})).json()
    assert [o["id"] for o in first["items"] + rest["items"]] == ids
    assert rest["next_cursor"] is None
    of_trace = (await api.get(URL, params={"trace_id": trace_id})).json()["items"]
    assert [o["id"] for o in of_trace] == [ids[0], ids[3]]
    metrics = (await api.get(URL, params={"kind": "metric"})).json()["items"]
    assert [(o["name"], o["value"]) for o in metrics] == [("session.turns", 7.0)]


async def test_an_idempotency_key_replays_the_first_answer(
    api: httpx.AsyncClient, sm: SelfModel, answered: tuple
) -> None:
    headers = {"Idempotency-Key": "k-1"}
    first = await api.post(URL, json={"kind": "accepted"}, headers=headers)
    again = await api.post(URL, json={"kind": "accepted"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    other = await api.post(URL, json={"kind": "continued"}, headers=headers)
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_conflict"
    assert len(sm.outcomes("maya")) == 1


async def test_the_outcomes_own_id_makes_a_retry_harmless_and_a_change_a_conflict(
    api: httpx.AsyncClient, sm: SelfModel, answered: tuple
) -> None:
    body = {"kind": "task_completed", "id": "done-42", "occurred_at": "2024-05-08T13:56:00Z"}
    first = await api.post(URL, json=body)
    again = await api.post(URL, json=body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    changed = await api.post(URL, json={**body, "kind": "accepted"})
    assert changed.status_code == 409
    assert changed.json()["error"]["code"] == "conflict"
    assert "kind" in changed.json()["error"]["message"]
    assert len(sm.outcomes("maya")) == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"kind": "stars"},
        {"kind": "rating"},
        {"kind": "rating", "value": 6},
        {"kind": "rating", "value": "4"},
        {"kind": "rating", "value": True},
        {"kind": "rating", "value": 4, "extra": 1},
        {"kind": "thumbs_up", "value": 1},
        {"kind": "returned", "value": -3},
        {"kind": "metric", "value": 1},
        {"kind": "metric", "name": "Bad Name", "value": 1},
        {"kind": "accepted", "label": "nice"},
        {"kind": "correction", "label": "x" * 2001},
        {"kind": "correction", "label": "a\u0000b"},
        {"kind": "thumbs_up", "used_item_ids": ["bel_x"]},
        {"kind": "thumbs_up", "used_item_ids": "bel_x"},
        {"kind": "thumbs_up", "occurred_at": "last tuesday"},
        {"kind": "thumbs_up", "occurred_at": "9999-12-31T23:00:00-05:00"},
        {"kind": "thumbs_up", "occurred_at": "0999-12-31T00:00:00Z"},
        {"kind": "thumbs_up", "id": ""},
    ],
)
async def test_bad_values_are_422_and_store_nothing(
    api: httpx.AsyncClient, sm: SelfModel, answered: tuple, body: dict
) -> None:
    answer = await api.post(URL, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "invalid_input"
    assert sm.outcomes("maya") == []


async def test_used_items_not_chosen_by_the_trace_are_named(
    api: httpx.AsyncClient, sm: SelfModel, answered: tuple
) -> None:
    trace_id, items = answered
    body = {"kind": "accepted", "trace_id": trace_id, "used_item_ids": [items[0], "bel_made_up"]}
    answer = await api.post(URL, json=body)
    assert answer.status_code == 422
    assert "bel_made_up" in answer.json()["error"]["message"]
    not_hers = await api.post(
        "/v1/users/tom/outcomes", json={"kind": "accepted", "trace_id": trace_id}
    )
    assert not_hers.status_code == 422
    assert sm.outcomes("maya") == [] and sm.outcomes("tom") == []


async def test_an_unknown_user_or_trace_is_404_and_creates_nothing(
    api: httpx.AsyncClient, sm: SelfModel, answered: tuple
) -> None:
    unknown_user = await api.post("/v1/users/nobody/outcomes", json={"kind": "thumbs_up"})
    assert unknown_user.status_code == 404
    assert (await api.get("/v1/users/nobody/outcomes")).status_code == 404
    unknown_trace = await api.post(
        URL, json={"kind": "thumbs_up", "trace_id": "trc_01a2b3c4d5e6f7a8b9c0d1e2"}
    )
    assert unknown_trace.status_code == 404
    assert unknown_trace.json()["error"]["code"] == "trace_not_found"
    assert [u.external_id for u in sm.users()] == ["maya", "tom"]
    assert sm.outcomes("maya") == []


async def test_a_read_key_lists_but_cannot_record(sm: SelfModel, answered: tuple) -> None:
    sm.record_outcome("maya", "thumbs_up")
    key = new_workspace_key(sm.store, sm.workspace.name, Scope.READ)
    async with asgi_client(create_app(sm), key) as reader:
        assert (await reader.post(URL, json={"kind": "thumbs_up"})).status_code == 403
        assert len((await reader.get(URL)).json()["items"]) == 1
    assert len(sm.outcomes("maya")) == 1


@pytest.mark.parametrize("params", [{"kind": "stars"}, {"limit": 0}, {"cursor": "nonsense"}])
async def test_bad_list_parameters_are_422(
    api: httpx.AsyncClient, answered: tuple, params: dict
) -> None:
    assert (await api.get(URL, params=params)).status_code == 422
