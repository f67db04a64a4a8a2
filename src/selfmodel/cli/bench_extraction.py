"""``selfmodel bench extraction``: beliefs against LoCoMo's annotated facts, beside baselines."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from selfmodel.bench.report import metrics_table, write_json
from selfmodel.cli.bench import DataOption, JsonOption, MoreDataArgument
from selfmodel.cli.output import console, progress_bar

COLUMNS = ("fact_recall", "precision", "f1", "beliefs_per_100_turns", "turns_per_s")
FORMATS = {"beliefs_per_100_turns": "{:.1f}", "turns_per_s": "{:.1f}"}
LABELS = {
    "fact_recall": "fact recall",
    "f1": "F1",
    "beliefs_per_100_turns": "beliefs / 100 turns",
    "turns_per_s": "turns/s",
}
# What each baseline keeps, verbatim, for the table's row names.
BASELINE_LABELS = {
    "first_person": "first_person (first-person sentences)",
    "every_sentence": "every_sentence (all sentences)",
    "whole_turns": "whole_turns (whole turns)",
}


def extraction_command(
    data: DataOption,
    more: MoreDataArgument = None,
    json_out: JsonOption = None,
) -> None:
    """Fact recall, precision and F1 of extracted beliefs on LoCoMo, beside verbatim baselines."""
    from selfmodel.bench.extraction import MATCH_SIMILARITY, SYSTEM, run_extraction_bench
    from selfmodel.cli.app import friendly_errors
    from selfmodel.cli.bench import bench_embedder

    @friendly_errors
    def run() -> dict[str, Any]:
        with progress_bar() as progress:
            task = progress.add_task("extraction", total=None)
            return run_extraction_bench(
                [*data, *(more or [])],
                bench_embedder(),
                on_total=lambda n: progress.update(task, total=n),
                on_progress=lambda n: progress.advance(task, n),
            )

    report = run()
    rows = {"selfmodel": report[SYSTEM]}
    rows.update({BASELINE_LABELS.get(n, n): m for n, m in report["baselines"].items()})
    per_file = report["per_file"] if len(report["per_file"]) > 1 else {}  # else repeats the rows
    for stem, per in per_file.items():
        for name, metrics in per.items():
            rows[f"  {stem}: {'selfmodel' if name == SYSTEM else name}"] = metrics
    console.print(
        metrics_table(
            f"LoCoMo extraction: {report['facts']} gold facts, {report['turns']} turns "
            f"(match: cosine ≥ {MATCH_SIMILARITY} and same turn)",
            rows,
            COLUMNS,
            formats=FORMATS,
            labels=LABELS,
        )
    )
    console.print(reliability_table(report["reliability"]))
    if json_out:
        write_json(json_out, report)
        console.print(f"wrote {json_out}")


def reliability_table(bins: list[dict[str, Any]]) -> Table:
    """selfmodel's beliefs by confidence: how many, and what share match a gold fact."""
    table = Table(title="Reliability: selfmodel's beliefs by confidence")
    for column in ("confidence", "beliefs", "matching", "share matching", "mean confidence"):
        table.add_column(column, justify="left" if column == "confidence" else "right")
    for row in bins:
        empty = row["beliefs"] == 0
        table.add_row(
            row["bin"],
            str(row["beliefs"]),
            str(row["matching"]),
            "–" if empty else f"{row['share_matching']:.3f}",
            "–" if empty else f"{row['mean_confidence']:.3f}",
        )
    return table
