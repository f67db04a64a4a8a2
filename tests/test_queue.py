"""The engine over the durable queue, on both backends: ``observe(wait=False)`` →
``process_jobs`` → ``wait_for``, retries and dead letters as the engine sees them. The queue's own
contract (claims, leases, backoff) is in tests/store_contract/test_queue.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from selfmodel import SelfModel
from selfmodel.domain import JobKind, JobStatus, RunOutcome
from selfmodel.domain.jobs import retry_delay
from selfmodel.domain.time import utcnow
from selfmodel.errors import JobFailedError, WaitTimeoutError
from selfmodel.extraction import CandidateBelief, ExtractionRequest
from selfmodel.worker import Worker
from tests.support.workers import CHANGING_CONVERSATION, self_model_rows

LEASE = 30.0


def test_backoff_doubles_and_is_capped() -> None:
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert retry_delay(50) == timedelta(minutes=5)


# -- the engine over the queue -----------------------------------------------------------------
def test_observe_without_waiting_stores_now_and_understands_when_a_worker_runs(
    any_sm: SelfModel,
) -> None:
    result = any_sm.observe("maya", "I love hiking. I'm a nurse.", wait=False)
    assert result.job_id is not None and len(result.new_observation_ids) == 1
    assert result.created == []
    assert any_sm.beliefs("maya") == []  # not understood yet
    assert len(any_sm.export("maya")["observations"]) == 1  # but stored
    with pytest.raises(WaitTimeoutError):
        any_sm.wait_for(result.new_observation_ids, timeout=0.1)

    runs = any_sm.process_jobs("w1")

    assert [r.outcome for r in runs] == [RunOutcome.DONE]
    any_sm.wait_for(result.new_observation_ids, timeout=1)
    statements = " | ".join(b.statement for b in any_sm.beliefs("maya"))
    assert "hiking" in statements and "nurse" in statements
    assert any_sm.process_jobs("w1") == []


def test_queued_and_inline_observing_build_the_same_self_model(
    any_sm: SelfModel,
) -> None:
    messages = ["I love hiking.", "I'm a nurse.", "I love hiking in the mountains."]
    inline = any_sm.in_workspace("inline")
    queued = any_sm.in_workspace("queued")
    for text in messages:
        inline.observe("maya", text)
        queued.observe("maya", text, wait=False)
    while queued.process_jobs("w", limit=2):
        pass

    def shape(sm: SelfModel) -> list[tuple[str, int]]:
        return sorted((b.statement, b.support_count) for b in sm.beliefs("maya"))

    assert shape(queued) == shape(inline)


def test_a_job_whose_observations_were_already_understood_changes_nothing(
    any_sm: SelfModel,
) -> None:
    result = any_sm.observe("maya", "I love hiking.", wait=False)
    any_sm.process_jobs("w1")
    read_at = utcnow()  # one moment for both reads: confidence is computed as of the read
    before = [(b.id, b.support_count, b.confidence) for b in any_sm.beliefs("maya", now=read_at)]
    # Redeliver the same work, as after a crash between the revision and the acknowledgement.
    store = any_sm.store
    user = any_sm.user("maya")
    store.enqueue_job(
        any_sm.workspace.id,
        user.id,
        JobKind.UNDERSTAND,
        {"observation_ids": result.new_observation_ids},
        max_attempts=3,
    )
    assert [r.outcome for r in any_sm.process_jobs("w2")] == [RunOutcome.DONE]
    after = any_sm.beliefs("maya", now=read_at)
    assert [(b.id, b.support_count, b.confidence) for b in after] == before


class _BrokenExtractor:
    """An extractor whose backend is down: every call fails."""

    name = "broken"

    def extract(self, requests: list[ExtractionRequest]) -> list[CandidateBelief]:
        raise ConnectionError("extraction backend unreachable")


def test_a_failing_job_is_retried_then_dead_lettered_and_wait_for_reports_it(
    db_location: str, embedder: object
) -> None:
    with SelfModel.open(
        db_location,
        embedder=embedder,  # type: ignore[arg-type]
        extractor=_BrokenExtractor(),  # type: ignore[arg-type]
    ) as sm:
        result = sm.observe("maya", "I love hiking.", wait=False)
        (run,) = sm.process_jobs("w1")
        assert run.outcome == RunOutcome.RETRY
        assert run.error is not None and "unreachable" in run.error
        job = sm.store.get_job(run.job_id)
        assert job is not None and job.status == JobStatus.QUEUED
        assert sm.beliefs("maya") == []  # the failed attempt left nothing behind
        with pytest.raises(WaitTimeoutError):
            sm.wait_for(result.new_observation_ids, timeout=0.1)
        # Let the remaining attempts fail, skipping the backoff waits.
        later = utcnow()
        for _ in range(job.max_attempts - 1):
            later += timedelta(minutes=10)
            (claimed,) = sm.store.claim_jobs("w1", 1, LEASE, now=later)
            sm.run_job(claimed, "w1")
        dead = sm.store.get_job(run.job_id)
        assert dead is not None and dead.status == JobStatus.DEAD
        with pytest.raises(JobFailedError, match="unreachable"):
            sm.wait_for(result.new_observation_ids, timeout=1)


def test_forgetting_a_user_removes_their_queued_work(any_sm: SelfModel) -> None:
    any_sm.observe("maya", "I love hiking.", wait=False)
    any_sm.observe("bob", "I love chess.", wait=False)
    any_sm.forget("maya")
    assert {j.user_id for j in any_sm.store.list_jobs()} == {any_sm.user("bob").id}
    runs = any_sm.process_jobs("w1")
    assert [r.outcome for r in runs] == [RunOutcome.DONE]


def test_queued_understanding_gives_the_self_model_inline_observing_gives(
    any_sm: SelfModel,
) -> None:
    sm = any_sm
    # One message per call, as a chat sends them; the queued user's jobs go to two concurrent
    # workers, which must still revise that user's self-model in the order it was told.
    for day, text in enumerate(CHANGING_CONVERSATION, start=1):
        at = datetime(2024, 3, day, 9, tzinfo=UTC)
        sm.observe("inline", text, at=at)
        sm.observe("queued", text, at=at, wait=False)
    Worker(sm, concurrency=2, batch=1).run(until_idle=True)
    assert self_model_rows(sm, "queued") == self_model_rows(sm, "inline")
