"""``selfmodel bench replay FILE``: replay every context call of a LoCoMo run, and dense-only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from selfmodel.bench.report import write_json
from selfmodel.cli.bench import JsonOption, bench_embedder
from selfmodel.cli.output import console, progress_bar


def replay_command(
    data: Annotated[Path, typer.Argument(help="A LoCoMo conversation file.")],
    json_out: JsonOption = None,
) -> None:
    """Record hundreds of `context` calls over a LoCoMo conversation, replay each as it was
    (reproduced N/N), and replay the final ones dense-only (the diff and its recall)."""
    from selfmodel.bench.replay import run_replay_bench
    from selfmodel.cli.app import friendly_errors

    @friendly_errors
    def run() -> dict[str, Any]:
        with progress_bar() as progress:
            task = progress.add_task("replay", total=None)
            return run_replay_bench(
                data,
                bench_embedder(),
                on_total=lambda n: progress.update(task, total=n),
                on_progress=lambda n: progress.advance(task, n),
            )

    report = run()
    ok = report["reproduced"] == report["traces"]
    colour = "green" if ok else "red"
    console.print(
        f"[{colour}]reproduced {report['reproduced']}/{report['traces']}[/{colour}] traces of"
        f" {report['conversation']} ({report['turns']} turns, {report['sessions']} sessions) ·"
        f" replay p50 {report['replay_ms_p50']:.0f} ms, p95 {report['replay_ms_p95']:.0f} ms",
        highlight=False,
    )
    for failure in report["not_reproduced"]:
        console.print(f"  {failure['trace_id']}: {', '.join(failure['differences'])}")
    dense = report["dense_only"]
    console.print(
        f"dense-only replay of the {dense['traces']} final traces: {dense['blocks_changed']}"
        f" blocks changed · per trace {dense['items_gained_mean']:.2f} gained,"
        f" {dense['items_lost_mean']:.2f} lost, {dense['items_moved_mean']:.2f} moved",
        highlight=False,
    )
    table = Table(title="evidence recall@10")
    table.add_column("")
    table.add_column("recall@10", justify="right")
    for name, value in dense["recall@10"].items():
        table.add_row(name.replace("_", " "), f"{value:.3f}")
    console.print(table)
    if json_out:
        write_json(json_out, report)
        console.print(f"wrote {json_out}")
    if not ok:
        raise typer.Exit(1)
