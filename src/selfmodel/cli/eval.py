"""``selfmodel eval …``: run a suite and record it, list the runs, compare two, watch for drift.

Thin: suites, scoring, recording and statistics live in ``selfmodel.evaluation``. ``eval compare``
exits 1 when the candidate run is significantly worse than the baseline, so CI can gate on it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from selfmodel.bench.report import write_json
from selfmodel.cli.app import (
    DbOption,
    WorkspaceOption,
    friendly_errors,
    print_error,
    setting_help,
)
from selfmodel.cli.output import console, progress_bar
from selfmodel.config import RetrievalSettings, Settings
from selfmodel.domain import EvalRun, Workspace
from selfmodel.domain.time import parse_timestamp
from selfmodel.embedding import embedder_from_settings
from selfmodel.engine import SelfModel
from selfmodel.errors import InvalidInputError, SelfModelError, WorkspaceNotFoundError
from selfmodel.evaluation import (
    DEFAULT_ALPHA,
    DEFAULT_K,
    Comparison,
    EvalConfiguration,
    EvalRuns,
    Suite,
    Verdict,
    compare_runs,
    golden_suite,
    locomo_suite,
    ranking_with,
    run_suite,
)
from selfmodel.evaluation.drift import DEFAULT_ALPHA as DRIFT_ALPHA
from selfmodel.evaluation.monitor import (
    DEFAULT_CURRENT_DAYS,
    DEFAULT_REFERENCE_DAYS,
    DriftReport,
)
from selfmodel.storage import Store, open_store

eval_app = typer.Typer(
    help="Evaluation: run suites, record the runs, compare them with statistics.",
    no_args_is_help=True,
)

JsonOut = Annotated[
    Path | None, typer.Option("--json", help="Also write the result as JSON to this file.")
]
# Exit codes of `eval compare`: 1 when the candidate is significantly worse than the baseline,
# 2 when no comparison could be made.
EXIT_WORSE = 1
EXIT_NO_COMPARISON = 2
RUN_ID_CHARS = 28  # "evr_" and 24 hex digits
HASH_SHOWN = 8  # leading hex digits of a hash a table shows
COMMIT_SHOWN = 12


@contextmanager
def _recorded_runs(
    db: str | None, workspace: str | None, *, create: bool
) -> Iterator[tuple[EvalRuns, Workspace, Settings]]:
    """The store's eval runs in the workspace the options (or settings) name."""
    settings = Settings()
    store: Store = open_store(db or settings.database.db)
    try:
        name = workspace or settings.database.workspace
        found = store.get_or_create_workspace(name) if create else store.get_workspace(name)
        if found is None:
            raise WorkspaceNotFoundError(f"no workspace {name!r}")
        yield EvalRuns(store), found, settings
    finally:
        store.close()


@eval_app.command("run")
@friendly_errors
def run_command(
    golden: Annotated[
        Path | None, typer.Option("--golden", help="A golden-set file (docs/evaluation.md).")
    ] = None,
    locomo: Annotated[
        Path | None, typer.Option("--locomo", help="A LoCoMo conversation file.")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Suite name (default: the file's stem).")
    ] = None,
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    k: Annotated[
        int, typer.Option("--k", help="Items of the block scored (evidence recall@k).")
    ] = DEFAULT_K,
    budget: Annotated[
        int | None,
        typer.Option(
            help=setting_help(
                "Token budget of each block.", RetrievalSettings, "default_budget_tokens"
            )
        ),
    ] = None,
    ranking: Annotated[
        list[str] | None,
        typer.Option(
            "--ranking",
            help="Override a ranking weight, NAME=VALUE (repeat); e.g. keyword_weight=0 for "
            "dense-only retrieval.",
            show_default=False,
        ),
    ] = None,
    json_out: JsonOut = None,
) -> None:
    """Run a suite under the current configuration and record the run in the workspace."""
    if golden is not None and locomo is None:
        suite = golden_suite(golden, name=name)
    elif locomo is not None and golden is None:
        suite = locomo_suite(locomo, name=name)
    else:
        raise InvalidInputError("give exactly one of --golden FILE and --locomo FILE")
    with _recorded_runs(db, workspace, create=True) as (runs, ws, settings):
        configuration = EvalConfiguration(
            settings=settings, ranking=ranking_with(ranking or []), k=k, budget_tokens=budget
        )
        embedder = embedder_from_settings(settings.embedding)
        wall = time.perf_counter()
        with progress_bar() as progress:
            task = progress.add_task(
                f"eval {suite.name}", total=suite.message_count + suite.item_count
            )
            scored = run_suite(
                suite, configuration, embedder, on_progress=lambda n: progress.advance(task, n)
            )
        run = runs.record(ws, suite, configuration, scored)
        wall_s = time.perf_counter() - wall
    console.print(_run_table(run, suite, wall_s))
    if json_out:
        write_json(json_out, {"run": run_as_dict(run), "items": [asdict(i) for i in scored.items]})
        console.print(f"wrote {json_out}")


def _run_table(run: EvalRun, suite: Suite, wall_s: float) -> Table:
    s = run.summary
    commit = (run.code_version.get("commit") or "")[:COMMIT_SHOWN] or "no git commit"
    table = Table(title=f"eval run {run.id}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    rows = {
        "suite": f"{escape(run.suite)} ({run.suite_kind}, data {run.dataset_sha256[:HASH_SHOWN]})",
        "items": f"{run.item_count} ({len(suite.histories)} histories)",
        f"mean recall@{run.k}": _fmt(run.mean_recall),
        "all evidence found": _fmt(s.get("all_found")),
        "must-not-contain violations": f"{s.get('violations', 0)} in "
        f"{s.get('items_with_violations', 0)} items",
        "tokens (mean)": _fmt(s.get("tokens_mean"), "{:.0f}"),
        "latency p50 / p95": f"{_fmt(s.get('latency_ms_p50'), '{:.1f}')} / "
        f"{_fmt(s.get('latency_ms_p95'), '{:.1f}')} ms",
        "configuration": f"{run.config_sha256[:HASH_SHOWN]} (budget {run.config['budget_tokens']})",
        "code": f"{run.code_version.get('package')} @ {commit}",
        "wall time": f"{wall_s:.1f} s",
    }
    for category, value in s.get("recall_by_category", {}).items():
        rows[f"  recall@{run.k}, category {category}"] = _fmt(value)
    for label, value in rows.items():
        table.add_row(label, value)
    return table


def _fmt(value: Any, form: str = "{:.3f}") -> str:
    return "–" if value is None else form.format(value)


def run_as_dict(run: EvalRun) -> dict[str, Any]:
    """A run as JSON-ready data (timestamps in ISO 8601)."""
    data = asdict(run)
    for key, value in data.items():
        if isinstance(value, datetime):
            data[key] = value.isoformat()
    return data


@eval_app.command("history")
@friendly_errors
def history_command(
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    suite: Annotated[str | None, typer.Option(help="Only the runs of this suite.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many runs.")] = 50,
) -> None:
    """The workspace's eval runs, newest first: suite, configuration, mean recall@k, items."""
    with _recorded_runs(db, workspace, create=False) as (runs, ws, _):
        listed = [r for r in runs.runs(ws) if suite is None or r.suite == suite]
    table = Table(title=f"eval runs in {escape(ws.name)} ({len(listed)})", box=None, pad_edge=False)
    # Ids and hashes are what a reader copies into `eval compare`: never wrapped or cut.
    table.add_column("run", no_wrap=True, min_width=RUN_ID_CHARS)
    table.add_column("started", no_wrap=True)
    table.add_column("suite", overflow="fold", min_width=8)
    table.add_column("config", no_wrap=True)
    table.add_column("recall@k", justify="right", no_wrap=True)
    table.add_column("items", justify="right", no_wrap=True)
    for run in listed[:limit]:
        table.add_row(
            run.id,
            f"{run.started_at:%m-%d %H:%M}",
            escape(run.suite),
            run.config_sha256[:HASH_SHOWN],
            f"{_fmt(run.mean_recall)} @{run.k}",
            str(run.item_count),
        )
    console.print(table)


@eval_app.command("compare")
def compare_command(
    baseline: Annotated[str, typer.Argument(help="The baseline run's id (A).")],
    candidate: Annotated[str, typer.Argument(help="The run compared with it (B).")],
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    alpha: Annotated[
        float, typer.Option(help="Significance level of the Wilcoxon test (docs/evaluation.md).")
    ] = DEFAULT_ALPHA,
    allow_different_data: Annotated[
        bool,
        typer.Option(
            "--allow-different-data",
            help="Pair the items of runs of different suites or data by id anyway.",
        ),
    ] = False,
    show: Annotated[int, typer.Option(min=0, help="Items that changed most to list.")] = 5,
    json_out: JsonOut = None,
) -> None:
    """Compare run B with run A item by item; exit 1 if B is significantly worse.

    Exit codes: 0 not significantly worse (better or no detectable change), 1 significantly
    worse, 2 no comparison (unknown run, runs of different data, bad options).
    """
    try:
        with _recorded_runs(db, workspace, create=False) as (runs, ws, _):
            a, b = runs.run(ws, baseline), runs.run(ws, candidate)
            comparison = compare_runs(
                a,
                runs.items(ws, a.id),
                b,
                runs.items(ws, b.id),
                alpha=alpha,
                allow_different_data=allow_different_data,
                shown=show,
            )
    except SelfModelError as exc:
        # Every failure to compare exits 2, so that 1 means "worse" and nothing else to a CI.
        print_error(exc)
        raise typer.Exit(EXIT_NO_COMPARISON) from None
    _print_comparison(a, b, comparison)
    if json_out:
        write_json(json_out, comparison.as_dict())
        console.print(f"wrote {json_out}")
    if comparison.verdict is Verdict.WORSE:
        raise typer.Exit(EXIT_WORSE)


def _print_comparison(a: EvalRun, b: EvalRun, c: Comparison) -> None:
    if not c.same_data:
        console.print(
            "[yellow]warning:[/yellow] the runs scored different data; items paired by id",
            highlight=False,
        )
    table = Table(title=f"recall@{a.k} of B {b.id} against A {a.id} ({c.paired} paired items)")
    for column in ("A", "B", "B − A", "95% CI", "Wilcoxon p"):
        table.add_column(column, justify="right")
    low, high = c.ci95
    table.add_row(
        f"{c.baseline_mean:.3f}",
        f"{c.candidate_mean:.3f}",
        f"{c.mean_difference:+.3f}",
        f"[{low:+.3f}, {high:+.3f}]",
        f"{c.p_value:.4g}",
    )
    console.print(table)
    # One line, never wrapped, so a CI log can be grepped for it.
    console.print(f"verdict: {c.verdict.value} (α = {c.alpha:g})", highlight=False, soft_wrap=True)
    if c.unpaired:
        console.print(f"{c.unpaired} items scored by only one run were left out", highlight=False)
    if c.changed_most:
        moved = Table(title="items that changed most")
        for column in ("item", "A", "B", "B − A"):
            moved.add_column(column, justify="left" if column == "item" else "right")
        for change in c.changed_most:
            moved.add_row(
                escape(change.item_id),
                f"{change.baseline:.3f}",
                f"{change.candidate:.3f}",
                f"{change.difference:+.3f}",
            )
        console.print(moved)


# Exit code of `eval drift` when the report raises an alert (2 stays "could not check").
EXIT_DRIFT = 1


@eval_app.command("drift")
def drift_command(
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    now: Annotated[
        str | None,
        typer.Option(help="End of the current window (ISO 8601; default: now)."),
    ] = None,
    reference_days: Annotated[
        float, typer.Option(help="Length of the reference window, just before the current one.")
    ] = DEFAULT_REFERENCE_DAYS,
    current_days: Annotated[
        float, typer.Option(help="Length of the current window, ending at --now.")
    ] = DEFAULT_CURRENT_DAYS,
    alpha: Annotated[
        float, typer.Option(help="Significance level of the drift tests (docs/evaluation.md).")
    ] = DRIFT_ALPHA,
    json_out: JsonOut = None,
) -> None:
    """Compare the workspace's recent queries and self-models with a reference window.

    Exit codes: 0 no drift alert, 1 at least one alert (so a cron job or CI can act), 2 no
    report (unknown workspace, bad options).
    """
    try:
        moment = parse_timestamp(now, field="now") if now is not None else None
        with SelfModel.open(db) as opened:
            sm = opened if workspace is None else opened.in_existing_workspace(workspace)
            report = sm.drift(
                now=moment, reference_days=reference_days, current_days=current_days, alpha=alpha
            )
    except SelfModelError as exc:
        print_error(exc)
        raise typer.Exit(EXIT_NO_COMPARISON) from None
    _print_drift(report)
    if json_out:
        write_json(json_out, report.as_dict())
        console.print(f"wrote {json_out}")
    if report.alerts:
        raise typer.Exit(EXIT_DRIFT)


def _print_drift(report: DriftReport) -> None:
    ref, cur = report.reference, report.current
    table = Table(
        title=f"drift in {escape(report.workspace)}: {ref.start:%Y-%m-%d} – {ref.end:%Y-%m-%d} "
        f"against {cur.start:%Y-%m-%d} – {cur.end:%Y-%m-%d}"
    )
    for column in ("check", "reference", "current", "statistic", "p", "drift"):
        table.add_column(column, justify="left" if column == "check" else "right")
    d = report.input_drift
    table.add_row(
        "queries (MMD²)",
        str(d.reference_queries),
        str(d.current_queries),
        _fmt(d.statistic, "{:.4f}"),
        _fmt(d.p_value, "{:.4f}"),
        _yes(d.drifted) if d.note is None else "not enough data",
    )
    for shift in report.categorical:
        table.add_row(
            f"{escape(shift.name)} (PSI)",
            str(sum(shift.reference_counts)),
            str(sum(shift.current_counts)),
            f"{shift.psi:.3f}",
            f"{shift.p_value:.2g}",
            _yes(shift.drifted),
        )
    s = report.self_model
    table.add_row(
        "belief changes (rate)",
        _fmt(s.reference.change_rate, "{:.0%}") + f" of {s.reference.events}",
        _fmt(s.current.change_rate, "{:.0%}") + f" of {s.current.events}",
        _fmt(s.change_rate_rise, "{:+.2f}"),
        _fmt(s.p_value, "{:.2g}"),
        _yes(s.drifted) if s.note is None else "not enough data",
    )
    console.print(table)
    if s.changed_most:
        users = Table(title="users whose self-model changed most (current window)")
        for column in ("user", "changes", "Δ confidence", "beliefs that moved"):
            users.add_column(column, justify="left" if column != "changes" else "right")
        for change in s.changed_most:
            moved = "; ".join(f"{m.event}: {m.statement}" for m in change.moved)
            users.add_row(
                escape(change.user),
                str(change.changes),
                f"{change.confidence_shift:+.2f}",
                escape(moved),
            )
        console.print(users)
    for alert in report.alerts:
        console.print(f"[red]alert:[/red] {escape(alert)}", highlight=False, soft_wrap=True)
    if not report.alerts:
        console.print("no drift alert", highlight=False)


def _yes(drifted: bool) -> str:
    return "[red]yes[/red]" if drifted else "no"


from selfmodel.cli.personalization import personalization_command  # noqa: E402  (imports this)

eval_app.command("personalization")(personalization_command)
