"""``selfmodel eval personalization``: how personal the workspace's context blocks are."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from selfmodel.bench.report import write_json
from selfmodel.cli.app import DbOption, WorkspaceOption, friendly_errors
from selfmodel.cli.eval import JsonOut
from selfmodel.cli.output import console
from selfmodel.domain.personalization import (
    DEFAULT_DAYS,
    DEFAULT_MIN_BELIEFS,
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_MIN_OFFERS,
    PersonalizationReport,
)
from selfmodel.domain.time import parse_timestamp
from selfmodel.engine import SelfModel


@friendly_errors
def personalization_command(
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    now: Annotated[
        str | None, typer.Option(help="End of the window (ISO 8601; default: now).")
    ] = None,
    days: Annotated[float, typer.Option(help="Length of the window.")] = DEFAULT_DAYS,
    min_beliefs: Annotated[
        int, typer.Option(help="Confident beliefs a user needs to count as covered.")
    ] = DEFAULT_MIN_BELIEFS,
    min_confidence: Annotated[
        float, typer.Option(help="Confidence a belief needs to count.")
    ] = DEFAULT_MIN_CONFIDENCE,
    min_offers: Annotated[
        int, typer.Option(help="Offers without a use that make a belief idle.")
    ] = DEFAULT_MIN_OFFERS,
    json_out: JsonOut = None,
) -> None:
    """Specificity and distinctiveness of context blocks per experiment variant, coverage of the
    users served, and which offered beliefs answers used (docs/experiments.md)."""
    moment = parse_timestamp(now, field="now") if now is not None else None
    with SelfModel.open(db) as opened:
        sm = opened if workspace is None else opened.in_existing_workspace(workspace)
        report = sm.personalization(
            now=moment,
            days=days,
            min_beliefs=min_beliefs,
            min_confidence=min_confidence,
            min_offers=min_offers,
        )
    print_personalization(report)
    if json_out:
        write_json(json_out, report.model_dump(mode="json"))
        console.print(f"wrote {json_out}")


def print_personalization(report: PersonalizationReport) -> None:
    window = f"{report.start:%Y-%m-%d} – {report.end:%Y-%m-%d}"
    table = Table(title=f"How personal were the context blocks ({window})")
    for column in ("variant", "blocks", "empty", "specificity", "queries compared", "distinct"):
        table.add_column(column)
    for v in report.variants:
        table.add_row(
            escape(v.variant),
            str(v.traces),
            str(v.empty_blocks),
            f"{v.specificity:.3f}",
            str(v.queries_compared),
            "–" if v.distinctiveness is None else f"{v.distinctiveness:.3f}",
        )
    console.print(table)
    c = report.coverage
    share = "–" if c.share is None else f"{c.share:.1%}"
    console.print(f"coverage: {c.covered} of {c.active_users} users served ({share})")
    if c.below:
        below = ", ".join(f"{escape(u.user)} ({u.confident_beliefs})" for u in c.below)
        console.print(f"  below: {below}")
    u = report.belief_use
    rate = "–" if u.use_rate is None else f"{u.use_rate:.1%}"
    console.print(
        f"belief use: {u.used} of {u.offered} beliefs offered were used ({rate}), over"
        f" {u.reported_traces} answers that reported what they used"
    )
    if u.idle:
        idle = Table(title="Beliefs that never earn their tokens")
        for column in ("user", "belief", "offered", "tokens"):
            idle.add_column(column)
        for b in u.idle:
            idle.add_row(escape(b.user), escape(b.text), str(b.offered), str(b.tokens))
        console.print(idle)
