"""``selfmodel bench extraction``: beliefs against LoCoMo's annotated facts, beside a baseline."""

from __future__ import annotations

from typing import Any

from selfmodel.bench.report import metrics_table, write_json
from selfmodel.cli.bench import DataOption, JsonOption, MoreDataArgument
from selfmodel.cli.output import console, progress_bar

COLUMNS = ("fact_recall", "precision", "beliefs_per_100_turns", "turns_per_s")
FORMATS = {"beliefs_per_100_turns": "{:.1f}", "turns_per_s": "{:.1f}"}


def extraction_command(
    data: DataOption,
    more: MoreDataArgument = None,
    json_out: JsonOption = None,
) -> None:
    """Fact recall and precision of extracted beliefs on LoCoMo, beside a verbatim baseline."""
    from selfmodel.bench.extraction import (
        BASELINE,
        MATCH_SIMILARITY,
        SYSTEM,
        run_extraction_bench,
        tracked,
    )
    from selfmodel.cli.app import friendly_errors
    from selfmodel.cli.bench import _embedder

    @friendly_errors
    def run() -> dict[str, Any]:
        with progress_bar() as progress:
            task = progress.add_task("extraction", total=None)
            return run_extraction_bench(
                [*data, *(more or [])],
                _embedder(),
                on_total=lambda n: progress.update(task, total=n),
                on_progress=lambda n: progress.advance(task, n),
            )

    report = run()
    rows = {"selfmodel": report[SYSTEM], "baseline (first-person sentences)": report[BASELINE]}
    for stem, per in report["per_file"].items():
        rows[f"  {stem}: selfmodel"] = per[SYSTEM]
        rows[f"  {stem}: baseline"] = per[BASELINE]
    console.print(
        metrics_table(
            f"LoCoMo extraction: {report['facts']} gold facts, {report['turns']} turns "
            f"(match: cosine ≥ {MATCH_SIMILARITY} and same turn)",
            rows,
            COLUMNS,
            formats=FORMATS,
        )
    )
    if json_out:
        write_json(json_out, tracked(report))
        console.print(f"wrote {json_out}")
