"""``GET /v1/eval/runs`` and ``/v1/eval/runs/{id}``: real HTTP round trips in-process; pages,
the suite filter, the error shape, and another workspace's run answered as not found."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from selfmodel import SelfModel
from selfmodel.server import create_app
from selfmodel.tenancy import Scope
from tests.support.evaluation import record_run
from tests.support.server import asgi_client, new_workspace_key

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def api(sm: SelfModel) -> AsyncIterator[httpx.AsyncClient]:
    key = new_workspace_key(sm.store, sm.workspace.name, Scope.READ)
    async with asgi_client(create_app(sm), key) as client:
        yield client


async def test_runs_are_listed_newest_first_in_pages(api: httpx.AsyncClient, sm: SelfModel) -> None:
    recorded = [record_run(sm.store, sm.workspace, (1.0, 0.5, r)) for r in (0.0, 0.5, 1.0)]
    first = (await api.get("/v1/eval/runs", params={"limit": 2})).json()
    rest = (await api.get("/v1/eval/runs", params={"cursor": first["next_cursor"]})).json()
    assert [r["id"] for r in first["items"] + rest["items"]] == [r.id for r in reversed(recorded)]
    assert rest["next_cursor"] is None
    newest = first["items"][0]
    assert newest["mean_recall"] == pytest.approx(2.5 / 3)
    assert newest["suite"] == "golden-set" and newest["item_count"] == 3
    assert "workspace_id" not in newest and "items" not in newest


async def test_the_suite_filter_keeps_that_suites_runs(
    api: httpx.AsyncClient, sm: SelfModel
) -> None:
    record_run(sm.store, sm.workspace)
    assert (
        len((await api.get("/v1/eval/runs", params={"suite": "golden-set"})).json()["items"]) == 1
    )
    assert (await api.get("/v1/eval/runs", params={"suite": "other"})).json()["items"] == []


async def test_a_run_is_read_with_every_items_scores(api: httpx.AsyncClient, sm: SelfModel) -> None:
    run = record_run(sm.store, sm.workspace, (1.0, 0.5, 0.0))
    answer = await api.get(f"/v1/eval/runs/{run.id}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["config_sha256"] == run.config_sha256
    assert body["code_version"]["package"] == run.code_version["package"]
    assert [(i["item_id"], i["recall"]) for i in body["items"]] == [
        ("marathon-goal", 1.0),
        ("answer-style", 0.5),
        ("brother-move", 0.0),
    ]


async def test_another_workspaces_run_is_not_found(api: httpx.AsyncClient, sm: SelfModel) -> None:
    theirs = record_run(sm.store, sm.in_workspace("elsewhere").workspace)
    answer = await api.get(f"/v1/eval/runs/{theirs.id}")
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert error["code"] == "eval_run_not_found"
    assert theirs.id in error["message"]
    assert (await api.get("/v1/eval/runs")).json()["items"] == []


async def test_the_runs_need_a_key(sm: SelfModel) -> None:
    async with asgi_client(create_app(sm)) as anonymous:
        answer = await anonymous.get("/v1/eval/runs")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"


async def test_a_cursor_not_issued_by_the_server_is_refused(api: httpx.AsyncClient) -> None:
    answer = await api.get("/v1/eval/runs", params={"cursor": "not-a-cursor"})
    assert answer.status_code == 422
    assert answer.json()["error"]["details"]["field"] == "cursor"
