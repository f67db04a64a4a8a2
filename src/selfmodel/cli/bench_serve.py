"""``selfmodel bench serve``: sustained observe + context load through the HTTP API.

Server subprocesses (``selfmodel serve``) per backend, ``concurrency`` async workers on loopback
(``selfmodel.bench.load_client``: the generator shares the servers' cores, so it is kept light)
spreading requests over them in turn, a fixed mix of operations for a fixed time; reports
throughput and p50/p95/p99 per operation, SQLite and PostgreSQL side by side in one run, with the
embedding floor (one query embedded alone, on an idle machine) measured in the same run.
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
from contextlib import ExitStack
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


async def _load(
    bases: list[str],
    key: str,
    duration: float,
    concurrency: int,
    seed: int,
    observe_share: float = DEFAULT_OBSERVE_SHARE,
) -> dict[str, Any]:
    latencies: dict[str, list[float]] = {"observe": [], "context": []}
    errors = 0
    headers = {"Authorization": f"Bearer {key}"}
    turn = itertools.cycle(bases)  # each request to the next server process

    def connections() -> dict[str, LoadConnection]:
        return {b: LoadConnection(b, headers, timeout=REQUEST_TIMEOUT_S) for b in bases}

    # Every user has something to retrieve before the clock starts.
    warm_up = connections()
    for user in range(USERS):
        messages = [
            {"content": _sentence(random.Random(user * 100 + i))} for i in range(WARMUP_MESSAGES)
        ]
        reply = await warm_up[next(turn)].post(
            f"/v1/users/u{user}/observations", {"messages": messages}
        )
        if not reply.ok:
            raise RuntimeError(f"warm-up observe failed: {reply.status} {reply.body[:500]!r}")
    for connection in warm_up.values():
        connection.close()
    deadline = time.perf_counter() + duration

    async def worker(n: int) -> None:
        # A connection to each server per worker: ``concurrency`` requests in flight, and
        # none waits for a connection another worker holds.
        nonlocal errors
        rng = random.Random(seed + n)
        mine = connections()
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
                started = time.perf_counter()
                try:
                    reply = await mine[next(turn)].post(path, body)
                except TRANSPORT_ERRORS:
                    errors += 1
                    continue
                elapsed = time.perf_counter() - started
                if reply.ok:
                    latencies[op].append(elapsed)
                else:
                    errors += 1
        finally:
            for connection in mine.values():
                connection.close()

    started, client_cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    wall = time.perf_counter() - started
    # The generator runs on the servers' cores: what it took is not theirs to serve with.
    client_cores = (time.process_time() - client_cpu) / wall
    rows: dict[str, dict[str, float]] = {}
    for op, values in latencies.items():
        ms = [v * 1000 for v in values]
        rows[op] = {
            "requests": float(len(values)),
            "per_s": len(values) / wall,
            "p50_ms": percentile(ms, 50) if ms else float("nan"),
            "p95_ms": percentile(ms, 95) if ms else float("nan"),
            "p99_ms": percentile(ms, 99) if ms else float("nan"),
        }
    return {"rows": rows, "errors": errors, "wall_s": wall, "client_cores": client_cores}


def run_backend(
    db: str,
    processes: int,
    duration: float,
    concurrency: int,
    seed: int,
    workdir: Path,
    observe_share: float = DEFAULT_OBSERVE_SHARE,
) -> dict[str, Any]:
    """Start ``processes`` API servers on ``db`` (``bootstrap`` migrates it first), then load."""
    key = bootstrap(db)
    with ExitStack() as stack:
        bases = start_servers(stack, db, processes, workdir)
        result = asyncio.run(_load(bases, key, duration, concurrency, seed, observe_share))
        return {**result, "processes": processes}


def embedding_floor() -> dict[str, float]:
    """One query embedded alone, as each context call must: the latency no context call beats."""
    from selfmodel.cli.bench import bench_embedder

    embedder = bench_embedder()
    embedder.embed_one("warm up")  # the model's lazy start is not part of the floor
    timings = []
    for i in range(FLOOR_SAMPLES):
        started = time.perf_counter()
        embedder.embed_one(QUERIES[i % len(QUERIES)])
        timings.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": statistics.median(timings), "p95_ms": percentile(timings, 95)}


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
    if duration <= 0 or concurrency <= 0 or sqlite_processes <= 0 or pg_processes <= 0:
        raise typer.BadParameter(
            "--duration, --concurrency and the process counts must be positive"
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
        results: dict[str, Any] = {}
        with progress_bar() as progress:
            task = progress.add_task("bench serve", total=len(backends))
            for name, (db, processes) in backends.items():
                progress.update(task, description=f"{name}: {duration:g} s of load")
                results[name] = run_backend(
                    db, processes, duration, concurrency, seed, workdir, observe_share
                )
                progress.advance(task)
    rows = {
        f"{backend} ×{result['processes']} {op}": values
        for backend, result in results.items()
        for op, values in result["rows"].items()
    }
    formats = {"requests": "{:.0f}", "per_s": "{:.1f}"}
    columns = ["requests", "per_s", "p50_ms", "p95_ms", "p99_ms"]
    console.print(
        metrics_table(
            f"HTTP load: {concurrency} in flight, {duration:g} s per backend, "
            f"{observe_share:.0%} observe / {1 - observe_share:.0%} context "
            "(×n: API processes)",
            rows,
            columns,
            row_header="backend / op",
            formats=formats,
            default_format="{:.1f}",
        )
    )
    console.print(
        f"embedding floor (one query alone, idle): p50 {floor['p50_ms']:.1f} ms, "
        f"p95 {floor['p95_ms']:.1f} ms",
        highlight=False,
    )
    for backend, result in results.items():
        console.print(
            f"{backend}: {result['errors']} failed requests; the load generator took"
            f" {result['client_cores']:.2f} cores",
            highlight=False,
        )
    if json_out:
        report = {
            "duration_s": duration,
            "concurrency": concurrency,
            "observe_share": observe_share,
            "embedding_floor": floor,
            "backends": results,
        }
        write_json(json_out, report)
        console.print(f"wrote {json_out}")
