"""The HTTP API's good paths, in-process through httpx.ASGITransport on a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from selfmodel import SelfModel
from selfmodel.server import create_app
from selfmodel.tenancy import Scope
from tests.support.server import asgi_client, new_workspace_key

pytestmark = pytest.mark.anyio

MARATHON = "I'm training for the Berlin marathon in April."


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def app(sm: SelfModel) -> FastAPI:
    return create_app(sm)


@pytest.fixture
async def api(app: FastAPI, sm: SelfModel) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app, new_workspace_key(sm.store, "acme")) as client:
        yield client


async def observe(api: httpx.AsyncClient, user: str, *texts: str) -> dict:
    response = await api.post(
        f"/v1/users/{user}/observations",
        json={"messages": [{"content": t} for t in texts], "at": "2024-03-01T10:00:00Z"},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_observe_creates_beliefs_with_evidence_and_history(api: httpx.AsyncClient) -> None:
    result = await observe(api, "ada", MARATHON, "I love hiking in the mountains.")
    assert len(result["new_observation_ids"]) == 2
    assert result["created"]

    # Every status: a plan from March 2024 has faded by the time this test reads it.
    page = (await api.get("/v1/users/ada/beliefs", params={"status": "all"})).json()
    assert {b["id"] for b in page["items"]} >= set(result["created"])
    assert page["next_cursor"] is None

    belief_id = result["created"][0]
    detail = (await api.get(f"/v1/beliefs/{belief_id}")).json()
    assert detail["belief"]["id"] == belief_id
    assert detail["evidence"][0]["observation"]["content"] in (
        MARATHON,
        "I love hiking in the mountains.",
    )
    assert detail["history"][0]["type"] == "created"
    history = (await api.get(f"/v1/beliefs/{belief_id}/history")).json()
    assert history == detail["history"]


async def test_resending_message_ids_changes_nothing(api: httpx.AsyncClient) -> None:
    body = {"messages": [{"content": MARATHON, "id": "m1"}]}
    first = (await api.post("/v1/users/ada/observations", json=body)).json()
    again = (await api.post("/v1/users/ada/observations", json=body)).json()
    assert len(first["new_observation_ids"]) == 1
    assert again["new_observation_ids"] == [] and again["duplicates"] == 1


async def test_belief_list_pages_with_cursors_newest_first(api: httpx.AsyncClient) -> None:
    await observe(api, "ada", "hello")
    made = []
    for n in range(5):
        response = await api.post(
            "/v1/users/ada/beliefs", json={"statement": f"Ada owns {n + 1} bikes", "kind": "fact"}
        )
        assert response.status_code == 201
        made.append(response.json()["id"])
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/v1/users/ada/beliefs", params=params)).json()
        assert len(page["items"]) <= 2
        seen.extend(b["id"] for b in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True)
    assert set(made) <= set(seen) and len(seen) == len(set(seen))


async def test_user_corrections_change_status_origin_and_statement(api: httpx.AsyncClient) -> None:
    ids = []
    for statement in ("Ada likes tea", "Ada likes jazz", "Ada lives in Oslo", "Ada is a nurse"):
        await observe(api, "ada", "hi")
        response = await api.post("/v1/users/ada/beliefs", json={"statement": statement})
        ids.append(response.json()["id"])
    confirmed = (await api.post(f"/v1/beliefs/{ids[0]}/confirm")).json()
    rejected = (await api.post(f"/v1/beliefs/{ids[1]}/reject")).json()
    outdated = (await api.post(f"/v1/beliefs/{ids[2]}/outdated")).json()
    edited = (
        await api.patch(f"/v1/beliefs/{ids[3]}", json={"statement": "Ada is a midwife"})
    ).json()
    assert confirmed["origin"] == "confirmed" and confirmed["status"] == "active"
    assert rejected["status"] == "rejected"
    assert outdated["status"] == "superseded"
    assert edited["statement"] == "Ada is a midwife" and edited["origin"] == "edited"
    active = (await api.get("/v1/users/ada/beliefs")).json()["items"]
    assert {b["id"] for b in active} == {ids[0], ids[3]}
    everything = (await api.get("/v1/users/ada/beliefs", params={"status": "all"})).json()
    assert {b["id"] for b in everything["items"]} == set(ids)
    only = (await api.get("/v1/users/ada/beliefs", params=[("status", "rejected")])).json()
    assert [b["id"] for b in only["items"]] == [ids[1]]


async def test_profile_and_conflicts_are_read_as_of_a_moment(api: httpx.AsyncClient) -> None:
    async def say(text: str, at: str) -> None:
        response = await api.post(
            "/v1/users/ada/observations", json={"messages": [{"content": text}], "at": at}
        )
        assert response.status_code == 201, response.text

    await say("I live in London.", "2024-03-01T10:00:00Z")
    await say("Home is now Edinburgh.", "2024-05-01T10:00:00Z")
    await say("My husband Tom and I went hiking.", "2024-05-02T10:00:00Z")
    await say("I like jazz.", "2024-05-03T10:00:00Z")
    held = (await api.get("/v1/users/ada/beliefs")).json()["items"]
    liked = next(b for b in held if b["statement"].endswith("likes jazz"))
    await api.post(f"/v1/beliefs/{liked['id']}/confirm")
    await say("I don't like jazz.", "2024-05-10T10:00:00Z")

    moment = {"as_of": "2024-05-11T12:00:00Z"}
    response = await api.get("/v1/users/ada/profile", params=moment)
    assert response.status_code == 200, response.text
    profile = response.json()
    assert profile["as_of"].startswith("2024-05-11T12:00:00")
    home = profile["facets"]["residence"]
    assert home["value"] == "Edinburgh" and home["since"].startswith("2024-05-01")
    assert [old["value"] for old in home["replaced"]] == ["London"]
    assert "The user's husband is Tom" in [p["statement"] for p in profile["people"]]
    conflicts = (await api.get("/v1/users/ada/conflicts", params=moment)).json()
    assert profile["conflicts"] == conflicts
    (conflict,) = conflicts
    assert {conflict["belief"]["id"], conflict["against"]["statement"]} == {
        liked["id"],
        "The user doesn't like jazz",
    }


@pytest.mark.parametrize(
    "as_of",
    [
        "yesterday",
        "0999-12-31T00:00:00Z",
        "9999-12-31T23:00:00-05:00",  # beyond what UTC can hold
    ],
)
async def test_a_profile_moment_that_is_not_a_time_is_refused(
    api: httpx.AsyncClient, as_of: str
) -> None:
    for path in ("/v1/users/ada/profile", "/v1/users/ada/conflicts"):
        response = await api.get(path, params={"as_of": as_of})
        assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_input")
    missing = await api.get("/v1/users/nobody/profile")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "user_not_found")


async def test_a_refused_value_is_explained_in_our_words(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/users/ada/profile", params={"as_of": "0999-12-31T00:00:00Z"})
    error = response.json()["error"]
    assert error["message"] == "query.as_of: timestamps before the year 1000 are not accepted"
    assert error["details"]["errors"][0]["type"] == "value_error"


async def test_context_returns_block_and_its_trace(api: httpx.AsyncClient) -> None:
    await observe(api, "ada", MARATHON)
    response = await api.post(
        "/v1/context",
        json={"user": "ada", "query": "what is she training for?", "budget_tokens": 200},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert "marathon" in result["text"].lower()
    trace = (await api.get(f"/v1/traces/{result['trace_id']}")).json()
    assert trace["query"] == "what is she training for?"


async def test_export_then_forget_removes_the_user(api: httpx.AsyncClient) -> None:
    await observe(api, "ada", MARATHON)
    exported = (await api.get("/v1/users/ada/export")).json()
    assert exported["format"] == "selfmodel.export/2"
    assert exported["observations"][0]["content"] == MARATHON
    forgotten = (await api.delete("/v1/users/ada")).json()
    assert forgotten["total"] >= 2 and forgotten["deleted"]["observations"] == 1
    gone = await api.get("/v1/users/ada")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "user_not_found"


async def test_users_are_listed_in_pages(api: httpx.AsyncClient) -> None:
    for name in ("cy", "ada", "bo"):
        await observe(api, name, "hello there")
    first = (await api.get("/v1/users", params={"limit": 2})).json()
    assert [u["external_id"] for u in first["items"]] == ["ada", "bo"]
    rest = (await api.get("/v1/users", params={"cursor": first["next_cursor"]})).json()
    assert [u["external_id"] for u in rest["items"]] == ["cy"] and rest["next_cursor"] is None


async def test_admin_mints_lists_and_revokes_keys(app: FastAPI, api: httpx.AsyncClient) -> None:
    created = await api.post("/v1/keys", json={"scope": "read", "name": "dashboard"})
    assert created.status_code == 201
    secret = created.json()["key"]
    listed = (await api.get("/v1/keys")).json()["items"]
    assert any(k["id"] == created.json()["id"] for k in listed)
    assert all("key" not in k and secret not in str(k) for k in listed)
    async with asgi_client(app, secret) as reader:
        assert (await reader.get("/v1/workspace")).json()["name"] == "acme"
        revoked = await api.delete(f"/v1/keys/{created.json()['id']}")
        assert revoked.json()["revoked_at"] is not None
        refused = await reader.get("/v1/workspace")
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"


async def test_pii_policy_setting_is_applied_to_observations(api: httpx.AsyncClient) -> None:
    changed = await api.patch("/v1/workspace/settings", json={"pii_policy": "reject"})
    assert changed.json()["settings"]["pii_policy"] == "reject"
    refused = await api.post(
        "/v1/users/ada/observations", json={"messages": [{"content": "mail me at ada@example.com"}]}
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "policy_violation"


async def test_idempotency_key_replays_the_first_answer(api: httpx.AsyncClient) -> None:
    body = {"messages": [{"content": MARATHON}]}
    headers = {"Idempotency-Key": "obs-1"}
    first = await api.post("/v1/users/ada/observations", json=body, headers=headers)
    second = await api.post("/v1/users/ada/observations", json=body, headers=headers)
    assert second.status_code == first.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    exported = (await api.get("/v1/users/ada/export")).json()
    assert len(exported["observations"]) == 1

    other = await api.post(
        "/v1/users/ada/observations", json={"messages": [{"content": "x"}]}, headers=headers
    )
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_conflict"


async def test_failed_write_frees_its_idempotency_key(api: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "conf-1"}
    missing = await api.post("/v1/beliefs/bel_nope/confirm", headers=headers)
    assert missing.status_code == 404
    again = await api.post("/v1/beliefs/bel_nope/confirm", headers=headers)
    assert again.status_code == 404 and "Idempotent-Replayed" not in again.headers


async def test_health_readiness_and_metrics(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json()["status"] == "ok"
    ready = await api.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
    await observe(api, "ada", MARATHON)
    metrics = (await api.get("/metrics")).text
    assert 'selfmodel_http_request_duration_seconds_count{method="POST",' in metrics
    assert 'route="/v1/users/{user}/observations"' in metrics
    assert "selfmodel_queue_depth 0.0" in metrics
    assert "selfmodel_observations_extracted_total 1.0" in metrics


async def test_request_ids_are_echoed_or_made(api: httpx.AsyncClient) -> None:
    given = await api.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["X-Request-ID"] == "abc-123"
    made = await api.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert made.headers["X-Request-ID"] != "bad id\twith spaces"
    assert len(made.headers["X-Request-ID"]) == 32


async def test_openapi_documents_every_v1_route_and_the_error_shape(app: FastAPI) -> None:
    async with asgi_client(app) as client:
        schema = (await client.get("/openapi.json")).json()
        docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "ErrorOut" in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        if path.startswith("/v1"):
            for operation in operations.values():
                assert "401" in operation["responses"], path


async def test_read_key_can_read_but_not_write(app: FastAPI, sm: SelfModel) -> None:
    key = new_workspace_key(sm.store, "acme", Scope.READ)
    async with asgi_client(app, key) as reader:
        assert (await reader.get("/v1/users")).status_code == 200
        refused = await reader.post("/v1/users/ada/observations", json={"messages": ["hi"]})
    assert refused.status_code in (403, 422)


async def jazz_conflict(api: httpx.AsyncClient, user: str) -> tuple[str, str]:
    """A confirmed like said against a week later, through the API: (liked id, denial id)."""

    async def say(text: str, at: str) -> None:
        response = await api.post(
            f"/v1/users/{user}/observations", json={"messages": [{"content": text}], "at": at}
        )
        assert response.status_code == 201, response.text

    await say("I like jazz.", "2024-05-03T10:00:00Z")
    held = (await api.get(f"/v1/users/{user}/beliefs")).json()["items"]
    liked = next(b["id"] for b in held if b["statement"].endswith("likes jazz"))
    await api.post(f"/v1/beliefs/{liked}/confirm")
    await say("I don't like jazz.", "2024-05-10T10:00:00Z")
    (conflict,) = (await api.get(f"/v1/users/{user}/conflicts")).json()
    denial = next(c["id"] for c in (conflict["belief"], conflict["against"]) if c["id"] != liked)
    return liked, denial


async def test_settling_a_conflict_keeps_one_side_and_ends_the_other(
    api: httpx.AsyncClient,
) -> None:
    liked, denial = await jazz_conflict(api, "ada")
    headers = {"Idempotency-Key": "settle-1"}
    response = await api.post(f"/v1/beliefs/{denial}/settle", json={"over": liked}, headers=headers)
    assert response.status_code == 200, response.text
    kept, ended = response.json()["kept"], response.json()["ended"]
    assert (kept["id"], kept["origin"], kept["status"]) == (denial, "confirmed", "active")
    assert kept["confidence"] == 0.98
    assert (ended["id"], ended["status"], ended["superseded_by"]) == (liked, "superseded", denial)
    assert ended["valid_to"] is not None
    assert (await api.get("/v1/users/ada/conflicts")).json() == []
    # A retry with the same key replays the answer; the belief's history is not written twice.
    again = await api.post(f"/v1/beliefs/{denial}/settle", json={"over": liked}, headers=headers)
    assert again.json() == response.json() and again.headers["Idempotent-Replayed"] == "true"
    history = (await api.get(f"/v1/beliefs/{liked}/history")).json()
    assert [e["type"] for e in history].count("superseded") == 1
    assert history[-1]["details"] == {"settled_for": denial}
