"""``selfmodel bench serve``: sustained observe + context load through the HTTP API.

A server subprocess (``selfmodel serve``) per backend, a bounded async httpx client on loopback,
a fixed mix of operations for a fixed time; reports throughput and p50/p95/p99 per operation,
SQLite and PostgreSQL side by side in one run.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from selfmodel.bench.report import metrics_table, percentile, write_json
from selfmodel.cli.bench import JsonOption
from selfmodel.cli.output import console, progress_bar

USERS = 16
WARMUP_MESSAGES = 6
OBSERVE_SHARE = 0.5  # the rest are context calls
SERVER_START_TIMEOUT_S = 120.0
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
QUERIES = ("what does she do for fun?", "what is he working towards?", "what is their job?")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bootstrap(db: str) -> str:
    """A workspace and an admin key in ``db``, made directly (as `selfmodel key create` does)."""
    from selfmodel.storage import open_store
    from selfmodel.tenancy import Scope, Tenancy

    store = open_store(db)
    try:
        tenancy = Tenancy(store)
        ws = store.get_workspace("bench") or tenancy.create_workspace("bench")
        return tenancy.mint_key(ws, Scope.ADMIN, "bench serve").secret
    finally:
        store.close()


def _sentence(rng: random.Random) -> str:
    return rng.choice(SENTENCES).format(x=rng.choice(TOPICS))


async def _load(
    base: str, key: str, duration: float, concurrency: int, seed: int
) -> dict[str, Any]:
    latencies: dict[str, list[float]] = {"observe": [], "context": []}
    errors = 0
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=REQUEST_TIMEOUT_S
    ) as client:
        for user in range(USERS):  # every user has something to retrieve before the clock starts
            messages = [
                {"content": _sentence(random.Random(user * 100 + i))}
                for i in range(WARMUP_MESSAGES)
            ]
            (
                await client.post(f"/v1/users/u{user}/observations", json={"messages": messages})
            ).raise_for_status()
        deadline = time.perf_counter() + duration

        async def worker(n: int) -> None:
            nonlocal errors
            rng = random.Random(seed + n)
            while time.perf_counter() < deadline:
                user = f"u{rng.randrange(USERS)}"
                if rng.random() < OBSERVE_SHARE:
                    op, method, path = "observe", "POST", f"/v1/users/{user}/observations"
                    body: dict[str, Any] = {"messages": [{"content": _sentence(rng)}]}
                else:
                    op, method, path = "context", "POST", "/v1/context"
                    # No budget: the server's default (SELFMODEL_DEFAULT_BUDGET_TOKENS).
                    body = {"user": user, "query": rng.choice(QUERIES)}
                started = time.perf_counter()
                response = await client.request(method, path, json=body)
                elapsed = time.perf_counter() - started
                if response.is_success:
                    latencies[op].append(elapsed)
                else:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        wall = time.perf_counter() - started
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
    return {"rows": rows, "errors": errors, "wall_s": wall}


def _serve(db: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "selfmodel", "serve", "--db", db, "--port", str(port)]
    command += ["--log-level", "warning"]
    with log.open("wb") as sink:
        return subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)


def _wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.2)
    raise RuntimeError("server did not become ready in time")


def run_backend(
    db: str, duration: float, concurrency: int, seed: int, workdir: Path
) -> dict[str, Any]:
    key = _bootstrap(db)
    port = _free_port()
    log = workdir / f"serve-{port}.log"
    process = _serve(db, port, log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process, log)
        return asyncio.run(_load(base, key, duration, concurrency, seed))
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve_command(
    duration: Annotated[float, typer.Option(help="Seconds of load per backend.")] = 20.0,
    concurrency: Annotated[int, typer.Option(help="Requests in flight at once.")] = 8,
    pg_url: Annotated[
        str | None,
        typer.Option("--pg-url", help="postgresql:// URL of an empty database to bench too."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the operation mix.")] = 7,
    json_out: JsonOption = None,
) -> None:
    """Observe + context load through the HTTP API: throughput and p50/p95/p99, per backend."""
    if duration <= 0 or concurrency <= 0:
        raise typer.BadParameter("--duration and --concurrency must be positive")
    backends: dict[str, str] = {}
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="selfmodel-bench-serve-") as tmp:
        workdir = Path(tmp)
        backends["sqlite"] = str(workdir / "bench.db")
        if pg_url:
            backends["postgresql"] = pg_url
        with progress_bar() as progress:
            task = progress.add_task("bench serve", total=len(backends))
            for name, db in backends.items():
                progress.update(task, description=f"{name}: {duration:g} s of load")
                results[name] = run_backend(db, duration, concurrency, seed, workdir)
                progress.advance(task)
    rows = {
        f"{backend} {op}": values
        for backend, result in results.items()
        for op, values in result["rows"].items()
    }
    formats = {"requests": "{:.0f}", "per_s": "{:.1f}"}
    columns = ["requests", "per_s", "p50_ms", "p95_ms", "p99_ms"]
    console.print(
        metrics_table(
            f"HTTP load: {concurrency} in flight, {duration:g} s per backend, "
            f"{OBSERVE_SHARE:.0%} observe / {1 - OBSERVE_SHARE:.0%} context",
            rows,
            columns,
            row_header="backend / op",
            formats=formats,
            default_format="{:.1f}",
        )
    )
    for backend, result in results.items():
        console.print(f"{backend}: {result['errors']} failed requests", highlight=False)
    if not pg_url:
        console.print("PostgreSQL not benched: pass --pg-url postgresql://… (an empty database)")
    if json_out:
        report = {"duration_s": duration, "concurrency": concurrency, "backends": results}
        write_json(json_out, report)
        console.print(f"wrote {json_out}")
