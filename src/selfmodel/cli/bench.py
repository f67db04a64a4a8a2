"""``selfmodel bench …``: benchmarks as commands — a progress bar, a table, optionally JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from selfmodel.bench.report import metrics_table, write_json
from selfmodel.cli.output import console, progress_bar
from selfmodel.errors import InvalidInputError

bench_app = typer.Typer(
    help="Benchmarks: retrieval, extraction and preference quality; latency; experiment "
    "statistics; drift checks.",
    no_args_is_help=True,
)

JsonOption = Annotated[
    Path | None, typer.Option("--json", help="Also write the results as JSON to this file.")
]


def bench_embedder() -> Any:
    from selfmodel.config import Settings
    from selfmodel.embedding import embedder_from_settings

    return embedder_from_settings(Settings().embedding)


# Every LoCoMo benchmark takes its files the same way: `--data A --data B` or `--data A B`.
DataOption = Annotated[
    list[Path], typer.Option("--data", help="LoCoMo conversation file(s); repeat or list.")
]
MoreDataArgument = Annotated[
    list[Path] | None,
    typer.Argument(help="More files after --data (so `--data A B` works).", show_default=False),
]


@bench_app.command("locomo")
def locomo_command(
    data: DataOption,
    more: MoreDataArgument = None,
    json_out: JsonOption = None,
    k: Annotated[
        list[int] | None, typer.Option("--k", help="Cut-offs for recall@k (default 1 5 10 20).")
    ] = None,
) -> None:
    """Evidence recall@k of `context` on LoCoMo, beside BM25, dense and RRF raw-turn baselines."""
    from selfmodel.bench.locomo import ALL_AT_K, BELIEFS_ONLY, DEFAULT_KS, run_locomo
    from selfmodel.cli.app import friendly_errors

    @friendly_errors
    def run() -> dict[str, Any]:
        ks = tuple(k) if k else DEFAULT_KS
        if any(value <= 0 for value in ks):
            raise InvalidInputError("--k values must be positive")
        with progress_bar() as progress:
            task = progress.add_task("locomo", total=None)
            return run_locomo(
                [*data, *(more or [])],
                bench_embedder(),
                ks=ks,
                on_total=lambda n: progress.update(task, total=n),
                on_progress=lambda n: progress.advance(task, n),
            )

    report = run()
    ks = sorted({*(k or DEFAULT_KS), ALL_AT_K})
    columns = [*(f"recall@{x}" for x in ks), f"all@{ALL_AT_K}", f"tokens@{ALL_AT_K}"]
    formats = {f"tokens@{ALL_AT_K}": "{:.0f}"}
    systems = {
        "selfmodel": report["system"],
        f"beliefs only (≤ {report['beliefs_only_budget']} tokens)": report[BELIEFS_ONLY],
        **report["baselines"],
    }
    console.print(
        metrics_table(
            f"LoCoMo evidence recall, {report['questions']} questions (categories 1–4)",
            {name: r["overall"] for name, r in systems.items()},
            columns,
            row_header="overall",
            formats=formats,
        )
    )
    for category in report["system"]["by_category"]:
        rows = {name: r["by_category"].get(category, {}) for name, r in systems.items()}
        console.print(
            metrics_table(f"category {category}", rows, columns, row_header="", formats=formats)
        )
    console.print(lead_table(report["lead"]))
    latency = report["latency_ms"]
    console.print(
        f"full conversation: {report['full_tokens']:.0f} tokens · context p50 "
        f"{latency['context_p50']:.1f} ms, p95 {latency['context_p95']:.1f} ms · embedding one "
        f"query p50 {latency['embed_query_p50']:.1f} ms (the floor) · ingest "
        f"{report['ingest_turns_per_s']:.1f} turns/s · embedding batch "
        f"{report['embed_batch_per_s']:.0f} texts/s",
        highlight=False,
    )
    if json_out:
        write_json(json_out, report)
        console.print(f"wrote {json_out}")


def lead_table(
    lead: dict[str, Any], *, groups: str = "by_category", group_label: str = "category {}"
) -> Table:
    """The system's lead over the best baseline, overall and per group, with its CI."""
    bootstrap = lead["bootstrap"]
    table = Table(
        title=f"selfmodel's lead in {lead['metric']} over the best baseline "
        f"(paired bootstrap {bootstrap['confidence']:.0%} CI, {bootstrap['resamples']} resamples "
        f"of {bootstrap['unit']}s)"
    )
    for column in ("", "best baseline", "selfmodel", "baseline", "lead", "95% CI"):
        table.add_column(column, justify="left" if column in ("", "best baseline") else "right")
    rows = {"overall": lead["overall"]}
    rows.update({group_label.format(g): row for g, row in lead[groups].items()})
    for name, row in rows.items():
        low, high = row["ci95"]
        table.add_row(
            name,
            row["best_baseline"],
            f"{row['system']:.3f}",
            f"{row['baseline']:.3f}",
            f"{row['lead']:+.3f}",
            f"[{low:+.3f}, {high:+.3f}]",
        )
    return table


from selfmodel.cli.bench_serve import serve_command  # noqa: E402  (it imports this module)

bench_app.command("serve")(serve_command)

from selfmodel.cli.bench_extraction import extraction_command  # noqa: E402  (imports this module)

bench_app.command("extraction")(extraction_command)


from selfmodel.cli.bench_preferences import preferences_command  # noqa: E402  (imports this)

bench_app.command("preferences")(preferences_command)

from selfmodel.cli.bench_experiments import experiments_command  # noqa: E402  (imports this)

bench_app.command("experiments")(experiments_command)


@bench_app.command("scale")
def scale_command(
    users: Annotated[int, typer.Option(help="Synthetic users in the store.")] = 20,
    per_user: Annotated[int, typer.Option(help="Observations per user at the last step.")] = 2_000,
    steps: Annotated[int, typer.Option(help="Growth steps (sizes double up to --per-user).")] = 4,
    sizes: Annotated[
        list[int] | None,
        typer.Option(
            "--size", help="Observations per user at a step (repeat); replaces the doubling."
        ),
    ] = None,
    json_out: JsonOption = None,
) -> None:
    """Context latency (cold, warm, after a write) and memory as synthetic histories grow."""
    from selfmodel.bench.scale import run_scale
    from selfmodel.cli.app import friendly_errors

    @friendly_errors
    def run() -> dict[str, Any]:
        with progress_bar() as progress:
            task = progress.add_task("scale", total=None)
            return run_scale(
                bench_embedder(),
                users=users,
                per_user=per_user,
                steps=steps,
                sizes=sizes,
                on_total=lambda n: progress.update(task, total=n),
                on_progress=lambda n: progress.advance(task, n),
            )

    report = run()
    columns = [
        "observations_total",
        "insert_s",
        "context_cold_p50_ms",
        "context_warm_p50_ms",
        "context_warm_p95_ms",
        "context_after_write_p50_ms",
        "rss_mib",
    ]
    rows = {f"{r['observations_per_user']:,}": r for r in report["steps"]}
    formats = {c: "{:.1f}" for c in columns}
    formats["observations_total"] = "{:,.0f}"
    formats["insert_s"] = "{:.2f}"
    console.print(
        metrics_table(
            f"context cost as history grows ({report['users']} users, synthetic vectors)",
            rows,
            columns,
            row_header="per user",
            formats=formats,
            labels={
                "observations_total": "in store",
                "insert_s": "insert s",
                "context_cold_p50_ms": "cold ms",
                "context_warm_p50_ms": "warm p50",
                "context_warm_p95_ms": "warm p95",
                "context_after_write_p50_ms": "after write",
                "rss_mib": "RSS MiB",
            },
        )
    )
    first, last = report["steps"][0], report["steps"][-1]
    if len(report["steps"]) > 1 and first["context_warm_p95_ms"] > 0:
        growth = last["context_warm_p95_ms"] / first["context_warm_p95_ms"]
        console.print(
            f"warm p95 at {last['observations_per_user']:,} per user is {growth:.2f}× the p95 at "
            f"{first['observations_per_user']:,}",
            highlight=False,
        )
    if json_out:
        write_json(json_out, report)
        console.print(f"wrote {json_out}")


@bench_app.command("drift")
def drift_command(
    seeds: Annotated[int, typer.Option(min=1, help="Seeds (pairs of workspaces) to run.")] = 20,
    first_seed: Annotated[int, typer.Option(min=0, help="The first seed.")] = 0,
    json_out: JsonOption = None,
) -> None:
    """False alarm rate and detection of the worker's drift check (steady vs shifted data)."""
    from selfmodel.bench.drift import run_drift_bench
    from selfmodel.cli.app import friendly_errors

    @friendly_errors
    def run() -> dict[str, Any]:
        with progress_bar() as progress:
            task = progress.add_task("drift checks", total=seeds)
            return run_drift_bench(
                bench_embedder(),
                seeds=seeds,
                first_seed=first_seed,
                on_progress=lambda n: progress.advance(task, n),
            )

    report = run()
    table = Table(title=f"drift checks by the worker over {seeds} seeds")
    table.add_column("workspace")
    table.add_column("alert")
    table.add_column("seeds raising it", justify="right")
    table.add_column("rate", justify="right")
    table.add_row(
        "steady",
        "any (false alarm)",
        str(report["steady_seeds_with_alarm"]),
        f"{report['false_alarm_rate']:.3f}",
    )
    for kind, count in report["false_alarms_by_kind"].items():
        table.add_row("steady", kind, str(count), f"{count / seeds:.3f}")
    for kind, rate in report["detection_rate"].items():
        table.add_row("shifted", kind, str(round(rate * seeds)), f"{rate:.3f}")
    for kind, count in report["also_raised_when_shifted"].items():
        table.add_row("shifted", kind, str(count), f"{count / seeds:.3f}")
    console.print(table)
    console.print(
        f"false alarm rate {report['false_alarm_rate']:.3f} "
        f"({report['steady_seeds_with_alarm']}/{seeds} steady seeds with any alert) · "
        f"α = {report['thresholds']['drift_alpha']:g} per test · {report['seconds']:.0f} s",
        highlight=False,
    )
    if json_out:
        write_json(json_out, report)
        console.print(f"wrote {json_out}")


from selfmodel.cli.bench_replay import replay_command  # noqa: E402  (imports this module)

bench_app.command("replay")(replay_command)
