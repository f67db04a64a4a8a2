"""``AlertStore``: alerts kept per workspace, one open per key, and the drift-check schedule in
which of several claimers exactly one runs a due check."""

from __future__ import annotations

from datetime import timedelta

from selfmodel.domain import Alert, AlertKind, AlertStatus, Delivery, Workspace, new_id
from selfmodel.domain.time import utcnow
from selfmodel.storage import Store


def alert(ws: Workspace, key: str = "input", *, minutes: int = 0) -> Alert:
    at = utcnow() + timedelta(minutes=minutes)
    return Alert(
        id=new_id("alr"),
        workspace_id=ws.id,
        kind=AlertKind.INPUT_DRIFT,
        key=key,
        status=AlertStatus.OPEN,
        message="input drift: p = 0.002",
        details={"p_value": 0.002, "windows": ["a", "b"]},
        first_seen_at=at,
        last_seen_at=at,
        seen_count=1,
        delivery=Delivery.PENDING,
    )


def test_an_alert_round_trips(store: Store, ws: Workspace) -> None:
    raised = alert(ws)
    assert store.add_alert(raised)
    assert store.get_alert(ws.id, raised.id) == raised
    assert store.get_open_alert(ws.id, "input") == raised


def test_one_open_alert_per_key_and_a_new_one_after_it_is_resolved(
    store: Store, ws: Workspace
) -> None:
    first = alert(ws)
    assert store.add_alert(first)
    assert not store.add_alert(alert(ws))  # the same drift, still open: not stored again
    assert store.add_alert(alert(ws, "self_model"))  # another key is another alert
    later = utcnow() + timedelta(hours=1)
    store.mark_alert_seen(ws.id, first.id, later)
    seen = store.get_alert(ws.id, first.id)
    assert seen is not None and seen.seen_count == 2 and seen.last_seen_at == later
    assert store.resolve_alert(ws.id, first.id, later)
    assert not store.resolve_alert(ws.id, first.id, later)  # not open any more
    assert store.get_open_alert(ws.id, "input") is None
    again = alert(ws, minutes=1)
    assert store.add_alert(again)
    assert [a.status for a in store.list_alerts(ws.id, status=None) if a.key == "input"] == [
        AlertStatus.OPEN,
        AlertStatus.RESOLVED,
    ]
    assert [a.id for a in store.list_alerts(ws.id, status=AlertStatus.RESOLVED)] == [first.id]


def test_alerts_are_listed_newest_first_and_kept_per_workspace(store: Store, ws: Workspace) -> None:
    other = store.get_or_create_workspace("other")
    older, newer = alert(ws, "a", minutes=-5), alert(ws, "b")
    for a in (older, newer):
        store.add_alert(a)
    assert [a.key for a in store.list_alerts(ws.id)] == ["b", "a"]
    assert store.list_alerts(other.id) == []
    assert store.get_alert(other.id, older.id) is None
    assert not store.resolve_alert(other.id, older.id, utcnow())
    assert store.add_alert(alert(other, "a"))  # same key, other workspace: its own alert


def test_a_delivery_is_recorded(store: Store, ws: Workspace) -> None:
    raised = alert(ws)
    store.add_alert(raised)
    at = utcnow()
    store.record_delivery(ws.id, raised.id, Delivery.FAILED, attempts=3, error="HTTP 500")
    failed = store.get_alert(ws.id, raised.id)
    assert failed is not None
    assert (failed.delivery, failed.delivery_attempts, failed.delivery_error) == (
        Delivery.FAILED,
        3,
        "HTTP 500",
    )
    store.record_delivery(ws.id, raised.id, Delivery.DELIVERED, attempts=1, delivered_at=at)
    done = store.get_alert(ws.id, raised.id)
    assert done is not None and done.delivered_at == at and done.delivery_error is None


def test_a_due_drift_check_is_claimed_once(store: Store, ws: Workspace) -> None:
    now = utcnow()
    day = timedelta(days=1)
    assert store.claim_drift_check(ws.id, now, now - day)  # never ran: due
    assert not store.claim_drift_check(ws.id, now, now - day)  # ran just now
    assert store.drift_check_requests() == []
    store.request_drift_check(ws.id, now)
    assert store.drift_check_requests() == [ws.id]
    assert store.claim_drift_check(ws.id, now, now - day)  # asked for: due at once
    assert not store.claim_drift_check(ws.id, now, now - day)
    assert store.drift_check_requests() == []
    assert store.claim_drift_check(ws.id, now + 2 * day, now + day)  # a day later: due again
