"""``selfmodel bench preferences``: stated and chosen preferences recalled for later requests."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from selfmodel.bench.preferences import (
    DEFAULT_PREFERENCES_PER_USER,
    DEFAULT_SEED,
    DEFAULT_SPLIT,
    DEFAULT_USERS,
    KS,
    SPLITS,
    STYLES,
)
from selfmodel.bench.report import write_json
from selfmodel.cli.bench import JsonOption, lead_table
from selfmodel.cli.output import console, progress_bar


def preferences_command(
    users: Annotated[int, typer.Option(help="Synthetic users to generate.")] = DEFAULT_USERS,
    seed: Annotated[int, typer.Option(help="Seed of the generator (same seed, same users).")] = (
        DEFAULT_SEED
    ),
    split: Annotated[
        str,
        typer.Option(help=f"Templates to use: {', '.join(SPLITS)} (test is held out)."),
    ] = DEFAULT_SPLIT,
    per_user: Annotated[
        int, typer.Option(help="Preferences each user states (half plainly, half by choosing).")
    ] = DEFAULT_PREFERENCES_PER_USER,
    json_out: JsonOption = None,
) -> None:
    """Recall of preferences (stated or chosen) for requests that share few words with them."""
    from selfmodel.bench.preferences import run_preferences
    from selfmodel.cli.app import friendly_errors
    from selfmodel.cli.bench import bench_embedder

    @friendly_errors
    def run() -> dict[str, Any]:
        with progress_bar() as progress:
            task = progress.add_task(f"preferences ({split})", total=None)
            return run_preferences(
                bench_embedder(),
                users=users,
                seed=seed,
                split=split,
                per_user=per_user,
                on_total=lambda n: progress.update(task, total=n),
                on_progress=lambda n: progress.advance(task, n),
            )

    report = run()
    console.print(recall_table(report))
    console.print(lead_table(report["lead"], groups="by_style", group_label="{}"))
    statement = report["overlap"]["request_vs_statement"]
    session = report["overlap"]["request_vs_session"]
    console.print(
        f"split {report['split']} · {report['users']} users × {report['preferences_per_user']} "
        f"preferences · {report['requests']} requests · {report['turns']} turns · content-word "
        f"overlap (Jaccard) of a request with its statement: mean {statement['mean']:.3f}, max "
        f"{statement['max']:.3f}; with the whole preference session: mean {session['mean']:.3f} · "
        f"ingest {report['ingest_turns_per_s']:.1f} turns/s",
        highlight=False,
    )
    if json_out:
        write_json(json_out, report)
        console.print(f"wrote {json_out}")


def recall_table(report: dict[str, Any]) -> Table:
    """recall@k with its 95% interval per system, overall and per style."""
    table = Table(
        title=f"Preference recall, split {report['split']}, {report['requests']} requests "
        "(95% bootstrap CI)"
    )
    table.add_column("")
    table.add_column("requests", justify="right")
    for k in KS:
        table.add_column(f"recall@{k}", justify="right")
    systems = {"selfmodel": report["system"], **report["baselines"]}
    for group in (None, *STYLES):
        for name, result in systems.items():
            row = result["overall"] if group is None else result["by_style"][group]
            label = name if group is None else f"  {group}: {name}"
            cells = [
                f"{row[f'recall@{k}']:.3f} [{row['ci95'][f'recall@{k}'][0]:.2f}, "
                f"{row['ci95'][f'recall@{k}'][1]:.2f}]"
                for k in KS
            ]
            table.add_row(label, str(row["requests"]), *cells)
    return table
