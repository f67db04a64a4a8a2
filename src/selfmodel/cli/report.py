"""``selfmodel report``: engineering metrics beside outcomes — tables, JSON, an HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from selfmodel.bench.report import write_json
from selfmodel.cli.app import DbOption, WorkspaceOption, friendly_errors
from selfmodel.cli.output import console
from selfmodel.domain.report import DEFAULT_REPORT_DAYS, GroupSummary, JoinedReport
from selfmodel.domain.time import parse_timestamp
from selfmodel.engine import SelfModel
from selfmodel.report.page import render


def _n(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


def _groups(title: str, groups: list[GroupSummary], outcomes: list[str]) -> Table:
    table = Table(title=title)
    for column in ("group", "calls", "users", "p50 ms", "p95 ms", "tokens", "specificity"):
        table.add_column(column)
    for label in outcomes:
        table.add_column(label)
    for g in groups:
        by_metric = {o.metric: o for o in g.outcomes}
        table.add_row(
            escape(g.name),
            str(g.traces),
            str(g.users),
            _n(g.latency_ms_p50),
            _n(g.latency_ms_p95),
            _n(g.tokens),
            _n(g.specificity),
            *(_n(by_metric[label].value) if label in by_metric else "–" for label in outcomes),
        )
    return table


def print_report(report: JoinedReport) -> None:
    outcomes = sorted({o.metric for o in report.overall.outcomes})
    console.print(
        _groups(
            f"{escape(report.workspace)}: {report.start:%Y-%m-%d} – {report.end:%Y-%m-%d}",
            [report.overall, *report.variants, *report.segments],
            outcomes,
        )
    )
    console.print(f"recall of the last eval run: {_n(report.recall)}")
    table = Table(title="Engineering metric × outcome across days (Pearson's r)")
    for column in ("engineering", "outcome", "days", "r", "p"):
        table.add_column(column)
    for c in report.correlations:
        table.add_row(c.engineering, escape(c.outcome), str(c.days), _n(c.r), _n(c.p_value))
    console.print(table)
    for note in report.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")


@friendly_errors
def report_command(
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    now: Annotated[
        str | None, typer.Option(help="End of the window (ISO 8601; default: now).")
    ] = None,
    days: Annotated[float, typer.Option(help="Length of the window.")] = DEFAULT_REPORT_DAYS,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the report as JSON to this file.")
    ] = None,
    html_out: Annotated[
        Path | None, typer.Option("--html", help="Also write the report as an HTML page.")
    ] = None,
) -> None:
    """Engineering metrics (latency, tokens, specificity, recall) beside outcomes, per variant,
    per segment and per day, with their correlations (docs/experiments.md)."""
    moment = parse_timestamp(now, field="now") if now is not None else None
    with SelfModel.open(db) as opened:
        sm = opened if workspace is None else opened.in_existing_workspace(workspace)
        report = sm.report(now=moment, days=days)
    print_report(report)
    if json_out:
        write_json(json_out, report.model_dump(mode="json"))
        console.print(f"wrote {json_out}")
    if html_out:
        html_out.write_text(render(report), encoding="utf-8")
        console.print(f"wrote {html_out}")
