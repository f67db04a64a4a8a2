"""Alerts from findings: raised once per ongoing drift, resolved when it ends, POSTed to a webhook.

``AlertBook`` turns what a check found (drift report findings, a comparison's verdict) into alert
records of one workspace:

- a finding whose key has no open alert **raises** a new one (and, with a webhook configured,
  POSTs it);
- a finding whose key has an open alert marks it **seen again** — no new record, no new POST: an
  ongoing drift is one alert, however many checks see it;
- a key the check could decide (enough data) and did not find drifted **resolves** its open
  alert, so a later drift of the same key is news again.

Webhook delivery (``deliver``) happens after the alerts are stored, outside any transaction; it
retries connection failures, timeouts, 429 and 5xx answers with backoff and records the outcome
on the alert. It never raises: a receiver that is down must not stop a worker or a check.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from selfmodel.config import MonitoringSettings
from selfmodel.domain import (
    Alert,
    AlertKind,
    AlertStatus,
    Delivery,
    EvalRun,
    Workspace,
    new_id,
)
from selfmodel.domain.time import utcnow
from selfmodel.errors import AlertNotFoundError
from selfmodel.evaluation.compare import Comparison, Verdict
from selfmodel.evaluation.monitor import Finding
from selfmodel.evaluation.thresholds import WEBHOOK_BACKOFF_S
from selfmodel.storage import AlertStore

logger = logging.getLogger("selfmodel.alerts")

# The workspace setting that names its own webhook URL (instead of SELFMODEL_ALERT_WEBHOOK_URL).
WORKSPACE_WEBHOOK_SETTING = "alert_webhook_url"
# What a webhook's JSON says it is, so a receiver shared with other senders can route it.
PAYLOAD_TYPE = "selfmodel.alert"
# The header of the body's HMAC-SHA256 under SELFMODEL_ALERT_WEBHOOK_SECRET.
SIGNATURE_HEADER = "X-Selfmodel-Signature"
# Kept of a receiver's error answer: enough to say what went wrong.
MAX_DELIVERY_ERROR_CHARS = 500


@dataclass(frozen=True)
class AlertChanges:
    """What one check did to the workspace's alerts."""

    raised: tuple[Alert, ...] = ()
    seen_again: tuple[Alert, ...] = ()
    resolved: tuple[Alert, ...] = ()


@dataclass(frozen=True)
class DeliveryResult:
    delivered: bool
    attempts: int
    error: str | None = None


def regression_key(run: EvalRun) -> str:
    """The key of a regression against ``run`` as baseline: one alert however many candidates
    are found worse than it, until one is not."""
    return f"regression:{run.suite}@{run.dataset_sha256[:12]}:{run.id}"


def regression_finding(baseline: EvalRun, candidate: EvalRun, c: Comparison) -> Finding:
    low, high = c.ci95
    return Finding(
        AlertKind.REGRESSION,
        regression_key(baseline),
        f"regression: run {candidate.id} is significantly worse than baseline {baseline.id} "
        f"on suite {baseline.suite}: mean recall@{baseline.k} {c.baseline_mean:.3f} → "
        f"{c.candidate_mean:.3f} ({c.mean_difference:+.3f} [{low:+.3f}, {high:+.3f}], "
        f"Wilcoxon p = {c.p_value:.2g} < α = {c.alpha:g})",
        {
            "suite": baseline.suite,
            "baseline": baseline.id,
            "candidate": candidate.id,
            "baseline_mean": c.baseline_mean,
            "candidate_mean": c.candidate_mean,
            "mean_difference": c.mean_difference,
            "ci95": [low, high],
            "p_value": c.p_value,
            "alpha": c.alpha,
            "paired": c.paired,
        },
    )


@dataclass
class AlertBook:
    """The alerts of one workspace: raised from findings, listed, resolved, delivered."""

    store: AlertStore
    workspace: Workspace
    settings: MonitoringSettings
    # Waiting between webhook attempts; tests pass a recorder instead of sleeping.
    sleep: Callable[[float], None] = field(default=time.sleep)

    # -- reading -----------------------------------------------------------------------------
    def alerts(self, *, status: AlertStatus | None = None) -> list[Alert]:
        """The workspace's alerts, the last raised first."""
        return self.store.list_alerts(self.workspace.id, status=status)

    def get(self, alert_id: str) -> Alert:
        found = self.store.get_alert(self.workspace.id, alert_id)
        if found is None:
            raise AlertNotFoundError(
                f"no alert {alert_id!r} in workspace {self.workspace.name!r}", alert_id=alert_id
            )
        return found

    def resolve(self, alert_id: str, *, at: datetime | None = None) -> Alert:
        """Close an alert by hand (a person looked and dealt with it); closing a closed alert
        changes nothing."""
        self.store.resolve_alert(self.workspace.id, self.get(alert_id).id, at or utcnow())
        return self.get(alert_id)

    # -- raising -----------------------------------------------------------------------------
    def record(
        self, findings: Iterable[Finding], *, checked: Iterable[str], at: datetime | None = None
    ) -> AlertChanges:
        """Raise, refresh or resolve the alerts of the keys a check decided (``checked``: keys it
        had the data to decide; every finding's key counts as decided), in one transaction."""
        moment = at or utcnow()
        found = {f.key: f for f in findings}
        decided = set(checked) | found.keys()
        url = self.webhook_url()
        raised: list[Alert] = []
        seen: list[Alert] = []
        resolved: list[Alert] = []
        with self.store.transaction():
            for key in sorted(decided):
                open_alert = self.store.get_open_alert(self.workspace.id, key)
                finding = found.get(key)
                if finding is None:
                    if open_alert is not None:
                        self.store.resolve_alert(self.workspace.id, open_alert.id, moment)
                        resolved.append(open_alert)
                    continue
                if open_alert is not None:
                    self.store.mark_alert_seen(self.workspace.id, open_alert.id, moment)
                    seen.append(open_alert)
                    continue
                alert = Alert(
                    id=new_id("alr"),
                    workspace_id=self.workspace.id,
                    kind=finding.kind,
                    key=key,
                    status=AlertStatus.OPEN,
                    message=finding.summary or finding.message,
                    details=finding.details,
                    first_seen_at=moment,
                    last_seen_at=moment,
                    seen_count=1,
                    delivery=Delivery.PENDING if url else Delivery.NONE,
                )
                if self.store.add_alert(alert):
                    raised.append(alert)
                else:  # another check raised it a moment ago
                    again = self.store.get_open_alert(self.workspace.id, key)
                    if again is not None:
                        self.store.mark_alert_seen(self.workspace.id, again.id, moment)
                        seen.append(again)
        for alert in raised:
            logger.warning(
                "alert raised: %s",
                alert.message,
                extra={"workspace": self.workspace.name, "alert_id": alert.id, "key": alert.key},
            )
        return AlertChanges(tuple(raised), tuple(seen), tuple(resolved))

    def record_comparison(
        self, baseline: EvalRun, candidate: EvalRun, comparison: Comparison
    ) -> AlertChanges:
        """A regression alert when ``candidate`` is significantly worse than ``baseline``; a
        comparison that is not worse resolves the baseline's open regression alert."""
        findings = []
        if comparison.verdict is Verdict.WORSE:
            findings.append(regression_finding(baseline, candidate, comparison))
        return self.record(findings, checked=[regression_key(baseline)])

    # -- delivering --------------------------------------------------------------------------
    def webhook_url(self) -> str | None:
        """The workspace's own webhook URL, else the setting's, else none."""
        own = self.workspace.settings.get(WORKSPACE_WEBHOOK_SETTING)
        return str(own) if own else self.settings.alert_webhook_url

    def deliver(self, alerts: Iterable[Alert]) -> list[Alert]:
        """POST each alert to the webhook and record how it went; the alerts as stored after."""
        url = self.webhook_url()
        delivered = []
        for alert in alerts:
            if url is None:
                delivered.append(alert)
                continue
            result = post_webhook(
                url,
                self.payload(alert),
                timeout_s=self.settings.alert_webhook_timeout_s,
                attempts=self.settings.alert_webhook_attempts,
                secret=self.settings.alert_webhook_secret,
                sleep=self.sleep,
            )
            self.store.record_delivery(
                self.workspace.id,
                alert.id,
                Delivery.DELIVERED if result.delivered else Delivery.FAILED,
                attempts=result.attempts,
                error=result.error,
                delivered_at=utcnow() if result.delivered else None,
            )
            if not result.delivered:
                logger.error(
                    "alert webhook failed after %d attempts: %s",
                    result.attempts,
                    result.error,
                    extra={"workspace": self.workspace.name, "alert_id": alert.id},
                )
            delivered.append(self.get(alert.id))
        return delivered

    def payload(self, alert: Alert) -> dict[str, Any]:
        """What the webhook receives: the alert as the API lists it, and whose it is."""
        return {
            "type": PAYLOAD_TYPE,
            "workspace": self.workspace.name,
            "alert": alert.model_dump(mode="json"),
        }


def post_webhook(
    url: str,
    payload: dict[str, Any],
    *,
    timeout_s: float,
    attempts: int,
    secret: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryResult:
    """POST ``payload`` as JSON until a 2xx answer, at most ``attempts`` times.

    With a ``secret``, the request carries ``X-Selfmodel-Signature: sha256=<hex>``, the
    HMAC-SHA256 of the exact body bytes under the secret, so a receiver can tell selfmodel's
    POSTs from anyone else's (and compare in constant time, e.g. ``hmac.compare_digest``).

    Connection failures, timeouts, 429 and 5xx are retried after ``WEBHOOK_BACKOFF_S`` · 2ⁿ
    seconds; any other answer (a 4xx: the receiver refuses this request, and would again) ends
    the delivery at once. Never raises.
    """
    error: str | None = None
    tried = 0
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"User-Agent": "selfmodel-alerts", "Content-Type": "application/json"}
    if secret:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers[SIGNATURE_HEADER] = f"sha256={digest}"
    with httpx.Client(timeout=timeout_s, follow_redirects=False) as client:
        for tried in range(1, attempts + 1):
            try:
                answer = client.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:MAX_DELIVERY_ERROR_CHARS]
            else:
                if answer.is_success:
                    return DeliveryResult(delivered=True, attempts=tried)
                error = f"HTTP {answer.status_code}: {answer.text}"[:MAX_DELIVERY_ERROR_CHARS]
                if answer.status_code != 429 and answer.status_code < 500:
                    break
            if tried < attempts:
                sleep(WEBHOOK_BACKOFF_S * 2 ** (tried - 1))
    return DeliveryResult(delivered=False, attempts=tried, error=error)


__all__ = [
    "PAYLOAD_TYPE",
    "SIGNATURE_HEADER",
    "WORKSPACE_WEBHOOK_SETTING",
    "AlertBook",
    "AlertChanges",
    "DeliveryResult",
    "post_webhook",
    "regression_finding",
    "regression_key",
]
