"""A key of workspace A can never read or change anything of workspace B — on every endpoint.

The endpoints are read from the app's own OpenAPI schema, so a new endpoint is covered (or this
test fails and asks for its parameters) without anyone remembering to add it here.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import pytest

from selfmodel import SelfModel
from selfmodel.server import create_app
from selfmodel.tenancy import Scope
from tests.support.evaluation import raise_alert, record_run
from tests.support.server import asgi_client, new_workspace_key

pytestmark = pytest.mark.anyio

B_USER = "bob-of-b"
B_SECRET_TEXT = "I keep my savings under the blue mattress in Lisbon."
B_OUTCOME = "No: the mattress is red, and it is in Porto."

# A valid body for every endpoint that takes one, so a refusal is isolation, not validation.
BODIES: dict[tuple[str, str], Any] = {
    ("patch", "/v1/workspace/settings"): {"pii_policy": "keep"},
    ("post", "/v1/keys"): {"scope": "read"},
    ("post", "/v1/users/{user}/observations"): {"messages": [{"content": "I like tea."}]},
    ("post", "/v1/users/{user}/beliefs"): {"statement": "Bob likes tea"},
    ("patch", "/v1/beliefs/{belief_id}"): {"statement": "Bob likes coffee"},
    ("post", "/v1/beliefs/{belief_id}/settle"): {"over": "bel_01a2b3c4d5e6f7a8b9c0d1e2"},
    ("patch", "/v1/users/{user}"): {"display_name": "Bob"},
    ("post", "/v1/context"): {"user": B_USER, "query": "where are the savings?"},
    ("post", "/v1/users/{user}/mirror-link"): {},
    ("post", "/v1/users/{user}/cards"): {"statements": [{"statement": "Bob likes tea"}]},
    ("post", "/v1/users/{user}/cards/answers"): {"answers": {"prm_01a2b3c4d5e6f7a8b9c0d1e2": True}},
    # The cards' deprecated paths: mounted on the same handlers, so held to the same isolation.
    ("post", "/v1/users/{user}/prompts"): {"statements": [{"statement": "Bob likes tea"}]},
    ("post", "/v1/users/{user}/prompts/answers"): {
        "answers": {"prm_01a2b3c4d5e6f7a8b9c0d1e2": True}
    },
    ("post", "/v1/users/{user}/decay"): {},
    ("patch", "/v1/retention"): {"inactive_user_days": 1, "observations_max_age_days": 1},
    ("post", "/v1/retention/run"): {"dry_run": False},
    # A's own experiment (the name differs from B's, so the routes below must find B's).
    ("post", "/v1/experiments"): {"name": "a-own", "variants": [{"name": "x"}, {"name": "y"}]},
    ("post", "/v1/experiments/{experiment}/assignments"): {"user": B_USER},
    # B's own observation ids are filled in by the test.
    ("post", "/v1/observations/wait"): {"observation_ids": [], "timeout": 0},
    ("post", "/v1/traces/{trace_id}/replay"): {"config": {"budget_tokens": 100}},
}


# Valid values of required query parameters, so a refusal is isolation, not validation.
QUERIES = {"metric": "rating"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def b_state(sm: SelfModel) -> str:
    """Everything of workspace B that A must not change, as comparable text."""
    b = sm.in_workspace("b")
    exported = b.export(B_USER)
    exported.pop("exported_at")
    keys = [k.model_dump() | {"last_used_at": None} for k in sm.store.list_api_keys(b.workspace.id)]
    runs = [asdict(r) for r in sm.store.list_eval_runs(b.workspace.id)]
    retention = [b.retention_policy().model_dump(), [r.model_dump() for r in b.audit_log()]]
    experiments = [
        [x.model_dump(), [e.model_dump() for e in b.exposures(x.id)]] for x in b.experiments()
    ]
    alerts = [a.model_dump() for a in b.alerts()]
    checks = b.workspace.id in sm.store.drift_check_requests()
    return json.dumps(
        [exported, keys, b.workspace.settings, runs, retention, experiments, alerts, checks],
        default=str,
        sort_keys=True,
    )


async def test_a_key_of_workspace_a_cannot_reach_workspace_b(sm: SelfModel) -> None:
    app = create_app(sm)
    b_admin = new_workspace_key(sm.store, "b", Scope.ADMIN)
    a_admin = new_workspace_key(sm.store, "a", Scope.ADMIN)

    async with asgi_client(app, b_admin) as b:
        observed = (
            await b.post(
                f"/v1/users/{B_USER}/observations",
                json={"messages": [{"content": B_SECRET_TEXT}]},
            )
        ).json()
        belief = (
            await b.post(f"/v1/users/{B_USER}/beliefs", json={"statement": "Bob hides money"})
        ).json()
        experiment = (
            await b.post(
                "/v1/experiments",
                json={
                    "name": "b-secret-test",
                    "variants": [
                        {"name": "off", "config": {"personalized": False}},
                        {"name": "on"},
                    ],
                },
            )
        ).json()
        trace = (await b.post("/v1/context", json={"user": B_USER, "query": "savings"})).json()
        key = (await b.post("/v1/keys", json={"scope": "read"})).json()
        link = (await b.post(f"/v1/users/{B_USER}/mirror-link", json={})).json()
        outcome = (
            await b.post(
                f"/v1/users/{B_USER}/outcomes",
                json={"kind": "correction", "trace_id": trace["trace_id"], "label": B_OUTCOME},
            )
        ).json()
        # B's retention policy and audit log: one forgotten user, recorded.
        await b.patch("/v1/retention", json={"traces_max_age_days": 30})
        await b.post(
            "/v1/users/carol-of-b/observations", json={"messages": [{"content": "I sing."}]}
        )
        assert (await b.delete("/v1/users/carol-of-b")).status_code == 200
        audit = (await b.get("/v1/audit-log")).json()["items"]
        assert len(audit) == 1
        schema = (await b.get("/openapi.json")).json()
    eval_run = record_run(sm.store, sm.in_workspace("b").workspace)
    alert = raise_alert(sm.in_workspace("b"))
    path_values = {
        "user": B_USER,
        "belief_id": belief["id"],
        "trace_id": trace["trace_id"],
        "key_id": key["id"],
        "link_id": link["id"],
        "run_id": eval_run.id,
        "experiment": experiment["name"],
        "alert_id": alert.id,
        "item_id": observed["new_observation_ids"][0],
    }
    b_ids = [
        sm.in_workspace("b").workspace.id,
        observed["user_id"],
        *observed["new_observation_ids"],
        belief["id"],
        trace["trace_id"],
        key["id"],
        key["prefix"],
        link["id"],
        eval_run.id,
        eval_run.dataset_sha256,
        alert.id,
        alert.message,
        outcome["id"],
        B_OUTCOME,
        experiment["id"],
        experiment["salt"],
        audit[0]["id"],
        audit[0]["subject"],
        B_SECRET_TEXT,
        "Bob hides money",
    ]
    before = b_state(sm)
    bodies = {
        **BODIES,
        ("post", "/v1/observations/wait"): {
            "observation_ids": observed["new_observation_ids"],
            "timeout": 0,
        },
        # B's trace: A's key must find neither it nor B's user.
        ("post", "/v1/users/{user}/outcomes"): {
            "kind": "thumbs_down",
            "trace_id": trace["trace_id"],
        },
    }

    calls = 0
    async with asgi_client(app, a_admin) as a:
        for template, operations in schema["paths"].items():
            if not template.startswith("/v1"):
                continue
            for method, operation in operations.items():
                path = template
                query: dict[str, str] = {}
                for param in operation.get("parameters", []):
                    if param["in"] == "query" and param.get("required"):
                        assert param["name"] in QUERIES, (
                            f"{method.upper()} {template}: give a value for required query"
                            f" parameter {param['name']!r} in QUERIES"
                        )
                        query[param["name"]] = QUERIES[param["name"]]
                    if param["in"] == "path":
                        assert param["name"] in path_values, (
                            f"{method.upper()} {template}: give a workspace-B value for "
                            f"path parameter {param['name']!r} in this test"
                        )
                        path = path.replace("{" + param["name"] + "}", path_values[param["name"]])
                body = None
                if "requestBody" in operation:
                    assert (method, template) in bodies, f"add a valid body for {method} {template}"
                    body = bodies[(method, template)]
                response = await a.request(method.upper(), path, json=body, params=query)
                calls += 1
                assert response.status_code < 500, f"{method} {template}: {response.text}"
                # An id the caller sent may be echoed back ("no belief 'bel_…'"); nothing else.
                sent = path + json.dumps(body)
                for marker in (m for m in b_ids if m not in sent):
                    assert marker not in response.text, (
                        f"{method.upper()} {template} with A's key leaked {marker!r}"
                    )
    assert calls >= 20
    assert b_state(sm) == before, "a request with A's key changed workspace B"
