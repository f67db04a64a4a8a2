"""Alerts (issue 12): the worker's drift check raises an alert for a shifted query stream and for
a population whose beliefs flip, and none for a steady workspace; the same ongoing drift is one
alert however many checks see it; regressions from `eval compare`; webhooks POSTed to a real
local HTTP server, with retries and failures recorded, never raised."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selfmodel import SelfModel
from selfmodel.cli import app
from selfmodel.config import MonitoringSettings, Settings
from selfmodel.domain import AlertKind, AlertStatus, Delivery, EvalItemScore, EvalRun
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.errors import AlertNotFoundError, InvalidInputError
from selfmodel.evaluation.alerts import PAYLOAD_TYPE, post_webhook
from selfmodel.worker import Worker
from tests.support.webhook import WebhookReceiver
from tests.test_eval_drift import (
    BEFORE,
    COOKING,
    FLIPPED,
    NOW,
    TRAVEL_FINANCE,
    _ask,
    _say,
)
from tests.test_eval_quality import run_of

runner = CliRunner()


def shifted(sm: SelfModel) -> None:
    """Cooking questions, then travel and finance; six of twelve users' beliefs flip."""
    sm.observe("asker", "I love cooking and I travel a lot.", at=NOW - timedelta(days=40))
    picker = random.Random(7)
    _ask(sm, picker.sample(COOKING, 40), days_ago=(29, 8))
    _ask(sm, picker.sample(TRAVEL_FINANCE, 40), days_ago=(6.5, 0.1))
    for i in range(12):
        _say(sm, f"user-{i}", BEFORE, days_ago=20)
        _say(sm, f"user-{i}", FLIPPED if i < 6 else BEFORE, days_ago=3)


def steady(sm: SelfModel) -> None:
    """One topic mix in both windows; twelve users say the same again."""
    sm.observe("asker", "I love cooking and I travel a lot.", at=NOW - timedelta(days=40))
    pool = COOKING[:40] + TRAVEL_FINANCE[:40]
    random.Random(8).shuffle(pool)
    _ask(sm, pool[:40], days_ago=(29, 8))
    _ask(sm, pool[40:], days_ago=(6.5, 0.1))
    for i in range(12):
        _say(sm, f"user-{i}", BEFORE, days_ago=20)
        _say(sm, f"user-{i}", BEFORE, days_ago=3)


@pytest.fixture
def two_workspaces(db_path: Path, embedder: SentenceTransformerEmbedder) -> SelfModel:
    with SelfModel.open(str(db_path), embedder=embedder, workspace="moving") as sm:
        shifted(sm)
        steady(sm.in_workspace("still"))
    return sm


def test_the_worker_raises_both_alerts_for_drift_and_none_for_a_steady_workspace(
    two_workspaces: SelfModel, db_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    with WebhookReceiver() as hook:
        settings = Settings(monitoring=MonitoringSettings(alert_webhook_url=hook.url))
        with SelfModel.open(str(db_path), embedder=embedder, settings=settings) as sm:
            worker = Worker(sm, clock=lambda: NOW)
            checks = worker.run_drift_checks()
            moving = sm.in_existing_workspace("moving")
            still = sm.in_existing_workspace("still")
            assert {c.report.workspace for c in checks} >= {"moving", "still"}
            kinds = {a.kind for a in moving.alerts()}
            print("moving:", [a.message for a in moving.alerts()])
            assert {AlertKind.INPUT_DRIFT, AlertKind.SELF_MODEL_DRIFT} <= kinds
            assert still.alerts() == []
            # Stored alerts name nobody: the self-model alert counts the users who changed.
            flip = next(a for a in moving.alerts() if a.kind is AlertKind.SELF_MODEL_DRIFT)
            assert "user-0" not in flip.message and flip.details["users_changed"] == 6
            # Each new alert was POSTed once, and recorded as delivered.
            assert sorted(p["alert"]["kind"] for p in hook.received) == sorted(
                a.kind.value for a in moving.alerts()
            )
            assert all(
                p["type"] == PAYLOAD_TYPE and p["workspace"] == "moving" for p in hook.received
            )
            assert all(a.delivery is Delivery.DELIVERED for a in moving.alerts())

            # Within the interval no worker checks again; asked for, the next look does.
            assert worker.run_drift_checks() == []
            moving.request_drift_check()
            (again,) = worker.run_drift_checks(requested_only=True)
            assert again.report.workspace == "moving"
            assert again.changes.raised == ()
            assert {a.kind for a in again.changes.seen_again} == kinds
            # The same ongoing drift: no new alert, no new POST, one more sighting.
            assert len(moving.alerts()) == len(kinds) and len(hook.received) == len(kinds)
            assert all(a.seen_count == 2 for a in moving.alerts())


def test_an_alert_resolves_when_its_drift_is_no_longer_found_and_a_new_drift_is_news(
    sm: SelfModel,
) -> None:
    book_changes = sm.check_drift(now=NOW)  # nothing recorded: nothing to say
    assert book_changes.changes.raised == () and sm.alerts() == []
    for i in range(12):
        _say(sm, f"user-{i}", BEFORE, days_ago=20)
        _say(sm, f"user-{i}", FLIPPED if i < 6 else BEFORE, days_ago=3)
    (raised,) = sm.check_drift(now=NOW).changes.raised
    assert raised.kind is AlertKind.SELF_MODEL_DRIFT and raised.delivery is Delivery.NONE
    # A month on, the flips are in the reference window and nothing changes in the current one:
    # the current window has no events, so the check cannot decide — the alert stays open.
    later = sm.check_drift(now=NOW + timedelta(days=30))
    assert later.changes.resolved == () and sm.alert(raised.id).status is AlertStatus.OPEN
    resolved = sm.resolve_alert(raised.id)
    assert resolved.status is AlertStatus.RESOLVED and resolved.resolved_at is not None
    assert sm.alerts(status="open") == [] and sm.alerts(status=AlertStatus.RESOLVED) == [resolved]
    (new,) = sm.check_drift(now=NOW).changes.raised  # found again after it was closed: news
    assert new.id != raised.id
    with pytest.raises(AlertNotFoundError):
        sm.alert("alr_missing")
    with pytest.raises(InvalidInputError):
        sm.alerts(status="closed")


def test_a_webhook_is_retried_with_backoff_and_a_failure_is_recorded_not_raised(
    sm: SelfModel,
) -> None:
    waits: list[float] = []
    with WebhookReceiver(statuses=[500, 503]) as hook:
        result = post_webhook(hook.url, {"x": 1}, timeout_s=2, attempts=3, sleep=waits.append)
        assert result.delivered and result.attempts == 3 and hook.answered == [500, 503, 200]
        assert waits == [1.0, 2.0]
    with WebhookReceiver(statuses=[404]) as hook:
        refused = post_webhook(hook.url, {"x": 1}, timeout_s=2, attempts=3, sleep=waits.append)
        assert not refused.delivered and refused.attempts == 1  # a refusal is not retried
        assert refused.error is not None and refused.error.startswith("HTTP 404")
    down_url = hook.url  # the receiver has stopped: nothing listens there now
    down = post_webhook(down_url, {"x": 1}, timeout_s=2, attempts=2, sleep=lambda s: None)
    assert not down.delivered and down.attempts == 2 and "ConnectError" in (down.error or "")

    # Through a check: the workspace's own URL wins over the setting; the failure is on the alert.
    sm.set_alert_webhook(down_url)
    for i in range(12):
        _say(sm, f"user-{i}", BEFORE, days_ago=20)
        _say(sm, f"user-{i}", FLIPPED if i < 6 else BEFORE, days_ago=3)
    worker = Worker(sm, clock=lambda: NOW)
    (check,) = worker.run_drift_checks()  # the worker carries on: nothing raised to it
    (raised,) = check.changes.raised
    assert raised.delivery is Delivery.FAILED and raised.delivery_attempts == 3
    assert sm.alert(raised.id) == raised
    assert "ConnectError" in (raised.delivery_error or "")
    with pytest.raises(InvalidInputError):
        sm.set_alert_webhook("ftp://example.com/hook")
    sm.set_alert_webhook(None)
    assert "alert_webhook_url" not in sm.workspace.settings


def test_a_significant_regression_raises_an_alert_once_and_a_good_run_resolves_it(
    sm: SelfModel, db_path: Path
) -> None:
    worse = record_items(sm, 0.2, items=8)
    base_items = record_items(sm, 0.8, items=8)
    args = ["eval", "compare", base_items, worse, "--db", str(db_path)]
    with WebhookReceiver() as hook:
        env = {"COLUMNS": "200", "SELFMODEL_ALERT_WEBHOOK_URL": hook.url}
        first = runner.invoke(app, args, env=env)
        assert first.exit_code == 1, first.output
        assert "alert raised: regression" in first.output
        assert "(webhook: delivered)" in first.output
        second = runner.invoke(app, args, env=env)
        assert [p["alert"]["kind"] for p in hook.received] == ["regression"]  # once
    assert second.exit_code == 1 and "alert raised" not in second.output
    (alert,) = sm.alerts()
    assert alert.kind is AlertKind.REGRESSION and alert.seen_count == 2
    assert alert.details["candidate"] == worse and alert.details["baseline"] == base_items
    same = runner.invoke(app, ["eval", "compare", base_items, base_items, "--db", str(db_path)])
    assert same.exit_code == 0 and "alert resolved" in same.output
    assert sm.alerts(status="open") == []
    listed = runner.invoke(
        app, ["eval", "alerts", "--db", str(db_path), "--all"], env={"COLUMNS": "200"}
    )
    assert listed.exit_code == 0 and alert.id in listed.output and "resolved" in listed.output


def record_items(sm: SelfModel, score: float, *, items: int) -> str:
    """A run of the suite "paired" whose every item scored ``score``."""
    run = run_of("paired", score, NOW)
    run = EvalRun(**{**run.__dict__, "workspace_id": sm.workspace.id, "item_count": items})
    # Each item moves by its own amount, so the Wilcoxon test has ranks to work with.
    scores = [
        EvalItemScore(f"q{i}", min(1.0, score + 0.01 * i), 1, 1, 0, 10, 5.0) for i in range(items)
    ]
    sm.store.insert_eval_run(run, scores)
    return run.id


def test_eval_drift_record_raises_then_refreshes_and_refuses_its_own_thresholds(
    sm: SelfModel, db_path: Path
) -> None:
    for i in range(12):
        _say(sm, f"user-{i}", BEFORE, days_ago=20)
        _say(sm, f"user-{i}", FLIPPED if i < 6 else BEFORE, days_ago=3)
    args = ["eval", "drift", "--db", str(db_path), "--now", NOW.isoformat(), "--record"]
    first = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert first.exit_code == 1, first.output
    assert "alert raised: self-model drift" in first.output
    second = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert second.exit_code == 1 and "alert still open" in second.output
    assert "alert raised" not in second.output
    (alert,) = sm.alerts()
    assert alert.seen_count == 2
    own = runner.invoke(app, [*args, "--alpha", "0.05"])
    assert own.exit_code == 2 and "--record checks with the settings'" in own.output
    plain = runner.invoke(app, args[:-1])  # without --record the report writes nothing
    assert plain.exit_code == 1 and sm.alert(alert.id).seen_count == 2


def test_both_backends_raise_one_alert_for_an_ongoing_drift(any_sm: SelfModel) -> None:
    for i in range(12):
        _say(any_sm, f"user-{i}", BEFORE, days_ago=20)
        _say(any_sm, f"user-{i}", FLIPPED if i < 6 else BEFORE, days_ago=3)
    (raised,) = any_sm.check_drift(now=NOW).changes.raised
    again = any_sm.check_drift(now=NOW).changes
    assert again.raised == () and [a.id for a in again.seen_again] == [raised.id]
    (stored,) = any_sm.alerts()
    assert stored.kind is AlertKind.SELF_MODEL_DRIFT and stored.seen_count == 2
    assert stored.details["users_changed"] == 6


def test_eval_alerts_lists_open_ones_resolves_by_id_and_writes_json(
    sm: SelfModel, db_path: Path, tmp_path: Path
) -> None:
    from tests.support.evaluation import raise_alert

    first, second = raise_alert(sm, "input"), raise_alert(sm, "self_model")
    listed = runner.invoke(app, ["eval", "alerts", "--db", str(db_path)], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and first.id in listed.output and second.id in listed.output
    out = tmp_path / "alerts.json"
    args = ["eval", "alerts", "--db", str(db_path), "--resolve", first.id, "--json", str(out)]
    resolved = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert resolved.exit_code == 0, resolved.output
    assert first.id not in resolved.output  # resolved: no longer among the open ones
    assert [a["id"] for a in json.loads(out.read_text())["alerts"]] == [second.id]
    unknown = runner.invoke(app, ["eval", "alerts", "--db", str(db_path), "--resolve", "alr_x"])
    assert unknown.exit_code != 0 and "no alert 'alr_x'" in unknown.output


def test_a_signed_webhook_carries_the_hmac_of_its_exact_body() -> None:
    secret = "a-webhook-secret-of-32-characters"
    with WebhookReceiver() as hook:
        assert post_webhook(
            hook.url, {"alert": {"message": "MMD² 0.18"}}, timeout_s=2, attempts=1, secret=secret
        ).delivered
        assert post_webhook(hook.url, {"x": 1}, timeout_s=2, attempts=1).delivered
    (body, headers), (_, unsigned) = hook.raw
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Selfmodel-Signature"] == f"sha256={expected}"
    assert json.loads(body) == {"alert": {"message": "MMD² 0.18"}}
    assert "X-Selfmodel-Signature" not in unsigned
