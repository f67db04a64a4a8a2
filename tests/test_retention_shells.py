"""Retention and the audit log through the HTTP API (admin keys) and the command line: good
paths, and bad values answered with a 4xx JSON error or one line and a non-zero exit."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from selfmodel import SelfModel
from selfmodel.cli import app as cli_app
from selfmodel.domain.time import utcnow
from selfmodel.server import create_app
from selfmodel.tenancy import Scope
from tests.store_contract.records import observation
from tests.support.server import asgi_client, new_workspace_key
from tests.support.stored import location_of

runner = CliRunner()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def admin(sm: SelfModel) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(create_app(sm), new_workspace_key(sm.store, "acme")) as client:
        yield client


def error_code(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    return str(body["error"]["code"])


# -- HTTP --------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_the_policy_is_read_and_changed_field_by_field(admin: httpx.AsyncClient) -> None:
    keep_all = {
        "observations_max_age_days": None,
        "inactive_user_days": None,
        "traces_max_age_days": None,
    }
    assert (await admin.get("/v1/retention")).json() == keep_all
    set_two = await admin.patch(
        "/v1/retention", json={"observations_max_age_days": 30, "inactive_user_days": 365}
    )
    assert set_two.status_code == 200, set_two.text
    cleared = await admin.patch("/v1/retention", json={"inactive_user_days": None})
    assert cleared.json() == {**keep_all, "observations_max_age_days": 30}
    assert (await admin.get("/v1/retention")).json() == cleared.json()


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [
        {"observations_max_age_days": -1},
        {"observations_max_age_days": 0},
        {"inactive_user_days": 36_501},
        {"traces_max_age_days": True},
        {"traces_max_age_days": "30"},
        {"traces_max_age_days": 1.5},
        {"keep_for": 30},
    ],
)
async def test_bad_policy_values_are_422_and_change_nothing(
    admin: httpx.AsyncClient, body: dict[str, object]
) -> None:
    before = (await admin.get("/v1/retention")).json()
    assert error_code(await admin.patch("/v1/retention", json=body), 422) == "invalid_input"
    assert (await admin.get("/v1/retention")).json() == before


@pytest.mark.anyio
async def test_retention_and_the_audit_log_need_an_admin_key(sm: SelfModel) -> None:
    async with asgi_client(create_app(sm), new_workspace_key(sm.store, "acme", Scope.WRITE)) as w:
        assert error_code(await w.get("/v1/retention"), 403) == "forbidden"
        assert error_code(await w.patch("/v1/retention", json={}), 403) == "forbidden"
        assert error_code(await w.post("/v1/retention/run", json={}), 403) == "forbidden"
        assert error_code(await w.get("/v1/audit-log"), 403) == "forbidden"


@pytest.mark.anyio
async def test_a_run_reports_and_the_audit_log_pages(admin: httpx.AsyncClient) -> None:
    for name in ("anakin", "bobbie", "cyrano"):
        observed = await admin.post(
            f"/v1/users/{name}/observations", json={"messages": [{"content": "I knit."}]}
        )
        assert observed.status_code == 201, observed.text
        assert (await admin.delete(f"/v1/users/{name}")).status_code == 200
    await admin.patch("/v1/retention", json={"observations_max_age_days": 1})
    dry = await admin.post("/v1/retention/run", json={"dry_run": True})
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True and dry.json()["deletions"] == []  # nothing is old
    assert error_code(await admin.post("/v1/retention/run", json={"dry_run": "yes"}), 422)

    first = (await admin.get("/v1/audit-log", params={"limit": 2})).json()
    assert [r["action"] for r in first["items"]] == ["forget", "forget"]
    rest = (await admin.get("/v1/audit-log", params={"cursor": first["next_cursor"]})).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    everything = first["items"] + rest["items"]
    assert all(r["verified"] and r["counts"]["users"] == 1 for r in everything)
    assert not any(
        name in json.dumps(everything) for name in ("anakin", "bobbie", "cyrano", "knit")
    )
    bob = (await admin.get("/v1/audit-log", params={"user": "bobbie"})).json()["items"]
    assert [r["id"] for r in bob] == [everything[1]["id"]]
    bad_cursor = await admin.get("/v1/audit-log", params={"cursor": "not-ours"})
    assert error_code(bad_cursor, 422) == "invalid_input"


@pytest.mark.anyio
async def test_a_replayed_run_does_not_name_the_users_it_deleted_from(
    admin: httpx.AsyncClient, sm: SelfModel
) -> None:
    """The answer kept for an Idempotency-Key replay leaves out the users' ids: a replay after
    the run must not name the people whose data it deleted (nor keep their ids stored)."""
    user = sm.store.get_or_create_user(sm.in_workspace("acme").workspace.id, "maya-of-acme")
    long_ago = utcnow() - timedelta(days=40)
    old = observation(user, "I knit.", recorded_at=long_ago)
    sm.store.insert_observations([old])
    await admin.patch("/v1/retention", json={"observations_max_age_days": 30})
    headers = {"Idempotency-Key": "run-1"}

    ran = await admin.post("/v1/retention/run", json={}, headers=headers)
    assert ran.status_code == 200, ran.text
    assert [d["user"] for d in ran.json()["deletions"]] == ["maya-of-acme"]
    replay = await admin.post("/v1/retention/run", json={}, headers=headers)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert [d["user"] for d in replay.json()["deletions"]] == [None]
    with sqlite3.connect(location_of(sm)) as conn:
        kept = conn.execute("SELECT response FROM idempotency_keys").fetchall()
    assert kept and not any("maya-of-acme" in row[0] for row in kept)


# -- the command line --------------------------------------------------------------------------
def invoke(*args: str) -> object:
    return runner.invoke(cli_app, list(args), env={"COLUMNS": "160"})


def test_cli_sets_shows_and_runs_the_policy(db_path: Path, sm: SelfModel) -> None:
    sm.observe("maya", "I love hiking in the Alps.")
    sm.forget("maya")
    sm.close()
    db = str(db_path)
    changed = invoke("retention", "set", "--observations-max-age-days", "30", "--db", db)
    assert changed.exit_code == 0, changed.output  # type: ignore[attr-defined]
    assert "30 days" in changed.output  # type: ignore[attr-defined]
    forever = invoke("retention", "set", "--observations-max-age-days", "forever", "--db", db)
    assert forever.exit_code == 0  # type: ignore[attr-defined]
    shown = invoke("retention", "show", "--json", "--db", db)
    assert json.loads(shown.output)["observations_max_age_days"] is None  # type: ignore[attr-defined]
    invoke("retention", "set", "--inactive-user-days", "365", "--db", db)
    ran = invoke("retention", "run", "--dry-run", "--db", db)
    assert ran.exit_code == 0 and "would delete 0 rows" in ran.output  # type: ignore[attr-defined]
    logged = invoke("audit-log", "--json", "--db", db)
    (record,) = json.loads(logged.output)  # type: ignore[attr-defined]
    assert record["action"] == "forget" and record["verified"] is True
    table = invoke("audit-log", "--db", db, "--user", "maya")
    assert record["id"] in table.output  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--observations-max-age-days", "-3"),
        ("--inactive-user-days", "0"),
        ("--traces-max-age-days", "soon"),
        ("--traces-max-age-days", "99999"),
    ],
)
def test_cli_refuses_a_bad_policy_in_one_line(tmp_path: Path, option: str, value: str) -> None:
    result = invoke("retention", "set", option, value, "--db", str(tmp_path / "x.db"))
    assert result.exit_code == 2  # type: ignore[attr-defined]
    lines = result.output.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert option.removeprefix("--").replace("-", "_") in lines[0]
