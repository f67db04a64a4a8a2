"""``selfmodel bench serve --soak SECONDS``: the soak per backend (``selfmodel.bench.soak``), a
table of what it did and what the reconciliation found, and a non-zero exit if anything failed,
was lost or was duplicated."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import typer
from rich.progress import Progress, TaskID

from selfmodel.bench.report import metrics_table, write_json
from selfmodel.bench.soak import run_soak
from selfmodel.cli.output import console, progress_bar

COLUMNS = ["requests", "errors", "p50_ms", "p95_ms", "p99_ms"]
FORMATS = {"requests": "{:.0f}", "errors": "{:.0f}"}
# The reconciliation's counts, in the order the closing lines list them.
FINDINGS = (
    "lost_observations",
    "unfinished_jobs",
    "dangling_evidence",
    "duplicated_observations",
    "duplicated_evidence",
    "duplicated_events",
    "miscounted_support",
    "duplicated_beliefs",
    "forget_leftovers",
)


def soak_command(
    backends: dict[str, tuple[str, int]],
    seconds: float,
    concurrency: int,
    seed: int,
    kill_every: float,
    workdir: Path,
    json_out: Path | None,
) -> None:
    """Soak each backend in turn, print the report, exit 1 unless everything reconciled."""
    results: dict[str, Any] = {}
    with progress_bar() as progress:
        for name, (db, processes) in backends.items():
            task = progress.add_task(f"{name}: soak", total=seconds)
            results[name] = run_soak(
                db,
                processes,
                seconds,
                concurrency,
                seed,
                workdir,
                kill_every=kill_every,
                on_tick=partial(_advance, progress, task),
            )
            progress.update(task, completed=seconds, description=f"{name}: soaked, reconciled")
    print_report(results, seconds, concurrency)
    if json_out:
        report = {
            "soak_s": seconds,
            "concurrency": concurrency,
            "kill_every_s": kill_every,
            "backends": results,
        }
        write_json(json_out, report)
        console.print(f"wrote {json_out}")
    if not all(soaked(result) for result in results.values()):
        raise typer.Exit(1)


def _advance(progress: Progress, task: TaskID, seconds: float) -> None:
    progress.update(task, completed=seconds)


def soaked(result: dict[str, Any]) -> bool:
    """No failed request, nothing lost, nothing duplicated, nothing left of a forgotten user."""
    found = result["reconciliation"]
    return bool(
        result["errors"] == 0
        and found["lost"] == 0
        and found["duplicated"] == 0
        and found["forget_leftovers"] == 0
    )


def print_report(results: dict[str, Any], seconds: float, concurrency: int) -> None:
    rows = {
        f"{backend} ×{result['processes']} {kind}": values
        for backend, result in results.items()
        for kind, values in result["rows"].items()
        if values["requests"]
    }
    console.print(
        metrics_table(
            f"Soak: {concurrency} in flight, {seconds:g} s per backend, worker killed and "
            "restarted (×n: API processes)",
            rows,
            COLUMNS,
            row_header="backend / request",
            formats=FORMATS,
            default_format="{:.1f}",
        )
    )
    for backend, result in results.items():
        found = result["reconciliation"]
        console.print(
            f"{backend}: {result['requests']} requests in {result['wall_s']:.0f} s, "
            f"errors {result['errors']}; worker killed {result['kills']}× "
            f"({result['kills_mid_job']} mid-job), queue drained in {result['drain_s']:.1f} s; "
            f"{result['jobs']} jobs, {result['forgotten_users']} users forgotten; "
            f"lost {found['lost']}, duplicated {found['duplicated']}, "
            f"left after forget {found['forget_leftovers']}",
            highlight=False,
        )
        details = ", ".join(f"{k} {found[k]}" for k in FINDINGS if found[k])
        if details:
            console.print(f"  {details}", highlight=False)
        for line in [*result["error_samples"], *found["examples"]]:
            console.print(f"  {line}", highlight=False, markup=False)
