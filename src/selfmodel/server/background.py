"""The in-process worker ``selfmodel serve`` runs for the embedded default (one thread).

Separate worker processes (``selfmodel worker``) do the same through ``SelfModel.process_jobs``;
this thread exists so a single ``serve`` on SQLite needs nothing else running.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from selfmodel.domain.jobs import RunOutcome
from selfmodel.engine import SelfModel
from selfmodel.errors import SelfModelError
from selfmodel.server.metrics import ServerMetrics

log = logging.getLogger("selfmodel.server.worker")

# How long the thread sleeps when the queue is empty; bounds the latency of wait=false work.
IDLE_POLL_SECONDS = 0.1
# How long stop() waits for a job in progress before giving up on the thread (it is a daemon;
# an unfinished job's lease expires and another worker retries it).
STOP_TIMEOUT_SECONDS = 30.0


class InProcessWorker:
    """A daemon thread claiming and running queued jobs until stopped."""

    def __init__(self, engine: SelfModel, metrics: ServerMetrics) -> None:
        self.engine = engine
        self.metrics = metrics
        self.worker_id = f"serve:{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="selfmodel-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_SECONDS)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                runs = self.engine.process_jobs(self.worker_id)
            except SelfModelError as exc:
                # The store is unusable for now (e.g. locked); back off and try again.
                log.warning("worker could not claim jobs: %s", exc.message)
                self._stop.wait(IDLE_POLL_SECONDS)
                continue
            for run in runs:
                if run.outcome == RunOutcome.DONE:
                    self.metrics.extracted.inc(run.observations)
            if not runs:
                self._stop.wait(IDLE_POLL_SECONDS)


__all__ = ["InProcessWorker"]
