"""``Worker``: runs queued background jobs until told to stop, and the retention policies.

Each of ``concurrency`` threads claims a batch of due jobs, runs them (see
``SelfModel.process_jobs``), and sleeps briefly when there is nothing to do. Every
``SELFMODEL_WORKER_RETENTION_INTERVAL_S`` the worker applies each workspace's retention policy
(``SelfModel.run_retention``); of several workers, the first to claim a workspace's run does it.
Drift is checked the same way: every ``SELFMODEL_WORKER_DRIFT_INTERVAL_S`` per workspace, and at
once for a workspace that asked for a check (``request_drift_check``, ``POST
/v1/eval/drift-checks``); each check raises, refreshes or resolves alerts and POSTs new ones to
the webhook (``SelfModel.check_drift``).
Unless given, the numbers are the engine's worker settings (``SELFMODEL_WORKER_*``). Stopping
is graceful: the batch in hand is finished, nothing new is claimed. A worker killed outright
loses nothing — its leases expire and another worker (or this one, restarted) takes the jobs
over.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from selfmodel.domain import JobRun, RunOutcome
from selfmodel.domain.time import utcnow
from selfmodel.engine import DriftCheck, SelfModel
from selfmodel.errors import InvalidInputError, SelfModelError
from selfmodel.storage import QueueStore

# Finished jobs are kept this long for inspection, then purged (dead ones are kept until handled).
DONE_RETENTION = timedelta(days=7)
PURGE_EVERY_SECONDS = 3_600.0
# How often a worker looks for drift checks asked for on demand: one cheap query a second.
DRIFT_REQUEST_POLL_SECONDS = 1.0
# After an unexpected error (e.g. the database restarting) a thread backs off this long.
ERROR_BACKOFF_SECONDS = 2.0

logger = logging.getLogger("selfmodel.worker")


def default_worker_id() -> str:
    """``host:pid``: unique per process, and says where to look when a job is stuck."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class WorkerStats:
    """What a worker did, by outcome."""

    outcomes: Counter[str] = field(default_factory=Counter)
    observations: int = 0
    seconds: float = 0.0

    @property
    def jobs(self) -> int:
        return sum(self.outcomes.values())

    def add(self, run: JobRun) -> None:
        self.outcomes[run.outcome.value] += 1
        self.observations += run.observations


class Worker:
    """Processes the durable queue of one store with a few threads."""

    def __init__(
        self,
        sm: SelfModel,
        *,
        worker_id: str | None = None,
        concurrency: int | None = None,
        batch: int | None = None,
        lease_seconds: float | None = None,
        idle_sleep: float | None = None,
        on_run: Callable[[JobRun], None] | None = None,
        retention_interval: float | None = None,
        drift_interval: float | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        settings = sm.settings.worker
        self.concurrency = settings.worker_concurrency if concurrency is None else concurrency
        self.batch = settings.worker_batch if batch is None else batch
        self.lease_seconds = settings.worker_lease_s if lease_seconds is None else lease_seconds
        self.idle_sleep = settings.worker_idle_s if idle_sleep is None else idle_sleep
        self.retention_interval = (
            settings.worker_retention_interval_s
            if retention_interval is None
            else retention_interval
        )
        self.drift_interval = (
            settings.worker_drift_interval_s if drift_interval is None else drift_interval
        )
        if self.drift_interval <= 0:
            raise InvalidInputError("drift_interval must be positive")
        if self.concurrency <= 0 or self.batch <= 0 or self.lease_seconds <= 0:
            raise InvalidInputError("concurrency, batch and lease must be positive")
        if self.retention_interval <= 0:
            raise InvalidInputError("retention_interval must be positive")
        if self.idle_sleep < 0:
            raise InvalidInputError("idle_sleep must not be negative")
        self.sm = sm
        # Jobs are claimed and run through the engine; the worker itself only purges the queue.
        self.queue: QueueStore = sm.store
        self.worker_id = worker_id or default_worker_id()
        self.on_run = on_run  # e.g. the server's metrics
        self.stats = WorkerStats()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._last_purge = 0.0
        self._last_retention: float | None = None
        self._last_drift: float | None = None
        self._last_drift_poll = 0.0
        # What "now" is for retention policies (tests age the data by moving it).
        self.clock = clock

    def stop(self) -> None:
        """Ask every thread to finish its batch in hand and return."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self, *, until_idle: bool = False) -> WorkerStats:
        """Run until ``stop()`` (or, with ``until_idle``, until no job is due). Blocks."""
        started = time.perf_counter()
        logger.info(
            "worker started",
            extra={
                "worker_id": self.worker_id,
                "concurrency": self.concurrency,
                "batch": self.batch,
                "lease_seconds": self.lease_seconds,
            },
        )
        threads = [
            threading.Thread(
                target=self._loop,
                args=(f"{self.worker_id}/{i}", until_idle),
                name=f"selfmodel-worker-{i}",
                daemon=True,
            )
            for i in range(self.concurrency)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.stats.seconds = time.perf_counter() - started
        logger.info(
            "worker stopped",
            extra={
                "worker_id": self.worker_id,
                "jobs": self.stats.jobs,
                "outcomes": dict(self.stats.outcomes),
                "seconds": round(self.stats.seconds, 3),
            },
        )
        return self.stats

    def start(self) -> threading.Thread:
        """Run in a background thread (e.g. inside ``selfmodel serve``); ``stop()`` ends it."""
        thread = threading.Thread(target=self.run, name="selfmodel-worker", daemon=True)
        thread.start()
        return thread

    def _loop(self, thread_id: str, until_idle: bool) -> None:
        while not self._stop.is_set():
            try:
                runs = self.sm.process_jobs(
                    thread_id, limit=self.batch, lease_seconds=self.lease_seconds
                )
                self._maybe_purge()
                self._maybe_run_retention()
                self._maybe_check_drift()
            except SelfModelError as exc:
                logger.error("worker error: %s", exc.message, extra={"worker_id": thread_id})
                self._stop.wait(ERROR_BACKOFF_SECONDS)
                continue
            except Exception:  # a database restart or network blip: log, back off, go on
                logger.exception("worker error", extra={"worker_id": thread_id})
                self._stop.wait(ERROR_BACKOFF_SECONDS)
                continue
            for run in runs:
                with self._lock:
                    self.stats.add(run)
                if self.on_run is not None:
                    self.on_run(run)
                level = logging.INFO if run.outcome == RunOutcome.DONE else logging.WARNING
                logger.log(
                    level,
                    "job %s",
                    run.outcome.value,
                    extra={
                        "worker_id": thread_id,
                        "job_id": run.job_id,
                        "user_id": run.user_id,
                        "outcome": run.outcome.value,
                        "observations": run.observations,
                        "ms": round(run.seconds * 1000, 1),
                        "error": run.error,
                    },
                )
            if not runs:
                if until_idle:
                    return
                self._stop.wait(self.idle_sleep)

    def _maybe_purge(self) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last_purge < PURGE_EVERY_SECONDS:
                return
            self._last_purge = now
        purged = self.queue.purge_jobs(utcnow() - DONE_RETENTION)
        if purged:
            logger.info("purged finished jobs", extra={"count": purged})

    def _maybe_run_retention(self) -> None:
        """Apply each workspace's retention policy, once per interval across all workers."""
        now = time.monotonic()
        with self._lock:
            last = self._last_retention
            if last is not None and now - last < self.retention_interval:
                return
            self._last_retention = now
        self.run_retention()

    def _maybe_check_drift(self) -> None:
        """Scheduled drift checks once per interval; checks asked for, within a second."""
        now = time.monotonic()
        with self._lock:
            scheduled = self._last_drift is None or now - self._last_drift >= self.drift_interval
            polled = now - self._last_drift_poll >= DRIFT_REQUEST_POLL_SECONDS
            if scheduled:
                self._last_drift = now
            if scheduled or polled:
                self._last_drift_poll = now
        if scheduled:
            self.run_drift_checks()
        elif polled and self.sm.store.drift_check_requests():
            self.run_drift_checks(requested_only=True)

    def run_drift_checks(self, *, requested_only: bool = False) -> list[DriftCheck]:
        """Check every workspace whose drift check is due (asked for, or none within the
        interval, by any worker) and act on it: alerts raised, refreshed, resolved, delivered.

        A check that fails is logged and the next workspace checked: one workspace's broken data
        must not stop the others' checks nor the worker.
        """
        moment = self.clock()
        due_before = moment - timedelta(seconds=self.drift_interval)
        if requested_only:
            wanted = set(self.sm.store.drift_check_requests())
            workspaces = [w for w in self.sm.store.list_workspaces() if w.id in wanted]
        else:
            workspaces = self.sm.store.list_workspaces()
        checks = []
        for workspace in workspaces:
            if not self.sm.store.claim_drift_check(workspace.id, moment, due_before):
                continue  # another worker checked it within the interval
            try:
                check = self.sm.for_workspace(workspace).check_drift(now=moment)
            except Exception:  # logged with its traceback; the other workspaces still run
                logger.exception("drift check failed", extra={"workspace": workspace.name})
                continue
            checks.append(check)
            logger.info(
                "drift checked",
                extra={
                    "workspace": workspace.name,
                    "raised": [a.key for a in check.changes.raised],
                    "seen_again": [a.key for a in check.changes.seen_again],
                    "resolved": [a.key for a in check.changes.resolved],
                },
            )
        return checks

    def run_retention(self) -> int:
        """Apply every workspace's retention policy whose run is due (none ran within the
        interval, by any worker). Returns the rows deleted."""
        deleted = 0
        moment = self.clock()
        for workspace in self.sm.store.list_workspaces():
            if self.sm.store.get_retention_policy(workspace.id).keeps_everything:
                continue
            due_before = moment - timedelta(seconds=self.retention_interval)
            if not self.sm.store.claim_retention_run(workspace.id, moment, due_before):
                continue  # another worker ran it within the interval
            report = self.sm.for_workspace(workspace).run_retention(now=moment)
            deleted += report.rows
            for deletion in report.deletions:
                level = logging.INFO if deletion.verified else logging.ERROR
                logger.log(
                    level,
                    "retention deleted %s rows",
                    deletion.total,
                    extra={
                        "workspace": workspace.name,
                        "action": deletion.action.value,
                        "policy": deletion.policy,
                        "subject": deletion.subject,
                        "verified": deletion.verified,
                    },
                )
        return deleted


__all__ = ["Worker", "WorkerStats", "default_worker_id"]
