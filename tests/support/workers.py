"""Worker processes for tests: real ``selfmodel worker`` processes, started and stopped here."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from selfmodel import SelfModel
from selfmodel.domain import JobStatus
from selfmodel.embedding import Embedder
from selfmodel.storage import Store
from selfmodel.worker import Worker
from tests.support.processes import subprocess_env, wait_for_log

# What a worker logs once its model is loaded and its threads start claiming jobs.
STARTED_LOG = "worker started"
POLL_S = 0.01


def start_worker(
    location: str, name: str, log_dir: Path, *, lease: float, batch: int = 8
) -> subprocess.Popen[bytes]:
    """``selfmodel worker`` as a separate process; its JSON log goes to ``log_dir/name.log``."""
    with (log_dir / f"{name}.log").open("ab") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "selfmodel",
                "worker",
                "--db",
                location,
                "--worker-id",
                name,
                "--lease",
                str(lease),
                "--batch",
                str(batch),
                "--log-level",
                "info",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=subprocess_env(),
        )


def wait_worker_started(process: subprocess.Popen[bytes], name: str, log_dir: Path) -> None:
    """Block until the worker started by ``start_worker(..., name, log_dir)`` claims jobs."""
    wait_for_log(process, log_dir / f"{name}.log", STARTED_LOG)


@contextmanager
def worker_in_process(
    location: str, embedder: Embedder, name: str, *, lease: float, batch: int
) -> Iterator[Worker]:
    """A worker in this process, on an engine of its own (its own connections), that runs while
    the block does and then stops gracefully.

    For the worker that takes over from killed ones: the process boundary matters for the
    worker that is SIGKILLed, not for its successor, and this one starts at once instead of
    loading its models for seconds (the leases it takes over are then not yet expired, so it
    waits for them: the path a slow restart skips).
    """
    with SelfModel.open(location, embedder=embedder) as sm:
        worker = Worker(sm, worker_id=name, concurrency=1, batch=batch, lease_seconds=lease)
        thread = worker.start()
        try:
            yield worker
        finally:
            worker.stop()
            thread.join()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(POLL_S)


def counts(store: Store) -> Counter[JobStatus]:
    return Counter(store.job_counts())


def evidence_shape(sm: SelfModel, user: str) -> list[tuple[str, int, int]]:
    """A user's beliefs as (statement, supports, contradictions): what must match a reference."""
    return sorted(
        (b.statement, b.support_count, b.contradict_count) for b in sm.beliefs(user, status=None)
    )


# What a person tells a chat over some weeks, with changes of mind (running), moves (home) and a
# new job: revising it out of order gives another self-model.
CHANGING_CONVERSATION = [
    "I live in London and work as a nurse.",
    "I love running along the river.",
    "I moved to Manchester last month.",
    "I don't like running anymore, my knees hurt.",
    "I just joined Stripe as an engineer.",
    "Please keep your answers short.",
    "Home is now Edinburgh.",
    "I stopped drinking coffee.",
]

# The moment self-models are read at for comparison: confidence is computed as of a read.
COMPARED_AT = datetime(2024, 6, 1, tzinfo=UTC)


def self_model_rows(sm: SelfModel, user: str) -> list[tuple[object, ...]]:
    """A user's whole self-model, belief by belief, as two ingestion paths must agree on it:
    statement, kind, status, confidence (to 1e-9) and evidence (the observations' texts, which
    stay the same across workspaces while their ids do not, with their stance)."""
    beliefs = sm.beliefs(user, status=None, now=COMPARED_AT)
    ws, user_id = sm.workspace.id, sm.user(user).id
    observations = {o.id: o.content for o in sm.store.list_observations(ws, [user_id])}
    rows = []
    for belief in beliefs:
        evidence = sm.store.list_evidence(ws, [belief.id])
        rows.append(
            (
                belief.statement,
                belief.kind,
                belief.status,
                round(belief.confidence, 9),
                tuple(sorted((observations[e.observation_id], e.stance) for e in evidence)),
            )
        )
    return sorted(rows, key=repr)


def assert_each_observation_counted_once(sm: SelfModel, user: str) -> None:
    """No belief has two identical events or two identical evidence links from one observation,
    and every evidence link's observation exists (nothing half-forgotten, nothing doubled)."""
    store = sm.store
    u = sm.user(user)
    beliefs = sm.beliefs(user, status=None)
    events = store.list_events(sm.workspace.id, user_id=u.id)
    keyed = Counter(
        (e.belief_id, e.observation_id, e.type) for e in events if e.observation_id is not None
    )
    assert [k for k, n in keyed.items() if n > 1] == []
    links = store.list_evidence(sm.workspace.id, [b.id for b in beliefs])
    link_keys = Counter((e.belief_id, e.observation_id, e.stance) for e in links)
    assert [k for k, n in link_keys.items() if n > 1] == []
    observed = {o.id: o for o in store.list_observations(sm.workspace.id, [u.id])}
    assert {e.observation_id for e in links} <= set(observed)
    for belief in beliefs:
        # Support is counted by occasion: the distinct days of the supporting observations.
        days = {
            observed[e.observation_id].occurred_at.date()
            for e in links
            if e.belief_id == belief.id and e.stance.value == "supports"
        }
        assert belief.support_count == len(days), belief.statement
