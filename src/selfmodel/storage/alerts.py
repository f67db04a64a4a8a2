"""``AlertStore``: alerts of a workspace (at most one open per key) and the drift-check schedule."""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from typing import Protocol

from selfmodel.domain import Alert, AlertStatus, Delivery
from selfmodel.storage.database import Database


class AlertStore(Database, Protocol):
    """Alerts, keyed by workspace; messages and details are statistics and ids, no one's words."""

    @abstractmethod
    def add_alert(self, alert: Alert) -> bool:
        """Store a new open alert, unless one of its key is open already; True if stored."""

    @abstractmethod
    def get_alert(self, workspace_id: str, alert_id: str) -> Alert | None: ...

    @abstractmethod
    def get_open_alert(self, workspace_id: str, key: str) -> Alert | None: ...

    @abstractmethod
    def list_alerts(self, workspace_id: str, *, status: AlertStatus | None = None) -> list[Alert]:
        """The workspace's alerts, the last raised first."""

    @abstractmethod
    def mark_alert_seen(self, workspace_id: str, alert_id: str, at: datetime) -> None:
        """A check found the open alert's drift again: one more sighting, seen at ``at``."""

    @abstractmethod
    def resolve_alert(self, workspace_id: str, alert_id: str, at: datetime) -> bool:
        """Close an open alert; False if it is not open (or not there)."""

    @abstractmethod
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
        """Where the alert's webhook delivery stands."""

    # -- the drift-check schedule --------------------------------------------------------------
    @abstractmethod
    def request_drift_check(self, workspace_id: str, at: datetime) -> None:
        """Ask for a drift check of the workspace, run by the next worker that looks."""

    @abstractmethod
    def drift_check_requests(self) -> list[str]:
        """Workspaces (ids) with a drift check asked for and not run since."""

    @abstractmethod
    def claim_drift_check(self, workspace_id: str, at: datetime, last_before: datetime) -> bool:
        """Take the workspace's next drift check if it is due — asked for, or none ran since
        ``last_before`` — and record it as run at ``at``. Of several claimers exactly one wins."""
