"""Crash safety: a worker process killed with SIGKILL mid-batch loses nothing, and once another
worker has taken its jobs over every observation has been processed exactly once in effect."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from selfmodel import SelfModel
from selfmodel.domain import JobStatus
from selfmodel.embedding import SentenceTransformerEmbedder
from tests.support.workers import (
    assert_each_observation_counted_once,
    counts,
    evidence_shape,
    start_worker,
    wait_until,
    worker_in_process,
)

USERS = [f"user{i}" for i in range(4)]
# One observe() call (one job) per message; the repeat reinforces an existing belief.
MESSAGES = [
    "I love hiking.",
    "I'm a nurse.",
    "I prefer short answers.",
    "I love hiking.",
    "I play the guitar.",
]
LEASE_S = 3.0
BATCH = 4
# Killed once the second batch is half done: two of its jobs committed, two still leased.
KILL_AFTER_DONE = 6
PROCESS_TIMEOUT_S = 180.0


@pytest.mark.slow
def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(
    db_location: str, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    with SelfModel.open(db_location, embedder=embedder) as sm:
        queued = sm.in_workspace("queued")
        reference = sm.in_workspace("reference")
        for user in USERS:
            for text in MESSAGES:
                queued.observe(user, text, wait=False)
                reference.observe(user, text)  # inline: what the result must be
        total = len(USERS) * len(MESSAGES)
        store = sm.store
        assert counts(store)[JobStatus.QUEUED] == total

        first = start_worker(db_location, "first", tmp_path, lease=LEASE_S, batch=BATCH)
        try:
            wait_until(
                lambda: (
                    counts(store)[JobStatus.DONE] >= KILL_AFTER_DONE
                    and counts(store)[JobStatus.RUNNING] > 0
                ),
                PROCESS_TIMEOUT_S,
                "the first worker to be mid-batch",
            )
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
        at_kill = counts(store)
        assert first.returncode == -signal.SIGKILL
        assert at_kill[JobStatus.RUNNING] > 0, "the kill should leave leased jobs behind"
        assert at_kill[JobStatus.DONE] < total

        # The successor need not be a process of its own (see worker_in_process).
        with worker_in_process(db_location, embedder, "second", lease=LEASE_S, batch=BATCH):
            wait_until(
                lambda: counts(store)[JobStatus.DONE] == total,
                PROCESS_TIMEOUT_S,
                "every job to be done after the restart",
            )

        final = counts(store)
        assert (final[JobStatus.QUEUED], final[JobStatus.RUNNING], final[JobStatus.DEAD]) == (
            0,
            0,
            0,
        )
        retaken = [j for j in store.list_jobs(queued.workspace.id) if j.attempts > 1]
        assert retaken, "some jobs must have been taken over from the killed worker"
        assert all(j.locked_by == "second/0" for j in retaken)
        for user in USERS:
            assert evidence_shape(queued, user) == evidence_shape(reference, user), user
            assert_each_observation_counted_once(queued, user)
            observations = queued.export(user)["observations"]
            assert len(observations) == len(MESSAGES)
