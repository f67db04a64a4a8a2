"""Many processes over one PostgreSQL: two API processes, two workers and concurrent writers.

Writers post over HTTP to both ``selfmodel serve`` processes (and one calls the library in-process,
as an app embedding the engine next to the API would), for one shared user and for a user of
their own, with ``wait=false``. Some messages carry one id sent by every writer, some requests
are replayed with their ``Idempotency-Key`` on the other API process. When the ``selfmodel
worker`` processes have drained the queue, nothing may be lost or duplicated, every user's
beliefs must equal a reference run of the same messages inline, and both API processes must
answer ``context`` with the same items (their warm indexes followed the workers' writes).
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from selfmodel import SelfModel
from selfmodel.cli import app
from selfmodel.client import Client
from selfmodel.domain import JobStatus, ObserveResult
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.storage import open_store
from tests.support.postgres import PostgresCluster
from tests.support.processes import ApiProcess, start_api, stop_process, wait_ready
from tests.support.workers import (
    assert_each_observation_counted_once,
    counts,
    evidence_shape,
    start_worker,
    wait_until,
    wait_worker_started,
)

WORKSPACE = "multi"
SHARED_USER = "shared"
APIS = 2
WORKERS = 2
# Two HTTP writers per API process, plus one writer calling the library in-process.
API_WRITERS = 4
WRITERS = API_WRITERS + 1
LIBRARY_WRITER = API_WRITERS
# Per writer: facts for the shared user and for the writer's own user. Exact repeats reinforce,
# so the result does not depend on the order in which concurrent writers' messages land.
SHARED_FACTS = ["I love hiking.", "I'm a nurse.", "I play the guitar."]
OWN_FACTS = ["I prefer short answers.", "I live in Lisbon.", "I prefer short answers."]
# Every writer also sends this message with the same id: it must be stored exactly once.
DUPLICATE = {"id": "same-message", "content": "I love chess."}
# Every API writer sends this very request under one Idempotency-Key, on both API processes at
# once: it runs once; the others get its answer replayed (or 409 while it is still running).
SHARED_KEY = "shared-request"
SHARED_REQUEST_MESSAGE = {"id": "same-request", "content": "I speak French."}
# Each API writer sends one request of its own twice, the second time to the other process.
REPLAYED_FACT = "I drink green tea."
REPLAYED_HEADER = "Idempotent-Replayed"
IN_PROGRESS_RETRY_S = 0.05
HTTP_TIMEOUT_S = 60.0
LEASE_S = 5.0
WORKER_BATCH = 2
DRAIN_TIMEOUT_S = 120.0
CONTEXT_QUERIES = ["what does this person do for fun?", "where do they live, what do they drink?"]
CONTEXT_BUDGET = 400


@dataclass(frozen=True)
class Call:
    """One observe request a writer makes."""

    user: str
    messages: list[dict[str, str]]
    idempotency_key: str | None = None
    replay_on_other_api: bool = False


@dataclass
class Outcome:
    """What the writers saw: results per call and the idempotency answers, for the checks."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    results: list[tuple[Call, ObserveResult]] = field(default_factory=list)
    shared_key_answers: list[tuple[bool, dict[str, Any]]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def record(self, call: Call, result: ObserveResult) -> None:
        with self.lock:
            self.results.append((call, result))


def own_user(writer: int) -> str:
    return f"own{writer}"


def _messages(writer: int, facts: list[str], user: str) -> list[dict[str, str]]:
    return [{"id": f"{user}-w{writer}-{i}", "content": text} for i, text in enumerate(facts)]


def writer_plan(writer: int) -> list[Call]:
    """The calls one writer makes, interleaving the shared user and its own."""
    own = own_user(writer)
    calls: list[Call] = []
    for shared, mine in zip(
        _messages(writer, SHARED_FACTS, SHARED_USER), _messages(writer, OWN_FACTS, own), strict=True
    ):
        calls += [Call(SHARED_USER, [shared]), Call(own, [mine])]
    calls.append(Call(SHARED_USER, [DUPLICATE]))
    if writer != LIBRARY_WRITER:
        calls.append(Call(SHARED_USER, [SHARED_REQUEST_MESSAGE], idempotency_key=SHARED_KEY))
        calls.append(
            Call(
                own,
                [{"id": f"{own}-replayed", "content": REPLAYED_FACT}],
                idempotency_key=f"replay-{own}",
                replay_on_other_api=True,
            )
        )
    return calls


def expected_external_ids() -> dict[str, set[str]]:
    """Every distinct message id each user must end up with, exactly once."""
    expected: dict[str, set[str]] = {}
    for writer in range(WRITERS):
        for call in writer_plan(writer):
            expected.setdefault(call.user, set()).update(m["id"] for m in call.messages)
    return expected


def _post(http: httpx.Client, call: Call, key: str | None = None) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    body = {"messages": call.messages, "wait": False}
    return http.post(f"/v1/users/{call.user}/observations", json=body, headers=headers)


def http_writer(writer: int, apis: list[httpx.Client], outcome: Outcome) -> None:
    """Post this writer's plan to its API process (replays go to the other one)."""
    mine, other = apis[writer % APIS], apis[(writer + 1) % APIS]
    for call in writer_plan(writer):
        if call.idempotency_key == SHARED_KEY:
            # Racing the other writers: 409 means another process is still running it.
            while (response := _post(mine, call, SHARED_KEY)).status_code == 409:
                assert response.json()["error"]["code"] == "idempotency_conflict"
                time.sleep(IN_PROGRESS_RETRY_S)
            assert response.status_code == 201, response.text
            with outcome.lock:
                outcome.shared_key_answers.append(
                    (response.headers.get(REPLAYED_HEADER) == "true", response.json())
                )
            outcome.record(call, ObserveResult.model_validate(response.json()))
            continue
        first = _post(mine, call, call.idempotency_key)
        assert first.status_code == 201, first.text
        assert REPLAYED_HEADER not in first.headers
        outcome.record(call, ObserveResult.model_validate(first.json()))
        if call.replay_on_other_api:
            again = _post(other, call, call.idempotency_key)
            assert (again.status_code, again.headers.get(REPLAYED_HEADER)) == (201, "true")
            assert again.json() == first.json()
            # The same key with another body is refused, not run and not replayed.
            changed = Call(call.user, [{**call.messages[0], "content": "I hate tea."}])
            refused = _post(other, changed, call.idempotency_key)
            assert refused.status_code == 409, refused.text
            assert refused.json()["error"]["code"] == "idempotency_conflict"


def library_writer(
    writer: int, url: str, embedder: SentenceTransformerEmbedder, outcome: Outcome
) -> None:
    """The same plan through the library, with its own connection pool."""
    with SelfModel.open(url, workspace=WORKSPACE, embedder=embedder) as sm:
        for call in writer_plan(writer):
            outcome.record(call, sm.observe(call.user, call.messages, wait=False))


def run_writers(
    apis: list[ApiProcess], key: str, url: str, embedder: SentenceTransformerEmbedder
) -> Outcome:
    """All writers at once, released together; returns what they saw (errors included)."""
    outcome = Outcome()
    start = threading.Barrier(WRITERS)

    def guarded(writer: int) -> None:
        try:
            start.wait()
            if writer == LIBRARY_WRITER:
                library_writer(writer, url, embedder, outcome)
                return
            with ExitStack() as stack:
                clients = [
                    stack.enter_context(
                        httpx.Client(
                            base_url=api.base_url,
                            headers={"Authorization": f"Bearer {key}"},
                            timeout=HTTP_TIMEOUT_S,
                        )
                    )
                    for api in apis
                ]
                http_writer(writer, clients, outcome)
        except BaseException as exc:  # surfaced by the main thread
            with outcome.lock:
                outcome.errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome


def run_cli(*args: str) -> str:
    """An admin command, in-process: the processes under test are the servers and workers."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def context_items(base_url: str, key: str, user: str, query: str) -> list[tuple[str, str, str]]:
    """The items (type, id, text) ``context`` chooses, in a stable order for comparison."""
    with Client(base_url, key) as client:
        result = client.context(user, query, budget_tokens=CONTEXT_BUDGET)
    return sorted((i.item_type, i.id, i.text) for i in result.items)


@pytest.fixture
def reference_url(pg_cluster: PostgresCluster) -> Iterator[str]:
    """A second, fresh database for the inline reference run."""
    with pg_cluster.database() as url:
        yield url


@pytest.mark.slow
def test_two_api_processes_and_two_workers_lose_and_duplicate_nothing(
    pg_url: str,
    reference_url: str,
    embedder: SentenceTransformerEmbedder,
    tmp_path: Path,
) -> None:
    run_cli("workspace", "create", WORKSPACE, "--db", pg_url)
    key = run_cli("key", "create", "--workspace", WORKSPACE, "--scope", "write", "--db", pg_url)
    key = key.strip().splitlines()[-1]

    with ExitStack() as stack:
        apis = [start_api(pg_url, f"api{i}", tmp_path) for i in range(APIS)]
        workers = [
            start_worker(pg_url, f"worker{i}", tmp_path, lease=LEASE_S, batch=WORKER_BATCH)
            for i in range(WORKERS)
        ]
        exit_codes: dict[str, int] = {}
        for name, process in [
            *((f"api{i}", a.process) for i, a in enumerate(apis)),
            *((f"worker{i}", w) for i, w in enumerate(workers)),
        ]:
            stack.callback(_stop_into, exit_codes, name, process)
        for api in apis:
            wait_ready(api)
        for i, worker in enumerate(workers):
            wait_worker_started(worker, f"worker{i}", tmp_path)

        outcome = run_writers(apis, key, pg_url, embedder)
        assert outcome.errors == []

        # Warm both API processes' indexes before the workers are done, so the final answers
        # show that each process saw the other processes' writes.
        for user in expected_external_ids():
            for api in apis:
                context_items(api.base_url, key, user, CONTEXT_QUERIES[0])

        store = stack.enter_context(closing(open_store(pg_url)))
        workspace = store.get_workspace(WORKSPACE)
        assert workspace is not None
        wait_until(
            lambda: store.queue_depth(workspace.id) == 0,
            DRAIN_TIMEOUT_S,
            "the workers to drain the queue",
        )
        final = counts(store)
        assert (final[JobStatus.DEAD], final[JobStatus.QUEUED], final[JobStatus.RUNNING]) == (
            0,
            0,
            0,
        )
        jobs = store.list_jobs(workspace.id)
        # Every queued job is one a writer was told about, and each was done once.
        assert sorted(j.id for j in jobs) == sorted(
            {r.job_id for _, r in outcome.results if r.job_id is not None}
        )
        assert {j.status for j in jobs} == {JobStatus.DONE}
        # Which worker got which job is the claims' race (a user's jobs run one at a time, so one
        # worker may well have taken them all); that every job was done once is the point.
        assert {j.locked_by.split("/")[0] for j in jobs if j.locked_by} <= {"worker0", "worker1"}

        # Both API processes answer context alike, and like a cold engine reading the database.
        with SelfModel.open(pg_url, workspace=WORKSPACE, embedder=embedder) as cold:
            for user in expected_external_ids():
                for query in CONTEXT_QUERIES:
                    answers = [context_items(api.base_url, key, user, query) for api in apis]
                    fresh = sorted(
                        (i.item_type, i.id, i.text)
                        for i in cold.context(user, query, budget_tokens=CONTEXT_BUDGET).items
                    )
                    assert any(item_type == "belief" for item_type, _, _ in fresh), user
                    assert answers == [fresh] * APIS, (user, query)
    # Every process stopped on SIGTERM gracefully (closing its store) and exited 0.
    assert exit_codes == dict.fromkeys(exit_codes, 0)

    _check_writes_once(outcome)
    with (
        SelfModel.open(pg_url, workspace=WORKSPACE, embedder=embedder) as sm,
        SelfModel.open(reference_url, workspace=WORKSPACE, embedder=embedder) as reference,
    ):
        # Nothing lost, nothing duplicated: every distinct message id stored exactly once.
        for user, ids in expected_external_ids().items():
            stored = Counter(o["external_id"] for o in sm.export(user)["observations"])
            assert stored == Counter(ids), user

        # Consistent beliefs: the same as observing the same messages one by one, inline.
        for writer in range(WRITERS):
            for call in writer_plan(writer):
                reference.observe(call.user, call.messages)
        for user in expected_external_ids():
            assert evidence_shape(sm, user) == evidence_shape(reference, user), user
            assert_each_observation_counted_once(sm, user)


def _check_writes_once(outcome: Outcome) -> None:
    """Each message id was new to exactly one call; the shared key's request ran exactly once."""
    new_per_id: Counter[tuple[str, str]] = Counter()
    for call, result in outcome.results:
        assert len(result.new_observation_ids) + result.duplicates == len(call.messages)
        if call.idempotency_key != SHARED_KEY:  # its replays repeat one answer: checked below
            new_per_id.update({(call.user, m["id"]): 0 for m in call.messages})
            if result.new_observation_ids:
                assert len(call.messages) == 1 and result.job_id is not None
                new_per_id[(call.user, call.messages[0]["id"])] += 1
    fresh = [body for replayed, body in outcome.shared_key_answers if not replayed]
    assert len(fresh) == 1 and len(outcome.shared_key_answers) == API_WRITERS
    assert all(body == fresh[0] for _, body in outcome.shared_key_answers)
    assert len(fresh[0]["new_observation_ids"]) == 1 and fresh[0]["job_id"] is not None
    new_per_id[(SHARED_USER, SHARED_REQUEST_MESSAGE["id"])] += 1
    expected = {(user, i) for user, ids in expected_external_ids().items() for i in ids}
    assert set(new_per_id) == expected
    assert {k: n for k, n in new_per_id.items() if n != 1} == {}


def _stop_into(exit_codes: dict[str, int], name: str, process: subprocess.Popen[bytes]) -> None:
    exit_codes[name] = stop_process(process)
