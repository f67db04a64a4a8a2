"""``selfmodel bench serve``: sustained observe + context load through the HTTP API.

Server subprocesses (``selfmodel serve``) per backend, ``concurrency`` async workers on loopback
(``selfmodel.bench.load_client``: the generator shares the servers' cores, so it is kept light)
spreading requests over them in turn, a fixed mix of operations for a fixed time; reports
throughput and p50/p95/p99 per operation, SQLite and PostgreSQL side by side in one run, with the
embedding floor (one query embedded alone, on an idle machine) measured in the same run. Every
backend's servers are up together and the backends take turns in rounds (SQLite then
PostgreSQL, PostgreSQL then SQLite, …): a shared host's speed drifts over minutes, and run one
after the other the two met different machines.
PostgreSQL is a throwaway cluster started from the system's binaries unless ``--pg-url`` names a
database. ``--soak SECONDS`` runs the durability soak on the same backends instead
(``selfmodel.cli.bench_soak``).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from selfmodel.bench.load_client import TRANSPORT_ERRORS, LoadConnection
from selfmodel.bench.report import metrics_table, percentile, write_json
from selfmodel.bench.serving import bootstrap, start_servers
from selfmodel.bench.soak import DEFAULT_KILL_EVERY_S
from selfmodel.cli.bench import JsonOption
from selfmodel.cli.bench_soak import soak_command
from selfmodel.cli.output import console, progress_bar

USERS = 16
WARMUP_MESSAGES = 6
DEFAULT_OBSERVE_SHARE = 0.5  # the rest are context calls
# Segments of load per backend, the backends taking turns: a ratio between backends then
# compares them on the same host minutes (a shared host's speed drifts ±20 % over minutes).
DEFAULT_ROUNDS = 3
REQUEST_TIMEOUT_S = 60.0
SENTENCES = (
    "I love {x} on weekends.",
    "I'm training for a {x} in the spring.",
    "I work as a {x} at a small company.",
    "I don't like {x} at all.",
    "My sister just started learning {x}.",
    "I've been reading a lot about {x} lately.",
)
TOPICS = ("hiking", "marathon", "nurse", "chess", "jazz", "guitar", "cooking", "sailing", "math")
QUERIES = (
    "what does she do for fun?",
    "what is he working towards?",
    "what is their job?",
    "any hobbies I should know about before suggesting a weekend plan?",
    "what does this person dislike?",
    "which sports are they into",
    "how is their family doing",
    "suggest a gift for them",
    "what are they learning at the moment?",
    "music recommendations",
    "what should I avoid mentioning",
    "where do they work and what do they do there?",
)
FLOOR_SAMPLES = 40


def _sentence(rng: random.Random) -> str:
    return rng.choice(SENTENCES).format(x=rng.choice(TOPICS))


@dataclass(frozen=True)
class Target:
    """One backend's API processes, up and warmed: where to send load and with which key."""

    bases: list[str]  # one per API process
    key: str


@dataclass
class Load:
    """What a backend's segments of load measured, added up."""

    latencies: dict[str, list[float]] = field(
        default_factory=lambda: {"observe": [], "context": []}
    )
    errors: int = 0
    wall_s: float = 0.0
    client_cpu_s: float = 0.0
    # Context calls a second in each round's segment: the host's drift shows.
    context_per_s_by_round: list[float] = field(default_factory=list)

    def result(self) -> dict[str, Any]:
        rows: dict[str, dict[str, float]] = {}
        for op, values in self.latencies.items():
            ms = [v * 1000 for v in values]
            rows[op] = {
                "requests": float(len(values)),
                "per_s": len(values) / self.wall_s,
                "p50_ms": percentile(ms, 50) if ms else float("nan"),
                "p95_ms": percentile(ms, 95) if ms else float("nan"),
                "p99_ms": percentile(ms, 99) if ms else float("nan"),
            }
        return {
            "rows": rows,
            "errors": self.errors,
            "wall_s": self.wall_s,
            # The generator runs on the servers' cores: what it took is not theirs to serve with.
            "client_cores": self.client_cpu_s / self.wall_s,
            "context_per_s_by_round": self.context_per_s_by_round,
        }


def start_target(stack: ExitStack, db: str, processes: int, workdir: Path) -> Target:
    """``processes`` API servers on ``db`` (``bootstrap`` migrates it first), stopped with
    ``stack``; every user has something to retrieve before any load."""
    key = bootstrap(db)
    target = Target(start_servers(stack, db, processes, workdir), key)
    asyncio.run(_warm_up(target))
    return target


def _connections(target: Target) -> dict[str, LoadConnection]:
    headers = {"Authorization": f"Bearer {target.key}"}
    return {b: LoadConnection(b, headers, timeout=REQUEST_TIMEOUT_S) for b in target.bases}


async def _warm_up(target: Target) -> None:
    turn = itertools.cycle(target.bases)
    connections = _connections(target)
    try:
        for user in range(USERS):
            messages = [
                {"content": _sentence(random.Random(user * 100 + i))}
                for i in range(WARMUP_MESSAGES)
            ]
            reply = await connections[next(turn)].post(
                f"/v1/users/u{user}/observations", {"messages": messages}
            )
            if not reply.ok:
                raise RuntimeError(f"warm-up observe failed: {reply.status} {reply.body[:500]!r}")
    finally:
        for connection in connections.values():
            connection.close()


async def _segment(
    target: Target,
    load: Load,
    seconds: float,
    concurrency: int,
    seed: int,
    observe_share: float,
) -> None:
    """``seconds`` of the mix on ``target``, added to ``load``."""
    turn = itertools.cycle(target.bases)  # each request to the next server process
    contexts = len(load.latencies["context"])
    started, client_cpu = time.perf_counter(), time.process_time()
    deadline = started + seconds

    async def worker(n: int) -> None:
        # A connection to each server per worker: ``concurrency`` requests in flight, and
        # none waits for a connection another worker holds.
        rng = random.Random(seed + n)
        mine = _connections(target)
        try:
            while time.perf_counter() < deadline:
                user = f"u{rng.randrange(USERS)}"
                if rng.random() < observe_share:
                    op, path = "observe", f"/v1/users/{user}/observations"
                    body: dict[str, Any] = {"messages": [{"content": _sentence(rng)}]}
                else:
                    op, path = "context", "/v1/context"
                    # No budget: the server's default (SELFMODEL_DEFAULT_BUDGET_TOKENS).
                    body = {"user": user, "query": rng.choice(QUERIES)}
                sent = time.perf_counter()
                try:
                    reply = await mine[next(turn)].post(path, body)
                except TRANSPORT_ERRORS:
                    load.errors += 1
                    continue
                elapsed = time.perf_counter() - sent
                if reply.ok:
                    load.latencies[op].append(elapsed)
                else:
                    load.errors += 1
        finally:
            for connection in mine.values():
                connection.close()

    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    wall = time.perf_counter() - started
    load.wall_s += wall
    load.client_cpu_s += time.process_time() - client_cpu
    load.context_per_s_by_round.append((len(load.latencies["context"]) - contexts) / wall)


def segment_order(names: Sequence[str], rounds: int) -> list[tuple[str, int]]:
    """Which backend each segment loads, and in which round: every backend once a round, every
    other round in reverse (A B, B A, A B …), so a host that speeds up or slows down through
    the run favours none of them."""
    return [(name, r) for r in range(rounds) for name in (names if r % 2 == 0 else names[::-1])]


def run_backends(
    targets: Mapping[str, Target],
    duration: float,
    rounds: int,
    concurrency: int,
    seed: int,
    observe_share: float = DEFAULT_OBSERVE_SHARE,
    on_segment: Callable[[str, int], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """``duration`` seconds of load on each target, in ``rounds`` segments each, the targets
    taking turns (``segment_order``). ``on_segment(name, round)`` is told before each one."""
    loads = {name: Load() for name in targets}
    for name, round_ in segment_order(list(targets), rounds):
        if on_segment is not None:
            on_segment(name, round_)
        # A seed per round: every backend sees the same mix, segment by segment.
        segment_seed = seed + concurrency * round_  # its workers add 0 … concurrency - 1
        asyncio.run(
            _segment(
                targets[name],
                loads[name],
                duration / rounds,
                concurrency,
                segment_seed,
                observe_share,
            )
        )
    return {
        name: {**load.result(), "processes": len(targets[name].bases)}
        for name, load in loads.items()
    }


def context_ratios(results: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each backend's context calls a second over the first backend's: overall, and round by
    round (the two segments of a round ran minutes apart at most)."""
    names = list(results)
    if not names:
        return {}
    base = results[names[0]]
    ratios: dict[str, dict[str, Any]] = {}
    for name in names[1:]:
        ours = results[name]
        overall = base["rows"]["context"]["per_s"]
        ratios[name] = {
            "overall": ours["rows"]["context"]["per_s"] / overall if overall else float("nan"),
            "by_round": [
                a / b if b else float("nan")
                for a, b in zip(
                    ours["context_per_s_by_round"],
                    base["context_per_s_by_round"],
                    strict=True,
                )
            ],
        }
    return ratios


def embedding_floor() -> dict[str, Any]:
    """One query embedded alone, as each context call must: the latency no context call beats.
    With the embedder's name and, for a local model, what its linear layers compute in (the
    servers read the same settings)."""
    from selfmodel.cli.bench import bench_embedder

    embedder = bench_embedder()
    embedder.embed_one("warm up")  # the model's lazy start is not part of the floor
    timings = []
    for i in range(FLOOR_SAMPLES):
        started = time.perf_counter()
        embedder.embed_one(QUERIES[i % len(QUERIES)])
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": statistics.median(timings),
        "p95_ms": percentile(timings, 95),
        "embedder": embedder.name,
        "computes_in": getattr(embedder, "computes_in", None),
    }


def _backends(
    stack: ExitStack,
    workdir: Path,
    pg: bool,
    pg_url: str | None,
    sqlite_processes: int,
    pg_processes: int,
) -> dict[str, tuple[str, int]]:
    """Backend name → (where its database is, how many API processes serve it)."""
    backends = {"sqlite": (str(workdir / "bench.db"), sqlite_processes)}
    if pg_url:
        backends["postgresql"] = (pg_url, pg_processes)
    elif pg:
        from selfmodel.storage.local_postgres import LocalPostgres

        cluster = stack.enter_context(LocalPostgres.running())
        backends["postgresql"] = (stack.enter_context(cluster.database()), pg_processes)
    return backends


def serve_command(
    duration: Annotated[float, typer.Option(help="Seconds of load per backend.")] = 20.0,
    concurrency: Annotated[int, typer.Option(help="Requests in flight at once.")] = 8,
    pg: Annotated[
        bool,
        typer.Option(
            "--pg/--no-pg",
            help="Bench PostgreSQL too, on a throwaway cluster from the system's binaries.",
        ),
    ] = True,
    pg_url: Annotated[
        str | None,
        typer.Option("--pg-url", help="postgresql:// URL of an empty database to bench instead."),
    ] = None,
    sqlite_processes: Annotated[int, typer.Option(help="API processes on the SQLite file.")] = 1,
    pg_processes: Annotated[int, typer.Option(help="API processes on PostgreSQL.")] = 2,
    observe_share: Annotated[
        float, typer.Option(help="Share of requests that observe (the rest ask for context).")
    ] = DEFAULT_OBSERVE_SHARE,
    seed: Annotated[int, typer.Option(help="Seed of the operation mix.")] = 7,
    rounds: Annotated[
        int,
        typer.Option(
            help="Segments each backend's load is cut into, the backends taking turns (A B, B A,"
            " …) so host drift favours none. Not used by --soak."
        ),
    ] = DEFAULT_ROUNDS,
    soak: Annotated[
        float | None,
        typer.Option(
            help="Soak instead: SECONDS of mixed load (observe, context, corrections, forget) per"
            " backend while a separate worker is killed and restarted, then a reconciliation."
            " Exits 1 on any error, lost or duplicated item.",
        ),
    ] = None,
    kill_every: Annotated[
        float, typer.Option(help="With --soak: seconds between worker kills, on average.")
    ] = DEFAULT_KILL_EVERY_S,
    json_out: JsonOption = None,
) -> None:
    """Observe + context load through the HTTP API: throughput and p50/p95/p99, per backend;
    with --soak, a mixed load with a worker killed and restarted, then a reconciliation."""
    if min(duration, concurrency, sqlite_processes, pg_processes, rounds) <= 0:
        raise typer.BadParameter(
            "--duration, --concurrency, --rounds and the process counts must be positive"
        )
    if not 0.0 <= observe_share <= 1.0:
        raise typer.BadParameter("--observe-share must be between 0 and 1")
    if (soak is not None and soak <= 0) or kill_every <= 0:
        raise typer.BadParameter("--soak and --kill-every must be positive")
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="selfmodel-bench-")))
        backends = _backends(stack, workdir, pg, pg_url, sqlite_processes, pg_processes)
        if soak is not None:
            soak_command(backends, soak, concurrency, seed, kill_every, workdir, json_out)
            return
        floor = embedding_floor()
        with progress_bar() as progress:
            task = progress.add_task("bench serve", total=rounds * len(backends))
            targets: dict[str, Target] = {}
            for name, (db, processes) in backends.items():
                progress.update(task, description=f"{name}: starting and warming up")
                targets[name] = start_target(stack, db, processes, workdir)
            done = itertools.count()

            def on_segment(name: str, round_: int) -> None:
                progress.update(
                    task,
                    completed=next(done),
                    description=f"{name}: round {round_ + 1}/{rounds}, {duration / rounds:g} s",
                )

            results = run_backends(
                targets, duration, rounds, concurrency, seed, observe_share, on_segment
            )
            progress.update(task, completed=rounds * len(backends))
    rows = {
        f"{backend} ×{result['processes']} {op}": values
        for backend, result in results.items()
        for op, values in result["rows"].items()
    }
    formats = {"requests": "{:.0f}", "per_s": "{:.1f}"}
    columns = ["requests", "per_s", "p50_ms", "p95_ms", "p99_ms"]
    console.print(
        metrics_table(
            f"HTTP load: {concurrency} in flight, {duration:g} s per backend in {rounds} turns, "
            f"{observe_share:.0%} observe / {1 - observe_share:.0%} context "
            "(×n: API processes)",
            rows,
            columns,
            row_header="backend / op",
            formats=formats,
            default_format="{:.1f}",
        )
    )
    model = floor["embedder"] + (f", {floor['computes_in']}" if floor["computes_in"] else "")
    console.print(
        f"embedding floor ({model}; one query alone, idle): p50 {floor['p50_ms']:.1f} ms, "
        f"p95 {floor['p95_ms']:.1f} ms",
        highlight=False,
    )
    for backend, result in results.items():
        console.print(
            f"{backend}: {result['errors']} failed requests; the load generator took"
            f" {result['client_cores']:.2f} cores",
            highlight=False,
        )
    ratios = context_ratios(results)
    for backend, ratio in ratios.items():
        console.print(
            f"{backend} / {next(iter(results))} context calls a second: {ratio['overall']:.2f}"
            f" (by round: {' '.join(f'{r:.2f}' for r in ratio['by_round'])})",
            highlight=False,
        )
    if json_out:
        report = {
            "duration_s": duration,
            "concurrency": concurrency,
            "observe_share": observe_share,
            "rounds": rounds,
            "embedding_floor": floor,
            "backends": results,
            "context_ratios": ratios,
        }
        write_json(json_out, report)
        console.print(f"wrote {json_out}")
