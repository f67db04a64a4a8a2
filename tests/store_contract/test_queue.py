"""``QueueStore``: the durable queue's claims, leases, retries and dead letters (the engine's use of
it is in tests/test_queue.py)."""

from __future__ import annotations

import threading
from datetime import timedelta

from selfmodel.domain import JobStatus, User, Workspace
from selfmodel.domain.jobs import retry_delay
from selfmodel.domain.time import utcnow
from selfmodel.storage import QueueStore, Store, open_store
from tests.store_contract.records import enqueue
from tests.support.statements import PostgresStatements, SQLiteStatements, is_write

LEASE = 30.0


def test_a_claimed_job_is_leased_to_its_worker_and_completed_once(
    store: QueueStore, maya: User
) -> None:
    (job,) = enqueue(store, maya)
    assert job.status == JobStatus.QUEUED and job.observation_ids == ["obs_0"]
    assert store.get_job(job.id) == job
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
    assert store.get_job("job_missing") is None


def test_a_poll_finding_nothing_due_is_one_read(
    statements: SQLiteStatements | PostgresStatements, store: QueueStore, maya: User
) -> None:
    """An idle worker polls several times a second: with nothing due (the queue empty, or a
    job's time not come) a claim reads once and writes nothing — no transaction for writers
    to wait on. Once the job is due, it is claimed."""
    (job,) = enqueue(store, maya)
    statements.take()
    assert store.claim_jobs("w1", 10, LEASE, now=utcnow() - timedelta(hours=1)) == []
    (poll,) = statements.take()
    assert not is_write(poll) and "FROM jobs" in poll, poll
    (claimed,) = store.claim_jobs("w1", 10, LEASE)
    assert claimed.id == job.id
    store.complete_job(job.id, "w1")
    statements.take()
    assert store.claim_jobs("w1", 10, LEASE) == []
    assert len(statements.take()) == 1


def test_claims_respect_the_limit_and_take_the_oldest_first(
    store: Store, ws: Workspace, maya: User
) -> None:
    users = [maya, *(store.get_or_create_user(ws.id, f"user-{i}") for i in range(4))]
    jobs = [job for user in users for job in enqueue(store, user)]
    first = store.claim_jobs("w1", 2, LEASE)
    oldest = sorted(jobs, key=lambda j: (j.run_after, j.id))[:2]  # ties: same microsecond
    assert {j.id for j in first} == {j.id for j in oldest}
    assert store.queue_depth() == 5
    counts = store.job_counts()
    assert (counts[JobStatus.QUEUED], counts[JobStatus.RUNNING]) == (3, 2)


def test_a_users_jobs_are_handed_out_one_at_a_time_in_order(
    store: Store, ws: Workspace, maya: User
) -> None:
    first, second, third = enqueue(store, maya, 3)
    (bobs,) = enqueue(store, store.get_or_create_user(ws.id, "bob"))
    assert {j.id for j in store.claim_jobs("w1", 10, LEASE)} == {first.id, bobs.id}
    assert store.claim_jobs("w2", 10, LEASE) == []  # maya's next waits for her first
    assert store.complete_job(first.id, "w1")
    (claimed,) = store.claim_jobs("w2", 10, LEASE)
    assert claimed.id == second.id
    # A failed job waiting out its backoff still holds the user's later jobs back: a retry is
    # never overtaken.
    now = utcnow()
    store.fail_job(second.id, "w2", "ValueError: boom", now=now)
    assert store.claim_jobs("w3", 10, LEASE, now=now) == []
    (retried,) = store.claim_jobs("w3", 10, LEASE, now=now + retry_delay(1))
    assert retried.id == second.id
    assert store.complete_job(second.id, "w3")
    assert [j.id for j in store.claim_jobs("w3", 10, LEASE)] == [third.id]


def test_a_failed_job_waits_out_its_backoff_then_runs_again(store: QueueStore, maya: User) -> None:
    (job,) = enqueue(store, maya)
    now = utcnow()
    store.claim_jobs("w1", 1, LEASE, now=now)
    failed = store.fail_job(job.id, "w1", "ValueError: boom", now=now)
    assert failed is not None and failed.status == JobStatus.QUEUED
    assert failed.last_error == "ValueError: boom"
    assert failed.run_after == now + retry_delay(1)
    assert store.claim_jobs("w1", 1, LEASE, now=now + retry_delay(1) / 2) == []
    (again,) = store.claim_jobs("w1", 1, LEASE, now=now + retry_delay(1))
    assert again.attempts == 2


def test_a_job_that_keeps_failing_is_dead_lettered_after_max_attempts(
    store: QueueStore, maya: User
) -> None:
    (job,) = enqueue(store, maya, max_attempts=2)
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


def test_a_long_error_keeps_its_tail(store: QueueStore, maya: User) -> None:
    (job,) = enqueue(store, maya)
    store.claim_jobs("w1", 1, LEASE)
    failed = store.fail_job(job.id, "w1", "x" * 5_000 + "the cause")
    assert failed is not None and failed.last_error is not None
    assert len(failed.last_error) < 5_000 and failed.last_error.endswith("the cause")


def test_an_expired_lease_is_taken_over_and_the_old_worker_cannot_finish(
    store: QueueStore, maya: User
) -> None:
    (job,) = enqueue(store, maya)
    now = utcnow()
    store.claim_jobs("crashed", 1, 10, now=now)
    assert store.claim_jobs("w2", 1, 10, now=now + timedelta(seconds=5)) == []
    (taken,) = store.claim_jobs("w2", 1, 10, now=now + timedelta(seconds=11))
    assert (taken.locked_by, taken.attempts) == ("w2", 2)
    assert store.complete_job(job.id, "crashed") is False
    assert store.fail_job(job.id, "crashed", "late") is None
    assert store.complete_job(job.id, "w2") is True


def test_an_expired_lease_on_the_last_attempt_goes_to_the_dead_letters(
    store: QueueStore, maya: User
) -> None:
    (job,) = enqueue(store, maya, max_attempts=1)
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
    (mine,) = enqueue(store, maya)
    (his,) = enqueue(store, bob)
    assert [j.id for j in store.list_jobs(ws.id, user_id=bob.id)] == [his.id]
    assert store.list_jobs("ws_other") == []
    assert len(store.list_jobs(ws.id, limit=1)) == 1
    store.claim_jobs("w", 10, LEASE)
    store.complete_job(mine.id, "w")
    assert [j.id for j in store.list_jobs(ws.id, statuses=(JobStatus.DONE,))] == [mine.id]
    assert store.purge_jobs(utcnow() - timedelta(minutes=1)) == 0  # too recent
    assert store.purge_jobs(utcnow() + timedelta(minutes=1)) == 1
    assert [j.id for j in store.list_jobs(ws.id)] == [his.id]


def test_counts_cover_every_status_and_are_per_workspace(
    store: Store, ws: Workspace, maya: User
) -> None:
    other = store.get_or_create_workspace("other")
    enqueue(store, store.get_or_create_user(other.id, "zoe"), 2)
    enqueue(store, maya)
    assert store.job_counts(ws.id) == {**dict.fromkeys(JobStatus, 0), JobStatus.QUEUED: 1}
    assert store.job_counts()[JobStatus.QUEUED] == 3
    assert (store.queue_depth(ws.id), store.queue_depth(other.id)) == (1, 2)


def test_concurrent_claimers_never_get_the_same_job_and_keep_each_users_order(
    store: Store, db_location: str, ws: Workspace, maya: User
) -> None:
    per_user = 30
    users = [maya, store.get_or_create_user(ws.id, "bob")]
    queued = {user.id: [j.id for j in enqueue(store, user, per_user)] for user in users}
    total = per_user * len(users)
    done: list[tuple[str, str]] = []  # (user, job) in the order their work finished
    lock = threading.Lock()

    def claimer(name: str) -> None:
        own = open_store(db_location)  # its own connection(s), as a separate process would
        try:
            while True:
                with lock:
                    if len(done) == total:
                        return
                for job in own.claim_jobs(name, 3, LEASE):
                    with lock:
                        done.append((job.user_id, job.id))
                    assert own.complete_job(job.id, name)
        finally:
            own.close()

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(done) == total and len(set(done)) == total
    for user in users:
        assert [job for owner, job in done if owner == user.id] == queued[user.id]
