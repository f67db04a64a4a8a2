"""Background work: the engine's side of the durable queue (claim, run, wait)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from selfmodel.domain import (
    Job,
    JobRun,
    JobStatus,
    Observation,
    RunOutcome,
)
from selfmodel.engine.observing import Observing
from selfmodel.engine.understanding import prepare, revise
from selfmodel.errors import (
    InvalidInputError,
    JobFailedError,
    LeaseLostError,
    WaitTimeoutError,
)
from selfmodel.telemetry import JOB_SPAN, UPDATE_MEMORY, SpanRecorder, revision_attributes

DEFAULT_WAIT_SECONDS = 30.0
WAIT_POLL_SECONDS = 0.05

logger = logging.getLogger("selfmodel.engine")


class BackgroundWork(Observing):
    """Runs queued ``understand`` jobs and waits for them."""

    # -- background work ---------------------------------------------------------------------
    def process_jobs(
        self,
        worker_id: str,
        *,
        limit: int | None = None,
        lease_seconds: float | None = None,
    ) -> list[JobRun]:
        """Claim up to ``limit`` due jobs (of every workspace) and run them one by one, each
        leased for ``lease_seconds`` (defaults: ``SELFMODEL_WORKER_BATCH``, ``_WORKER_LEASE_S``).

        Each job's revision and its completion commit in one transaction, so a crash at any point
        either leaves the job to be retried or has done it exactly once.
        """
        worker = self._c.settings.worker
        limit = worker.worker_batch if limit is None else limit
        lease_seconds = worker.worker_lease_s if lease_seconds is None else lease_seconds
        if limit <= 0 or lease_seconds <= 0:
            raise InvalidInputError("limit and lease_seconds must be positive")
        jobs = self._c.store.claim_jobs(worker_id, limit, lease_seconds)
        return [self.run_job(job, worker_id) for job in jobs]

    def run_job(self, job: Job, worker_id: str) -> JobRun:
        """Run one job this worker has claimed; failures are recorded on the job, not raised."""
        with self._c.telemetry.span(JOB_SPAN, UPDATE_MEMORY, job.workspace_id) as span:
            span.set(
                {
                    "selfmodel.job_id": job.id,
                    "selfmodel.job.kind": job.kind.value,
                    "selfmodel.job.attempt": job.attempts,
                    "selfmodel.extractor": self._c.extractor.name,
                }
            )
            run = self._run_job(job, worker_id, span)
            span.set(
                {
                    "selfmodel.job.outcome": run.outcome.value,
                    "selfmodel.observations": run.observations,
                }
            )
            if run.outcome in (RunOutcome.RETRY, RunOutcome.DEAD) and run.error:
                # Recorded on the job, not raised: the span says so. The error string quotes
                # the exception's message ("Type: message"), so only the class is named.
                span.fail(run.error.split(":", 1)[0])
            return run

    def _run_job(self, job: Job, worker_id: str, span: SpanRecorder) -> JobRun:
        store = self._c.store
        started = time.perf_counter()
        observations: list[Observation] = []

        def finished(outcome: RunOutcome, error: str | None = None) -> JobRun:
            return JobRun(
                job_id=job.id,
                workspace_id=job.workspace_id,
                user_id=job.user_id,
                outcome=outcome,
                observations=len(observations),
                seconds=time.perf_counter() - started,
                error=error,
            )

        try:
            user = store.get_user_by_id(job.workspace_id, job.user_id)
            if user is None:  # forgotten since: forget deleted the job with everything else
                raise LeaseLostError(f"user {job.user_id} no longer exists")
            span.set(self._c.telemetry.user_attributes(job.workspace_id, [user.external_id]))
            observations = store.get_observations(job.workspace_id, job.observation_ids)
            # Extraction and embedding are the slow part and write nothing: done before the
            # transaction, so other writers are not held up by them.
            prepared = prepare(self._c, user, observations) if observations else None
            with self._c.units.user(job.workspace_id, job.user_id):
                if prepared is not None:
                    span.set(revision_attributes(revise(self._c, prepared)))
                if not store.complete_job(job.id, worker_id):
                    # Roll the revision back: whoever holds the lease now will make it.
                    raise LeaseLostError(f"worker {worker_id} no longer holds job {job.id}")
        except LeaseLostError as exc:
            logger.warning("job lost: %s", exc.message, extra={"job_id": job.id})
            return finished(RunOutcome.LOST, exc.message)
        except Exception as exc:  # any failure is recorded on the job: retried, then dead
            error = f"{type(exc).__name__}: {exc}"
            failed = store.fail_job(job.id, worker_id, error)
            if failed is None:
                return finished(RunOutcome.LOST, error)
            outcome = RunOutcome.DEAD if failed.status == JobStatus.DEAD else RunOutcome.RETRY
            logger.warning(
                "job failed (%s): %s",
                outcome.value,
                error,
                extra={"job_id": job.id, "outcome": outcome.value},
                exc_info=True,
            )
            return finished(outcome, error)
        return finished(RunOutcome.DONE)

    def wait_for(
        self,
        observation_ids: Sequence[str],
        *,
        timeout: float = DEFAULT_WAIT_SECONDS,
        poll_seconds: float = WAIT_POLL_SECONDS,
    ) -> None:
        """Block until the self-model reflects these observations (their jobs are done).

        Raises ``JobFailedError`` if a job covering one of them is dead-lettered, and
        ``WaitTimeoutError`` if they are still pending after ``timeout`` seconds.
        """
        wanted = set(observation_ids)
        if not wanted:
            return
        store = self._c.store
        ws = self.workspace.id
        user_ids = sorted({o.user_id for o in store.get_observations(ws, sorted(wanted))})
        deadline = time.monotonic() + timeout
        unfinished = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DEAD)
        while True:
            pending = [
                job
                for user_id in user_ids
                for job in store.list_jobs(ws, user_id=user_id, statuses=unfinished)
                if wanted.intersection(job.observation_ids)
            ]
            dead = [job for job in pending if job.status == JobStatus.DEAD]
            if dead:
                raise JobFailedError(
                    f"job {dead[0].id} failed for good: {dead[0].last_error}", job_id=dead[0].id
                )
            if not pending:
                break
            if time.monotonic() >= deadline:
                raise WaitTimeoutError(
                    f"{len(pending)} job(s) still pending after {timeout:g} s",
                    job_ids=[job.id for job in pending],
                )
            time.sleep(poll_seconds)
