"""The soak of ``selfmodel bench serve --soak``: a mixed workload over real HTTP while the worker
process is killed and restarted, then a reconciliation of the store against what clients saw.

API servers run without a worker of their own; one ``selfmodel worker`` process understands the
queued observations. A supervisor thread SIGKILLs it at random intervals — once it has done some
work and holds a leased job, so the kill lands mid-job — and starts a replacement at once, which
takes the dead worker's jobs over when their leases expire. Meanwhile ``concurrency`` clients
observe (``wait=false``, with their own message ids, sometimes re-sending one), ask for context,
correct beliefs (confirm, reject, edit) and forget users. Afterwards the last worker drains the
queue and ``reconcile`` checks the store against the clients' ledger.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from selfmodel.bench.reconcile import Ledger, reconcile
from selfmodel.bench.report import percentile
from selfmodel.bench.serving import bootstrap, start_servers, start_worker, stop
from selfmodel.domain import JobStatus
from selfmodel.storage import Store, open_store

WORKSPACE = "soak"
WARM_UP_USER = "warm-up"
USER_SLOTS = 12  # users written to at once; a forgotten user's slot gets a new user
# One round of each client's operations, shuffled: mostly observing and reading, some
# corrections, a re-sent message (must not be stored twice) and a forget per round.
ROUND = ("observe",) * 8 + ("resend",) + ("context",) * 5 + ("correct",) * 4 + ("forget",)
KINDS = ("observe", "resend", "context", "beliefs", "confirm", "reject", "edit", "forget")
DEFAULT_KILL_EVERY_S = 10.0
# Short leases, so a killed worker's jobs are taken over within seconds, not minutes.
LEASE_S = 3.0
WORKER_BATCH = 2  # jobs a kill can catch in hand
KILL_JITTER_MAX_S = 0.2  # a kill lands this far into the job in hand, at random
MID_JOB_WAIT_S = 10.0  # how long a kill waits for the worker to hold a job before it fires
SUPERVISE_POLL_S = 0.05
# Lines a worker logs (at info): once its threads run, and per finished job.
WORKER_STARTED_LOG = '"msg": "worker started"'
JOB_DONE_LOG = '"msg": "job done"'
WARM_UP_WAIT_S = 10.0
WORKER_START_TIMEOUT_S = 180.0
# The worker catches up after the load: the clients queue work faster than one worker (restarted
# after every kill) understands it, so the wait grows with the soak.
DRAIN_TIMEOUT_S = 180.0
DRAIN_S_PER_SOAK_S = 5.0
REQUEST_TIMEOUT_S = 60.0
MAX_ERROR_SAMPLES = 5
FIRST_DAY = datetime(2024, 1, 1, 9, tzinfo=UTC)
MESSAGES_PER_DAY = 3  # a user's messages move on a day every few: support counts by day
MESSAGES = (
    "I love {x} on weekends.",
    "I don't like {x} at all.",
    "I'm training for a {x} in the spring.",
    "I work as a {x}.",
    "I moved to {y} last month.",
    "Home is now {y}.",
    "I think I might take up {x}.",
    "Please keep your answers short.",
    "I stopped {x} because my knees hurt.",
)
TOPICS = ("hiking", "marathon", "nurse", "chess", "jazz", "guitar", "cooking", "sailing", "running")
PLACES = ("Lisbon", "Leeds", "Oslo", "Porto", "Kyoto")
QUERIES = (
    "what does this person do for fun?",
    "where do they live?",
    "what should I avoid suggesting?",
    "how do they like answers?",
    "what are they working towards?",
)


@dataclass
class Traffic:
    """Latencies and failures per kind of request."""

    seconds: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)

    def ok(self, kind: str, elapsed: float) -> None:
        self.seconds[kind].append(elapsed)

    def failed(self, kind: str, what: str) -> None:
        self.errors[kind] += 1
        if len(self.error_samples) < MAX_ERROR_SAMPLES:
            self.error_samples.append(f"{kind}: {what}")

    def rows(self) -> dict[str, dict[str, float]]:
        rows: dict[str, dict[str, float]] = {}
        for kind in KINDS:
            ms = [s * 1000 for s in self.seconds[kind]]
            rows[kind] = {
                "requests": float(len(ms) + self.errors[kind]),
                "errors": float(self.errors[kind]),
                "p50_ms": percentile(ms, 50) if ms else float("nan"),
                "p95_ms": percentile(ms, 95) if ms else float("nan"),
                "p99_ms": percentile(ms, 99) if ms else float("nan"),
            }
        return rows


@dataclass
class Message:
    id: str
    content: str
    occurred_at: str


class Clients:
    """The soak's HTTP clients: one shared ledger, one lock per user slot (so a forget never
    races the same user's other requests, and the ledger stays exact)."""

    def __init__(self, http: httpx.AsyncClient, bases: list[str], seed: int) -> None:
        self.http = http
        self.bases = bases
        self.seed = seed
        self.ledger = Ledger()
        self.traffic = Traffic()
        self.generation = [0] * USER_SLOTS
        self.locks = [asyncio.Lock() for _ in range(USER_SLOTS)]
        self.said: dict[str, list[Message]] = {}
        self.turn = 0
        self.edits = 0
        self.wall = 0.0  # seconds the load ran, warm-up excluded

    def _url(self, path: str) -> str:
        self.turn += 1  # each request to the next API process
        return self.bases[self.turn % len(self.bases)] + path

    async def _request(
        self, kind: str, method: str, path: str, body: dict[str, Any] | None = None
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await self.http.request(method, self._url(path), json=body)
        except httpx.HTTPError as exc:
            self.traffic.failed(kind, f"{type(exc).__name__}: {exc}")
            return None
        if not response.is_success:
            self.traffic.failed(kind, f"{response.status_code} {response.text[:200]}")
            return None
        self.traffic.ok(kind, time.perf_counter() - started)
        return response

    async def run(self, client: int, deadline: float) -> None:
        rng = random.Random(self.seed * 1_000 + client)
        while time.perf_counter() < deadline:
            plan = list(ROUND)
            rng.shuffle(plan)
            for op in plan:
                if time.perf_counter() >= deadline:
                    return
                slot = rng.randrange(USER_SLOTS)
                async with self.locks[slot]:
                    user = f"s{slot}g{self.generation[slot]}"
                    if user not in self.said:
                        op = "observe"  # a new user starts by saying something
                    await getattr(self, op)(rng, slot, user)

    async def observe(self, rng: random.Random, slot: int, user: str) -> None:
        said = self.said.setdefault(user, [])
        day = FIRST_DAY + timedelta(days=len(said) // MESSAGES_PER_DAY, minutes=len(said))
        text = rng.choice(MESSAGES).format(x=rng.choice(TOPICS), y=rng.choice(PLACES))
        message = Message(f"{user}-m{len(said)}", text, day.isoformat())
        said.append(message)
        await self._observe("observe", user, message)

    async def resend(self, rng: random.Random, slot: int, user: str) -> None:
        """A client retrying a message it already sent: stored once, whatever the retries."""
        await self._observe("resend", user, rng.choice(self.said[user]))

    async def _observe(self, kind: str, user: str, message: Message) -> None:
        body = {"messages": [asdict(message)], "wait": False}
        response = await self._request(kind, "POST", f"/v1/users/{user}/observations", body)
        if response is None:
            self.ledger.failed(user, [message.id])
            return
        result = response.json()
        self.ledger.observed(user, result["user_id"], [message.id], result["job_id"])

    async def context(self, rng: random.Random, slot: int, user: str) -> None:
        body = {"user": user, "query": rng.choice(QUERIES)}
        await self._request("context", "POST", "/v1/context", body)

    async def correct(self, rng: random.Random, slot: int, user: str) -> None:
        """The user confirms, rejects or rewrites one of their active beliefs, if any yet."""
        listed = await self._request("beliefs", "GET", f"/v1/users/{user}/beliefs?limit=20")
        if listed is None or not listed.json()["items"]:
            return  # nothing understood yet: the worker is behind (or was just killed)
        belief = rng.choice(listed.json()["items"])
        action = rng.choice(("confirm", "reject", "edit"))
        if action == "edit":
            self.edits += 1
            # A statement of its own, so an edit never makes two active beliefs alike.
            statement = f"Prefers {rng.choice(TOPICS)} in their own words (edit {self.edits})"
            await self._request(
                "edit", "PATCH", f"/v1/beliefs/{belief['id']}", {"statement": statement}
            )
        else:
            await self._request(action, "POST", f"/v1/beliefs/{belief['id']}/{action}")

    async def forget(self, rng: random.Random, slot: int, user: str) -> None:
        if await self._request("forget", "DELETE", f"/v1/users/{user}") is not None:
            self.ledger.forget(user)
            self.generation[slot] += 1  # the slot's next user is a new person


class WorkerSupervisor:
    """Keeps one ``selfmodel worker`` running, SIGKILLing it every ``kill_every`` seconds or
    so (mid-job when it can) and starting a replacement at once, until told to stop killing."""

    def __init__(self, db: str, store: Store, workdir: Path, kill_every: float, seed: int) -> None:
        self.db = db
        self.store = store
        self.workdir = workdir
        self.kill_every = kill_every
        self.rng = random.Random(seed)
        self.kills = 0
        self.kills_mid_job = 0
        self.crashes = 0  # exits nobody asked for: counted as errors
        self.started = 0
        self.name = ""
        self.log = workdir / "no-worker-yet.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._killing = threading.Event()
        self._thread = threading.Thread(target=self._supervise, name="soak-killer", daemon=True)
        self.failure: BaseException | None = None

    def start(self) -> None:
        self._start_worker()
        self._killing.set()
        self._thread.start()

    def stop_killing(self) -> None:
        """Stop the kills; the worker then running (restarted if need be) stays up."""
        self._killing.clear()
        self._thread.join()
        if self.failure is not None:
            raise self.failure
        self.keep_alive()

    def stop(self) -> int:
        """Stop the kills if still on (the soak failed), then the last worker, gracefully; its
        exit code (0: a clean exit)."""
        self._killing.clear()
        if self._thread.is_alive():
            self._thread.join()  # no restart may follow the stop below
        if self.process is None:
            return 0
        # A replacement may still be starting (the queue drained without it): SIGTERM is
        # graceful only once the worker runs and has its handler.
        deadline = time.monotonic() + WORKER_START_TIMEOUT_S
        while self.process.poll() is None and time.monotonic() < deadline:
            if self.log.exists() and WORKER_STARTED_LOG in self.log.read_text(errors="replace"):
                break
            time.sleep(SUPERVISE_POLL_S)
        return stop(self.process)

    def _start_worker(self) -> None:
        self.started += 1
        self.name = f"soak-worker-{self.started}"
        self.log = self.workdir / f"{self.name}.log"
        self.process = start_worker(
            self.db, self.name, self.log, lease_s=LEASE_S, batch=WORKER_BATCH
        )

    def keep_alive(self) -> None:
        """Restart a worker that exited on its own (counted as a crash: an error)."""
        if self.process is not None and self.process.poll() is not None:
            self.crashes += 1
            self._start_worker()

    def _working(self) -> bool:
        """Whether the current worker has finished a job (its models are loaded: it does real
        work now), as its own log says: counting done jobs in the store would not tell, since
        forgetting a user deletes theirs."""
        return self.log.exists() and JOB_DONE_LOG in self.log.read_text(errors="replace")

    def _holding_a_job(self) -> bool:
        """Whether the current worker holds a leased job now."""
        running = self.store.list_jobs(statuses=[JobStatus.RUNNING])
        return any((j.locked_by or "").startswith(f"{self.name}/") for j in running)

    def _supervise(self) -> None:
        try:
            while self._killing.is_set():
                # Each worker first loads its models (slow on a busy machine) and does a job;
                # the interval to its kill starts once it works, then the kill waits for a job
                # in hand, so most kills land mid-job rather than in a start-up.
                self._wait(self._working, None)
                self._wait(lambda: False, self.kill_every * self.rng.uniform(0.5, 1.5))
                mid_job = self._wait(self._holding_a_job, MID_JOB_WAIT_S)
                if not self._killing.is_set():
                    return
                time.sleep(self.rng.uniform(0, KILL_JITTER_MAX_S))
                assert self.process is not None
                self.process.kill()  # SIGKILL: no cleanup, no graceful exit
                self.process.wait()
                self.kills += 1
                self.kills_mid_job += mid_job
                self._start_worker()
        except BaseException as exc:  # surfaced by stop_killing in the soak's thread
            self.failure = exc

    def _wait(self, condition: Callable[[], bool], timeout: float | None) -> bool:
        """Poll ``condition`` (restarting a crashed worker meanwhile) until it holds (True),
        ``timeout`` passes or the kills stop (False)."""
        give_up = None if timeout is None else time.monotonic() + timeout
        while self._killing.is_set() and (give_up is None or time.monotonic() < give_up):
            self.keep_alive()
            if condition():
                return True
            time.sleep(SUPERVISE_POLL_S)
        return False


async def _warm_up(http: httpx.AsyncClient, bases: list[str]) -> None:
    """Load each API process's models and the worker's before the clock starts (they load on
    first use), with a user of its own that the reconciliation does not look at."""
    for number, base in enumerate(bases):
        body = {"messages": [{"content": f"I love {TOPICS[number % len(TOPICS)]}."}]}
        url = f"{base}/v1/users/{WARM_UP_USER}/observations"
        (await http.post(url, json=body)).raise_for_status()
        context = {"user": WARM_UP_USER, "query": QUERIES[0]}
        (await http.post(f"{base}/v1/context", json=context)).raise_for_status()
    queued = {"messages": [{"content": "I play the piano."}], "wait": False}
    url = f"{bases[0]}/v1/users/{WARM_UP_USER}/observations"
    observed = (await http.post(url, json=queued)).raise_for_status().json()
    wait = {"observation_ids": observed["new_observation_ids"], "timeout": WARM_UP_WAIT_S}
    deadline = time.monotonic() + WORKER_START_TIMEOUT_S
    # 504: still pending after the server's wait; ask again until the worker has done it.
    while (
        answer := await http.post(f"{bases[0]}/v1/observations/wait", json=wait)
    ).status_code == 504:
        if time.monotonic() > deadline:
            raise RuntimeError("the soak's worker did not start working in time")
    answer.raise_for_status()


async def _drive(
    bases: list[str],
    key: str,
    duration: float,
    concurrency: int,
    seed: int,
    on_tick: Callable[[float], None],
) -> Clients:
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=REQUEST_TIMEOUT_S) as http:
        await _warm_up(http, bases)
        clients = Clients(http, bases, seed)
        started = time.perf_counter()
        deadline = started + duration
        load = asyncio.gather(*(clients.run(n, deadline) for n in range(concurrency)))
        while not load.done():
            on_tick(min(time.perf_counter() - started, duration))
            await asyncio.wait([load], timeout=0.5)
        await load
        clients.wall = time.perf_counter() - started
    return clients


def run_soak(
    db: str,
    processes: int,
    duration: float,
    concurrency: int,
    seed: int,
    workdir: Path,
    *,
    kill_every: float = DEFAULT_KILL_EVERY_S,
    on_tick: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """Soak ``processes`` API servers and a killed-and-restarted worker on ``db`` for
    ``duration`` seconds, drain the queue, reconcile; the figures and the reconciliation."""
    key = bootstrap(db, WORKSPACE)
    with ExitStack() as stack:
        store = stack.enter_context(closing(open_store(db)))
        workspace = store.get_workspace(WORKSPACE)
        assert workspace is not None
        supervisor = WorkerSupervisor(db, store, workdir, kill_every, seed)
        # The worker first, so it loads its models while the API processes start.
        supervisor.start()
        try:
            bases = start_servers(stack, db, processes, workdir, worker=False)
            clients = asyncio.run(
                _drive(bases, key, duration, concurrency, seed, on_tick or (lambda s: None))
            )
            supervisor.stop_killing()
            drained = _drain(store, workspace.id, supervisor, duration)
        finally:
            worker_exit = supervisor.stop()
        found = reconcile(store, workspace.id, clients.ledger)
    traffic = clients.traffic
    errors = sum(traffic.errors.values()) + supervisor.crashes + (worker_exit != 0)
    return {
        "processes": processes,
        "wall_s": clients.wall,
        "drain_s": drained,
        "rows": traffic.rows(),
        "requests": sum(int(r["requests"]) for r in traffic.rows().values()),
        "errors": errors,
        "error_samples": traffic.error_samples,
        "kills": supervisor.kills,
        "kills_mid_job": supervisor.kills_mid_job,
        "worker_crashes": supervisor.crashes,
        "worker_exit": worker_exit,
        "forgotten_users": len(clients.ledger.forgotten),
        "jobs": len(clients.ledger.jobs),
        "reconciliation": found.as_dict(),
    }


def _drain(store: Store, workspace_id: str, supervisor: WorkerSupervisor, duration: float) -> float:
    """Wait for the last worker to finish every queued job (leases of killed ones included);
    what is still unfinished at the deadline the reconciliation counts as lost."""
    started = time.perf_counter()
    deadline = time.monotonic() + DRAIN_TIMEOUT_S + DRAIN_S_PER_SOAK_S * duration
    while store.queue_depth(workspace_id) > 0 and time.monotonic() < deadline:
        supervisor.keep_alive()
        time.sleep(SUPERVISE_POLL_S)
    return time.perf_counter() - started


__all__ = ["DEFAULT_KILL_EVERY_S", "run_soak"]
