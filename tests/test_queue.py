"""The durable queue on both backends: claims, leases, retries, dead letters, and the engine's
``observe(wait=False)`` → ``process_jobs`` → ``wait_for`` path."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from selfmodel import SelfModel
from selfmodel.domain import Job, JobKind, JobStatus, RunOutcome, User, Workspace
from selfmodel.domain.jobs import retry_delay
from selfmodel.domain.time import utcnow
from selfmodel.errors import JobFailedError, WaitTimeoutError
from selfmodel.extraction import CandidateBelief, ExtractionRequest
from selfmodel.storage import Store, open_store

LEASE = 30.0


@pytest.fixture
def ws(store: Store) -> Workspace:
    return store.get_or_create_workspace("acme")


@pytest.fixture
def maya(store: Store, ws: Workspace) -> User:
    return store.get_or_create_user(ws.id, "maya")


def _enqueue(store: Store, user: User, n: int = 1, max_attempts: int = 3) -> list[Job]:
    return [
        store.enqueue_job(
            user.workspace_id,
            user.id,
            JobKind.UNDERSTAND,
            {"observation_ids": [f"obs_{i}"]},
            max_attempts=max_attempts,
        )
        for i in range(n)
    ]


def test_a_claimed_job_is_leased_to_its_worker_and_completed_once(store: Store, maya: User) -> None:
    (job,) = _enqueue(store, maya)
    assert job.status == JobStatus.QUEUED and job.observation_ids == ["obs_0"]
    (claimed,) = store.claim_jobs("w1", 10, LEASE)
    assert (claimed.id, claimed.status, claimed.attempts, claimed.locked_by) == (
        job.id,
        JobStatus.RUNNING,
        1,
        "w1",
    )
    assert store.claim_jobs("w2", 10, LEASE) == []  # leased: nobody else gets it
    assert store.complete_job(job.id, "w2") is False  # not w2's to finish
    assert store.complete_job(job.id, "w1") is True
    assert store.complete_job(job.id, "w1") is False
    done = store.get_job(job.id)
    assert done is not None and done.status == JobStatus.DONE


def test_claims_respect_the_limit_and_take_the_oldest_first(store: Store, maya: User) -> None:
    jobs = _enqueue(store, maya, 5)
    first = store.claim_jobs("w1", 2, LEASE)
    oldest = sorted(jobs, key=lambda j: (j.run_after, j.id))[:2]  # ties: same microsecond
    assert {j.id for j in first} == {j.id for j in oldest}
    assert store.queue_depth() == 5
    counts = store.job_counts()
    assert (counts[JobStatus.QUEUED], counts[JobStatus.RUNNING]) == (3, 2)


def test_a_failed_job_waits_out_its_backoff_then_runs_again(store: Store, maya: User) -> None:
    (job,) = _enqueue(store, maya)
    now = utcnow()
    store.claim_jobs("w1", 1, LEASE, now=now)
    failed = store.fail_job(job.id, "w1", "ValueError: boom", now=now)
    assert failed is not None and failed.status == JobStatus.QUEUED
    assert failed.last_error == "ValueError: boom"
    assert failed.run_after == now + retry_delay(1)
    assert store.claim_jobs("w1", 1, LEASE, now=now + retry_delay(1) / 2) == []
    (again,) = store.claim_jobs("w1", 1, LEASE, now=now + retry_delay(1))
    assert again.attempts == 2


def test_backoff_doubles_and_is_capped() -> None:
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert retry_delay(50) == timedelta(minutes=5)


def test_a_job_that_keeps_failing_is_dead_lettered_after_max_attempts(
    store: Store, maya: User
) -> None:
    (job,) = _enqueue(store, maya, max_attempts=2)
    now = utcnow()
    for attempt in (1, 2):
        (claimed,) = store.claim_jobs("w1", 1, LEASE, now=now)
        assert claimed.attempts == attempt
        result = store.fail_job(job.id, "w1", f"error {attempt}", now=now)
        assert result is not None
        now = now + retry_delay(attempt)
    dead = store.get_job(job.id)
    assert dead is not None and dead.status == JobStatus.DEAD and dead.last_error == "error 2"
    assert store.claim_jobs("w1", 1, LEASE, now=now + timedelta(hours=1)) == []
    assert store.list_jobs(statuses=(JobStatus.DEAD,)) == [dead]
    assert store.queue_depth() == 0


def test_an_expired_lease_is_taken_over_and_the_old_worker_cannot_finish(
    store: Store, maya: User
) -> None:
    (job,) = _enqueue(store, maya)
    now = utcnow()
    store.claim_jobs("crashed", 1, 10, now=now)
    assert store.claim_jobs("w2", 1, 10, now=now + timedelta(seconds=5)) == []
    (taken,) = store.claim_jobs("w2", 1, 10, now=now + timedelta(seconds=11))
    assert (taken.locked_by, taken.attempts) == ("w2", 2)
    assert store.complete_job(job.id, "crashed") is False
    assert store.fail_job(job.id, "crashed", "late") is None
    assert store.complete_job(job.id, "w2") is True


def test_an_expired_lease_on_the_last_attempt_goes_to_the_dead_letters(
    store: Store, maya: User
) -> None:
    (job,) = _enqueue(store, maya, max_attempts=1)
    now = utcnow()
    store.claim_jobs("crashed", 1, 10, now=now)
    assert store.claim_jobs("w2", 1, 10, now=now + timedelta(seconds=11)) == []
    dead = store.get_job(job.id)
    assert dead is not None and dead.status == JobStatus.DEAD
    assert dead.last_error is not None and "crashed" in dead.last_error


def test_jobs_are_listed_by_workspace_user_and_status_and_old_done_ones_purged(
    store: Store, ws: Workspace, maya: User
) -> None:
    bob = store.get_or_create_user(ws.id, "bob")
    (mine,) = _enqueue(store, maya)
    (his,) = _enqueue(store, bob)
    assert [j.id for j in store.list_jobs(ws.id, user_id=bob.id)] == [his.id]
    assert store.list_jobs("ws_other") == []
    assert len(store.list_jobs(ws.id, limit=1)) == 1
    store.claim_jobs("w", 10, LEASE)
    store.complete_job(mine.id, "w")
    assert store.purge_jobs(utcnow() - timedelta(minutes=1)) == 0  # too recent
    assert store.purge_jobs(utcnow() + timedelta(minutes=1)) == 1
    assert [j.id for j in store.list_jobs(ws.id)] == [his.id]


def test_concurrent_claimers_never_get_the_same_job(
    store: Store, db_location: str, maya: User
) -> None:
    total = 60
    _enqueue(store, maya, total)
    claimed: list[str] = []
    lock = threading.Lock()

    def claimer(name: str) -> None:
        own = open_store(db_location)  # its own connection(s), as a separate process would
        try:
            while True:
                jobs = own.claim_jobs(name, 3, LEASE)
                if not jobs:
                    return
                with lock:
                    claimed.extend(j.id for j in jobs)
        finally:
            own.close()

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == total
    assert len(set(claimed)) == total


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
