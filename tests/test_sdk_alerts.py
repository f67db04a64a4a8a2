"""Alerts and eval runs through the HTTP API and the SDK over a real uvicorn socket, with a real
worker thread: a drift check asked for over HTTP is run by the worker within seconds and its
alert listed, read and resolved through the SDK; errors keep the API's shape."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import httpx
import pytest

from selfmodel import SelfModel
from selfmodel.client import AsyncClient, Client
from selfmodel.domain import AlertKind, AlertStatus
from selfmodel.errors import (
    AlertNotFoundError,
    EvalRunNotFoundError,
    InvalidInputError,
    PermissionDeniedError,
)
from selfmodel.tenancy import Scope
from selfmodel.worker import Worker
from tests.support.evaluation import record_run
from tests.support.server import new_workspace_key
from tests.test_eval_drift import BEFORE, FLIPPED, NOW, _say


def test_a_drift_check_asked_for_over_http_is_run_by_the_worker_and_its_alert_served(
    server: str, sm: SelfModel
) -> None:
    worker = Worker(sm, idle_sleep=0.05, clock=lambda: NOW)
    # The scheduled check of the day, before anything happened: no alert.
    (first,) = worker.run_drift_checks()
    assert first.changes.raised == ()
    for i in range(12):
        _say(sm, f"user-{i}", BEFORE, days_ago=20)
        _say(sm, f"user-{i}", FLIPPED if i < 6 else BEFORE, days_ago=3)
    thread = worker.start()
    try:
        time.sleep(0.5)
        assert sm.alerts() == []  # within the interval: no scheduled check sees the flips yet
        with Client(server, new_workspace_key(sm.store, sm.workspace.name, Scope.WRITE)) as c:
            assert c.request_drift_check() is None
            deadline = time.monotonic() + 30
            while not c.alerts() and time.monotonic() < deadline:
                time.sleep(0.1)
            (alert,) = c.alerts()
            assert alert.kind is AlertKind.SELF_MODEL_DRIFT and alert.status is AlertStatus.OPEN
            assert alert == sm.alert(alert.id) == c.alert(alert.id)
            assert c.alerts(status="resolved") == []
            resolved = c.resolve_alert(alert.id)
            assert resolved.status is AlertStatus.RESOLVED and resolved == sm.alert(alert.id)
            assert c.alerts(status=AlertStatus.OPEN) == []
            with pytest.raises(AlertNotFoundError):
                c.alert("alr_01a2b3c4d5e6f7a8b9c0d1e2")
            with pytest.raises(InvalidInputError):
                c.alerts(status="closed")
    finally:
        worker.stop()
        thread.join(timeout=30)


def test_a_read_key_lists_alerts_but_cannot_resolve_them_or_ask_for_checks(
    server: str, sm: SelfModel
) -> None:
    from tests.support.evaluation import raise_alert

    alert = raise_alert(sm)
    with Client(server, new_workspace_key(sm.store, sm.workspace.name, Scope.READ)) as c:
        assert [a.id for a in c.alerts()] == [alert.id]
        with pytest.raises(PermissionDeniedError):
            c.resolve_alert(alert.id)
        with pytest.raises(PermissionDeniedError):
            c.request_drift_check()
    answer = httpx.get(
        f"{server}/v1/alerts/nope",
        headers={"Authorization": f"Bearer {new_workspace_key(sm.store, sm.workspace.name)}"},
    )
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "alert_not_found"
    assert sm.alert(alert.id).status is AlertStatus.OPEN


def test_the_clients_read_eval_runs_as_the_library_does(server: str, sm: SelfModel) -> None:
    runs = [record_run(sm.store, sm.workspace, (1.0, 0.5, r)) for r in (0.0, 1.0)]
    key = new_workspace_key(sm.store, sm.workspace.name, Scope.READ)
    with Client(server, key) as c:
        listed = c.eval_runs()
        assert listed == [replace(r, workspace_id="") for r in sm.eval_runs()]
        assert [r.id for r in listed] == [r.id for r in reversed(runs)]
        assert c.eval_runs(suite="another") == []
        assert c.eval_run(runs[0].id) == replace(sm.eval_run(runs[0].id), workspace_id="")
        assert c.eval_items(runs[0].id) == sm.eval_items(runs[0].id)
        with pytest.raises(EvalRunNotFoundError):
            c.eval_run("evr_missing")

    async def asynchronously() -> None:
        async with AsyncClient(server, key) as a:
            assert [r.id for r in await a.eval_runs()] == [r.id for r in listed]
            assert await a.alerts() == []

    asyncio.run(asynchronously())
