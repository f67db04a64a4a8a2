"""``selfmodel audit``: where the deployment stands on the five problems — a page, JSON, a table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from selfmodel.audit.page import render_audit
from selfmodel.cli.app import DbOption, WorkspaceOption, friendly_errors
from selfmodel.cli.output import console, progress_bar, write_private
from selfmodel.domain.audit import AuditReport, AuditStatus
from selfmodel.domain.time import parse_timestamp
from selfmodel.engine import SelfModel

COLOURS = {
    AuditStatus.HEALTHY: "green",
    AuditStatus.AT_RISK: "yellow",
    AuditStatus.FAILING: "red",
    AuditStatus.NOT_MEASURED: "dim",
}


def print_audit(report: AuditReport) -> None:
    table = Table(title=f"Audit of {escape(report.workspace)}: {report.start:%Y-%m-%d} – "
                  f"{report.end:%Y-%m-%d}")  # fmt: skip
    for column in ("problem", "status", "next action"):
        table.add_column(column)
    for s in [*report.problems, report.readiness]:
        colour = COLOURS[s.status]
        table.add_row(
            escape(s.title),
            f"[{colour}]{s.status.value.replace('_', ' ')}[/]",
            escape(s.next_action),
        )
    console.print(table)
    if report.costliest is not None:
        console.print(f"act first on: [bold]{report.section(report.costliest).title}[/bold]")


@friendly_errors
def audit_command(
    out: Annotated[Path, typer.Option("--out", help="The HTML page to write.")],
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Start of the window (ISO 8601 date or time; default: SELFMODEL_AUDIT_DAYS "
            "before its end)."
        ),
    ] = None,
    now: Annotated[
        str | None, typer.Option(help="End of the window (ISO 8601; default: now).")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the report as JSON to this file.")
    ] = None,
) -> None:
    """Audit the workspace from its own telemetry: per problem (evaluation drift, context decay,
    debug loops, metric misalignment, personalization gaps) and for readiness to scale, a status,
    the evidence and the next action, as one self-contained HTML page (docs/audit.md).

    Both files name users and traces: they are written readable by their owner only.
    """
    moment = parse_timestamp(now, field="now") if now is not None else None
    with SelfModel.open(db) as opened:
        sm = opened if workspace is None else opened.in_existing_workspace(workspace)
        with progress_bar() as progress:
            task = progress.add_task("reading telemetry", total=None)
            report = sm.audit(
                since=since,
                now=moment,
                on_progress=lambda done, total, step: progress.update(
                    task, completed=done, total=total, description=step
                ),
            )
    print_audit(report)
    page = render_audit(report)
    write_private(out, page)
    console.print(f"wrote {out} ({len(page.encode()) / 1024:.0f} KiB)", highlight=False)
    if json_out:
        write_private(json_out, json.dumps(report.model_dump(mode="json"), indent=2) + "\n")
        console.print(f"wrote {json_out}", highlight=False)
