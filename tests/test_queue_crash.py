"""Queued ≡ inline, even with a worker killed at random points (issue 11).

The same generated conversations are observed three ways, into three workspaces of one store:
inline (understood in the ``observe`` call), queued (understood by an in-process worker with two
threads) and queued for ``selfmodel worker`` processes that are killed with SIGKILL at random
moments mid-job and replaced, the replacement taking the dead worker's jobs over once their
leases expire (the last replacement, never killed, is a worker in this process). All three
self-models must be the same belief by belief: statement, kind, status, confidence to 1e-9 and
evidence.
"""

from __future__ import annotations

import random
import signal
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from selfmodel import SelfModel
from selfmodel.domain import JobStatus
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.storage import Store
from selfmodel.worker import Worker
from tests.support.workers import (
    CHANGING_CONVERSATION,
    assert_each_observation_counted_once,
    counts,
    self_model_rows,
    start_worker,
    wait_until,
    worker_in_process,
)

# What people tell a chat over some weeks. Mostly facts whose order matters — where they live and
# work (one value at a time: the later supersedes), likes that are later denied — so revising a
# retried job after later ones shows; plus a repeat (reinforcement), a hedge and a request.
STATEMENTS = [
    *CHANGING_CONVERSATION,
    "I love coffee in the morning.",
    "I work as a teacher now.",
    "I live in Bristol these days.",
    "I think I might take up the piano.",
]
USERS = 3
MESSAGES_PER_USER = 7
FIRST_DAY = datetime(2024, 3, 1, 9, tzinfo=UTC)
# Seeds whose kills, before per-user ordered claims, did revise a retried job after later ones
# and changed a self-model (the test failed on them then).
SEEDS = [3]
# Two killed worker processes, then the in-process successor takes over at once, before their
# leases expire: with claims that ignore a user's order this failed in 5 runs of 5 (on one
# backend or both), where three kills failed in 2 of 3.
KILLS = 2
LEASE_S = 1.5
# A kill lands up to this long after the worker is seen holding a job: somewhere inside its work
# (a one-message job takes tens of milliseconds: its message and statements embed in one pass).
KILL_DELAY_MAX_S = 0.05
# Workers started in all: a kill that lands just after the worker finished its jobs is tried
# again with another, until KILLS kills have caught jobs in hand.
MAX_WORKERS = 8
PROCESS_TIMEOUT_S = 120.0


def conversation(rng: random.Random) -> list[tuple[datetime, str]]:
    """One user's messages: a random pick of the statements, one said twice on another day,
    spread over the days in order (two messages sometimes share a day)."""
    picked = rng.sample(STATEMENTS, MESSAGES_PER_USER - 1)
    picked.insert(rng.randrange(1, len(picked) + 1), picked[0])
    day = 0
    messages = []
    for text in picked:
        day += rng.choice((0, 1, 1, 2))
        messages.append((FIRST_DAY + timedelta(days=day, minutes=len(messages)), text))
    return messages


def _time_to_kill(store: Store, worker: str, done: int) -> bool:
    """Whether ``done`` jobs are done in all and ``worker``'s threads hold a leased one now —
    or nothing is left to do (the kill then finds the worker idle: a random point too)."""
    if store.queue_depth() == 0:
        return True
    if counts(store)[JobStatus.DONE] < done:
        return False
    running = store.list_jobs(statuses=[JobStatus.RUNNING])
    return any((j.locked_by or "").startswith(f"{worker}/") for j in running)


def kill_at_random_points(
    location: str,
    store: Store,
    embedder: SentenceTransformerEmbedder,
    rng: random.Random,
    log_dir: Path,
) -> list[str]:
    """Run the queue with worker processes, SIGKILLing them at random points until ``KILLS``
    kills have caught jobs in hand; the last replacement, in this process (see
    ``worker_in_process``), runs until every job is done. Returns the names of the workers
    killed mid-job."""
    killed: list[str] = []
    number = 0
    while len(killed) < KILLS and number < MAX_WORKERS and store.queue_depth():
        name = f"worker{number}"
        number += 1
        # A replacement loads its model while the dead worker's leases run out.
        process = start_worker(location, name, log_dir, lease=LEASE_S, batch=rng.randint(1, 3))
        try:
            target = counts(store)[JobStatus.DONE] + rng.randint(0, 3)  # jobs done before it
            wait_until(
                partial(_time_to_kill, store, name, target),
                PROCESS_TIMEOUT_S,
                f"{name} to hold a job",
            )
            time.sleep(rng.uniform(0, KILL_DELAY_MAX_S))
        finally:
            process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
        running = store.list_jobs(statuses=[JobStatus.RUNNING])
        if any((j.locked_by or "").startswith(f"{name}/") for j in running):
            killed.append(name)  # jobs in hand: the next worker retries them
    last = f"worker{number}"
    with worker_in_process(location, embedder, last, lease=LEASE_S, batch=rng.randint(1, 3)):
        wait_until(lambda: store.queue_depth() == 0, PROCESS_TIMEOUT_S, "the last worker to drain")
    return killed


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_queued_with_killed_workers_gives_the_self_model_inline_observing_gives(
    db_location: str, embedder: SentenceTransformerEmbedder, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    conversations = {f"user{i}": conversation(rng) for i in range(USERS)}
    with SelfModel.open(db_location, embedder=embedder) as sm:
        inline, queued, crashed = (sm.in_workspace(n) for n in ("inline", "queued", "crashed"))
        for user, messages in conversations.items():
            for at, text in messages:  # one call per message, as a chat sends them
                inline.observe(user, text, at=at)
                queued.observe(user, text, at=at, wait=False)
        Worker(queued, concurrency=2, batch=1).run(until_idle=True)
        # Only now the crashed workspace's jobs: the worker processes have them to themselves.
        for user, messages in conversations.items():
            for at, text in messages:
                crashed.observe(user, text, at=at, wait=False)

        killed = kill_at_random_points(db_location, sm.store, embedder, rng, tmp_path)

        assert len(killed) == KILLS
        final = counts(sm.store)
        assert (final[JobStatus.QUEUED], final[JobStatus.RUNNING], final[JobStatus.DEAD]) == (
            0,
            0,
            0,
        )
        jobs = sm.store.list_jobs(crashed.workspace.id)
        # The kills caught jobs in hand, taken over by the next worker: their second attempt.
        assert any(j.attempts > 1 for j in jobs)
        for user in conversations:
            reference = self_model_rows(inline, user)
            assert reference, user
            assert self_model_rows(queued, user) == reference, user
            assert self_model_rows(crashed, user) == reference, user
            assert_each_observation_counted_once(crashed, user)
