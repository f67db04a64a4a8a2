"""Many processes over one PostgreSQL: worker processes and concurrent writers, same and
different users. Nothing may be lost or duplicated, and every user's beliefs must be consistent.

Built to grow: writers are plain callables (``observe_in_process`` today; an HTTP writer going
through API processes can be added to ``WRITERS``), workers are real ``selfmodel worker``
processes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
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
    stop_worker,
    wait_until,
)

WORKSPACE = "multi"
SHARED_USER = "shared"
WRITERS = 3
# Per writer: facts for the shared user and for the writer's own user. Exact repeats reinforce,
# so the result does not depend on the order in which concurrent writers' messages land.
SHARED_FACTS = ["I love hiking.", "I'm a nurse.", "I play the guitar."]
OWN_FACTS = ["I prefer short answers.", "I live in Lisbon.", "I prefer short answers."]
# Every writer also sends this message with the same id: it must be stored exactly once.
DUPLICATE = {"id": "same-message", "content": "I love chess."}
LEASE_S = 5.0
DONE_TIMEOUT_S = 240.0

Writer = Callable[[str, str, Sequence[dict[str, str]]], None]


def _messages(writer: int, facts: list[str], user: str) -> list[dict[str, str]]:
    return [
        {"id": f"{user}-w{writer}-{i}", "content": text} for i, text in enumerate(facts)
    ]


def _writer_plan(writer: int) -> list[tuple[str, list[dict[str, str]]]]:
    """(user, messages) calls one writer makes, interleaving the shared and its own user."""
    own = f"own{writer}"
    calls: list[tuple[str, list[dict[str, str]]]] = []
    for shared, mine in zip(
        _messages(writer, SHARED_FACTS, SHARED_USER), _messages(writer, OWN_FACTS, own), strict=True
    ):
        calls += [(SHARED_USER, [shared]), (own, [mine])]
    calls.append((SHARED_USER, [DUPLICATE]))
    return calls


@pytest.mark.slow
def test_two_workers_and_concurrent_writers_lose_and_duplicate_nothing(
    pg_url: str, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    workers = [
        start_worker(pg_url, f"worker{i}", tmp_path, lease=LEASE_S, batch=2) for i in range(2)
    ]
    errors: list[BaseException] = []

    def observe_in_process(writer: int) -> None:
        # Its own SelfModel (own connection pool), as a separate API process would have.
        try:
            with SelfModel.open(pg_url, workspace=WORKSPACE, embedder=embedder) as sm:
                for user, messages in _writer_plan(writer):
                    sm.observe(user, messages, wait=False)
        except BaseException as exc:  # surfaced by the main thread below
            errors.append(exc)

    try:
        threads = [
            threading.Thread(target=observe_in_process, args=(i,)) for i in range(WRITERS)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with SelfModel.open(pg_url, workspace=WORKSPACE, embedder=embedder) as sm:
            wait_until(
                lambda: counts(sm.store)[JobStatus.QUEUED] + counts(sm.store)[JobStatus.RUNNING]
                == 0,
                DONE_TIMEOUT_S,
                "the workers to drain the queue",
            )
    finally:
        exit_codes = [stop_worker(w) for w in workers]
    assert exit_codes == [0, 0]

    with SelfModel.open(pg_url, workspace=WORKSPACE, embedder=embedder) as sm:
        store = sm.store
        final = counts(store)
        assert (final[JobStatus.DEAD], final[JobStatus.QUEUED]) == (0, 0)
        jobs = store.list_jobs(sm.workspace.id)
        assert {j.locked_by.split("/")[0] for j in jobs if j.locked_by} == {"worker0", "worker1"}

        # Nothing lost, nothing duplicated: every distinct message id stored exactly once.
        shared = sm.export(SHARED_USER)["observations"]
        assert len(shared) == WRITERS * len(SHARED_FACTS) + 1
        assert len({o["external_id"] for o in shared}) == len(shared)
        for writer in range(WRITERS):
            assert len(sm.export(f"own{writer}")["observations"]) == len(OWN_FACTS)

        # Consistent beliefs: the same as observing the same messages one by one, inline.
        reference = sm.in_workspace("reference")
        plans = [_writer_plan(w) for w in range(WRITERS)]
        for plan in plans:
            for user, messages in plan:
                reference.observe(user, messages)
        for user in [SHARED_USER, *(f"own{w}" for w in range(WRITERS))]:
            assert evidence_shape(sm, user) == evidence_shape(reference, user), user
            assert_each_observation_counted_once(sm, user)
