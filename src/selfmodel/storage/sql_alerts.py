"""``SQLAlerts``: alerts and the drift-check schedule, for both SQL backends."""

from __future__ import annotations

from datetime import datetime

from selfmodel.domain import Alert, AlertStatus, Delivery
from selfmodel.storage import sql_rows as rows_to
from selfmodel.storage.alerts import AlertStore
from selfmodel.storage.sql_base import SQLBase, marks

_COLUMNS = (
    "id",
    "workspace_id",
    "kind",
    "key",
    "status",
    "message",
    "details",
    "first_seen_at",
    "last_seen_at",
    "seen_count",
    "resolved_at",
    "delivery",
    "delivery_attempts",
    "delivery_error",
    "delivered_at",
)


class SQLAlerts(SQLBase, AlertStore):
    """``AlertStore`` in shared SQL (mixed into ``SQLStore``)."""

    def add_alert(self, alert: Alert) -> bool:
        d = self._dialect
        # The partial unique index on open alerts' keys decides, so two checks finding the same
        # drift at once store one alert (ON CONFLICT with no target covers a partial index).
        added = self._x(
            f"INSERT INTO alerts ({', '.join(_COLUMNS)}) VALUES ({marks(len(_COLUMNS))})"
            " ON CONFLICT DO NOTHING",
            (
                alert.id,
                alert.workspace_id,
                alert.kind.value,
                alert.key,
                alert.status.value,
                alert.message,
                d.json_in(alert.details, strict=True),
                d.ts_in(alert.first_seen_at),
                d.ts_in(alert.last_seen_at),
                alert.seen_count,
                d.ts_in(alert.resolved_at),
                alert.delivery.value,
                alert.delivery_attempts,
                alert.delivery_error,
                d.ts_in(alert.delivered_at),
            ),
        )
        return added == 1

    def get_alert(self, workspace_id: str, alert_id: str) -> Alert | None:
        rows = self._q(
            "SELECT * FROM alerts WHERE workspace_id = ? AND id = ?", (workspace_id, alert_id)
        )
        return rows_to.alert(self._dialect, rows[0]) if rows else None

    def get_open_alert(self, workspace_id: str, key: str) -> Alert | None:
        rows = self._q(
            "SELECT * FROM alerts WHERE workspace_id = ? AND key = ? AND status = ?",
            (workspace_id, key, AlertStatus.OPEN.value),
        )
        return rows_to.alert(self._dialect, rows[0]) if rows else None

    def list_alerts(self, workspace_id: str, *, status: AlertStatus | None = None) -> list[Alert]:
        sql = "SELECT * FROM alerts WHERE workspace_id = ?"
        params: list[object] = [workspace_id]
        if status is not None:
            sql += " AND status = ?"
            params.append(status.value)
        # Ids are time-ordered: the last raised first, and a stable order for cursors.
        return [rows_to.alert(self._dialect, r) for r in self._q(sql + " ORDER BY id DESC", params)]

    def mark_alert_seen(self, workspace_id: str, alert_id: str, at: datetime) -> None:
        self._x(
            "UPDATE alerts SET seen_count = seen_count + 1, last_seen_at = ?"
            " WHERE workspace_id = ? AND id = ?",
            (self._dialect.ts_in(at), workspace_id, alert_id),
        )

    def resolve_alert(self, workspace_id: str, alert_id: str, at: datetime) -> bool:
        return (
            self._x(
                "UPDATE alerts SET status = ?, resolved_at = ?"
                " WHERE workspace_id = ? AND id = ? AND status = ?",
                (
                    AlertStatus.RESOLVED.value,
                    self._dialect.ts_in(at),
                    workspace_id,
                    alert_id,
                    AlertStatus.OPEN.value,
                ),
            )
            == 1
        )

    def record_delivery(
        self,
        workspace_id: str,
        alert_id: str,
        delivery: Delivery,
        *,
        attempts: int,
        error: str | None = None,
        delivered_at: datetime | None = None,
    ) -> None:
        self._x(
            "UPDATE alerts SET delivery = ?, delivery_attempts = ?, delivery_error = ?,"
            " delivered_at = ? WHERE workspace_id = ? AND id = ?",
            (
                delivery.value,
                attempts,
                error,
                self._dialect.ts_in(delivered_at),
                workspace_id,
                alert_id,
            ),
        )

    # -- the drift-check schedule --------------------------------------------------------------
    def request_drift_check(self, workspace_id: str, at: datetime) -> None:
        ts = self._dialect.ts_in(at)
        with self.transaction():
            self._x(
                "INSERT INTO drift_checks (workspace_id, last_run_at, requested_at)"
                " VALUES (?, NULL, ?) ON CONFLICT DO NOTHING",
                (workspace_id, ts),
            )
            self._x(
                "UPDATE drift_checks SET requested_at = ? WHERE workspace_id = ?",
                (ts, workspace_id),
            )

    def drift_check_requests(self) -> list[str]:
        rows = self._q(
            "SELECT workspace_id FROM drift_checks WHERE requested_at IS NOT NULL"
            " ORDER BY requested_at, workspace_id"
        )
        return [r["workspace_id"] for r in rows]

    def claim_drift_check(self, workspace_id: str, at: datetime, last_before: datetime) -> bool:
        d = self._dialect
        with self.transaction():
            self._x(
                "INSERT INTO drift_checks (workspace_id, last_run_at, requested_at)"
                " VALUES (?, NULL, NULL) ON CONFLICT DO NOTHING",
                (workspace_id,),
            )
            # One conditional UPDATE: of several workers seeing the check due, one moves it.
            claimed = self._x(
                "UPDATE drift_checks SET last_run_at = ?, requested_at = NULL"
                " WHERE workspace_id = ? AND (requested_at IS NOT NULL OR last_run_at IS NULL"
                " OR last_run_at < ?)",
                (d.ts_in(at), workspace_id, d.ts_in(last_before)),
            )
        return claimed == 1
