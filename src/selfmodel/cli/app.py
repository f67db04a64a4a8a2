"""``selfmodel`` commands. Thin: parse options, call the engine, render, translate errors."""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from importlib import resources
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from selfmodel.cli.output import console, errors, progress_bar, write_private
from selfmodel.cli.profile import print_profile
from selfmodel.config import DatabaseSettings, RetrievalSettings, SettingsGroup, env_var
from selfmodel.domain import ContextResult
from selfmodel.engine import SelfModel
from selfmodel.errors import SelfModelError
from selfmodel.ingest.files import read_conversation_file

app = typer.Typer(
    help="selfmodel: a persistent, inspectable self-model for every user of an AI product.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def setting_help(text: str, group: type[SettingsGroup], field: str) -> str:
    """Help of an option that overrides a setting: left out, the setting decides (whose own
    default is shown from the settings class, so no default is repeated here)."""
    default = group.model_fields[field].default
    return f"{text} " + escape(f"[default: ${env_var(field)}, else {default}]")


# Left out, --db and --workspace are the settings SELFMODEL_DB and SELFMODEL_WORKSPACE.
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help=setting_help("SQLite file or postgresql:// URL.", DatabaseSettings, "db")
    ),
]
WorkspaceOption = Annotated[
    str | None,
    typer.Option(
        "--workspace",
        "-w",
        help=setting_help("Workspace to act in.", DatabaseSettings, "workspace"),
    ),
]
AreaOption = Annotated[
    str | None,
    typer.Option(
        "--area",
        help="Only what belongs to this area (an app surface, a topic, a project) and what is "
        "global.",
        show_default=False,
    ),
]
DEMO_DB = "demo.db"
DEMO_USER = "maya"

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(func: F) -> F:
    """Turn selfmodel errors into one line on stderr and exit code 1 (2 for bad input)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SelfModelError as exc:
            print_error(exc)
            raise typer.Exit(2 if exc.code.startswith("invalid") else 1) from None

    return wrapper  # type: ignore[return-value]


def print_error(exc: SelfModelError) -> None:
    """The one line on stderr an error becomes."""
    # soft_wrap: one line however narrow the terminal, so it can be grepped.
    errors.print(f"[red]error:[/red] {exc.message}", highlight=False, soft_wrap=True)


@contextmanager
def opened(db: str | None, workspace: str | None) -> Iterator[SelfModel]:
    with SelfModel.open(db, workspace=workspace) as sm:
        yield sm


def ready_for_traffic(sm: SelfModel) -> None:
    """Before a long-running process (server, worker) takes work: the models loaded, and what
    they and their libraries hold (some 580,000 objects that live as long as the process) taken
    out of the garbage collector's full passes. Under ``bench serve`` each such pass held the
    GIL for 170 ms at the median and 310 ms at worst, every request in flight waiting."""
    sm.warm_up()
    gc.freeze()


def ingest_file(sm: SelfModel, path: Path) -> tuple[int, int, int]:
    """Ingest ``path`` with a progress bar. Returns (new observations, duplicates, beliefs made)."""
    batches = read_conversation_file(path)
    total = sum(len(b.messages) for b in batches)
    with progress_bar() as progress:
        task = progress.add_task(f"ingesting {path.name}", total=total)
        summary = sm.ingest(batches, on_progress=lambda n: progress.advance(task, n))
    return summary.new, summary.duplicates, summary.created


@app.command()
@friendly_errors
def ingest(
    file: Annotated[Path, typer.Argument(help="JSON, JSONL or LoCoMo conversation file.")],
    db: DbOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Ingest a conversation file: every message becomes an observation of its user."""
    with opened(db, workspace) as sm:
        new, duplicates, created = ingest_file(sm, file)
    console.print(f"{new} new observations, {duplicates} already known, {created} beliefs created")


@app.command()
@friendly_errors
def show(
    user: Annotated[str, typer.Argument(help="The user's id in your product.")],
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    kind: Annotated[str | None, typer.Option(help="Only beliefs of this kind.")] = None,
    all_statuses: Annotated[
        bool, typer.Option("--all", help="Include superseded, rejected and decayed beliefs.")
    ] = False,
    limit: Annotated[int, typer.Option(help="Show at most this many beliefs.")] = 50,
    area: AreaOption = None,
) -> None:
    """Show a user's self-model: the profile, then beliefs with confidence and evidence counts."""
    with opened(db, workspace) as sm:
        print_profile(console, sm.profile(user), user)
        print_beliefs(sm, user, kind=kind, all_statuses=all_statuses, limit=limit, area=area)


def print_beliefs(
    sm: SelfModel,
    user: str,
    *,
    kind: str | None = None,
    all_statuses: bool = False,
    limit: int = 50,
    area: str | None = None,
) -> None:
    beliefs = sm.beliefs(user, kind=kind, status=None if all_statuses else "active", area=area)
    beliefs.sort(key=lambda b: -b.confidence)
    table = Table(title=f"Self-model of {user} ({len(beliefs)} beliefs)")
    table.add_column("statement  [dim](id)[/dim]", ratio=1, min_width=30)
    table.add_column("kind")
    table.add_column("conf", justify="right")
    table.add_column("evidence", justify="right")
    table.add_column("origin")
    if all_statuses:
        table.add_column("status")
    for b in beliefs[:limit]:
        evidence = f"+{b.support_count}" + (f" −{b.contradict_count}" if b.contradict_count else "")
        statement = f"{escape(b.statement)}\n[dim]{b.id}[/dim]"
        row = [statement, b.kind.value, f"{b.confidence:.2f}", evidence, b.origin.value]
        if all_statuses:
            row.append(b.status.value)
        table.add_row(*row)
    console.print(table)


@app.command("context")
@friendly_errors
def context_command(
    user: Annotated[str, typer.Argument(help="User id (repeat with --also for several users).")],
    query: Annotated[str, typer.Argument(help="What the product is about to answer.")],
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    also: Annotated[list[str] | None, typer.Option(help="More users in the same scope.")] = None,
    budget: Annotated[
        int | None,
        typer.Option(
            help=setting_help(
                "Token budget of the block.", RetrievalSettings, "default_budget_tokens"
            )
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many items.")] = None,
    area: AreaOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
) -> None:
    """Print the prompt-ready context block for a query, and why each item was chosen."""
    with opened(db, workspace) as sm:
        result = sm.context(
            [user, *(also or [])], query, budget_tokens=budget, limit=limit, area=area
        )
    if as_json:
        console.print_json(result.model_dump_json())
        return
    print_context(result, query)


def print_context(result: ContextResult, query: str) -> None:
    console.rule(f"context for {query!r} — {result.tokens}/{result.budget_tokens} tokens")
    console.print(result.text or "(nothing relevant is known)", highlight=False, markup=False)
    console.rule(f"trace {result.trace_id} · {result.latency_ms:.1f} ms")
    for item in result.items:
        console.print(
            f"[dim]{item.id}[/dim] score {item.score:.4f} · {item.reason}", highlight=False
        )


@app.command()
@friendly_errors
def history(
    belief_id: Annotated[str, typer.Argument(help="A belief id (see `selfmodel show`).")],
    db: DbOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Show a belief, the evidence behind it, and every change it went through."""
    with opened(db, workspace) as sm:
        detail = sm.belief(belief_id)
    b = detail.belief
    console.print(f"[bold]{b.statement}[/bold]", highlight=False)
    console.print(
        f"{b.kind.value} · confidence {b.confidence:.2f} · {b.origin.value} · {b.status.value}"
    )
    evidence = Table(title="Evidence")
    for column in ("stance", "when", "said"):
        evidence.add_column(column)
    for e in detail.evidence:
        evidence.add_row(
            e.evidence.stance.value,
            e.said_at.date().isoformat(),
            e.said,
        )
    console.print(evidence)
    events = Table(title="History")
    for column in ("at", "event", "cause", "confidence"):
        events.add_column(column)
    for ev in detail.history:
        change = (
            ""
            if ev.confidence_after is None
            else (
                f"{ev.confidence_before or 0:.2f} → {ev.confidence_after:.2f}"
                if ev.confidence_before is not None
                else f"{ev.confidence_after:.2f}"
            )
        )
        events.add_row(ev.at.strftime("%Y-%m-%d %H:%M"), ev.type.value, ev.cause, change)
    console.print(events)


@app.command()
@friendly_errors
def export(
    user: Annotated[str, typer.Argument(help="The user's id in your product.")],
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Export everything stored about a user as JSON."""
    with opened(db, workspace) as sm:
        data = sm.export(user)
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if output:
        write_private(output, text + "\n")
        console.print(f"wrote {output}")
    else:
        sys.stdout.write(text + "\n")


@app.command()
@friendly_errors
def forget(
    user: Annotated[str, typer.Argument(help="The user's id in your product.")],
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Hard-delete every row about a user (observations, beliefs, history, vectors, traces)."""
    if not yes and not typer.confirm(f"Delete everything about {user!r}?"):
        raise typer.Exit(1)
    with opened(db, workspace) as sm:
        counts = sm.forget(user)
    console.print(f"forgot {user}: {counts.total} rows deleted")


@app.command("backup")
@friendly_errors
def backup_command(
    target: Annotated[Path, typer.Argument(help="The backup file to write (must not exist).")],
    db: DbOption = None,
) -> None:
    """Copy the SQLite database to TARGET, consistently even while a server writes to it."""
    from selfmodel.storage.backup import backup

    info = backup(db or DatabaseSettings().db, target)
    console.print(f"backed up to {info.path} (schema {info.schema_version}, {info.bytes:,} bytes)")


@app.command("restore")
@friendly_errors
def restore_command(
    backup_file: Annotated[Path, typer.Argument(help="A file written by `selfmodel backup`.")],
    db: DbOption = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace", help="Replace an existing database (stop servers and workers first)."
        ),
    ] = False,
) -> None:
    """Check BACKUP_FILE and put it in place of the SQLite database, in one rename."""
    from selfmodel.storage.backup import restore

    info = restore(backup_file, db or DatabaseSettings().db, replace=replace)
    console.print(f"restored {info.path} (schema {info.schema_version}, {info.bytes:,} bytes)")


@app.command()
@friendly_errors
def users(db: DbOption = None, workspace: WorkspaceOption = None) -> None:
    """List the users of a workspace."""
    with opened(db, workspace) as sm:
        for u in sm.users():
            console.print(u.external_id, highlight=False)


@app.command()
@friendly_errors
def demo(
    db: Annotated[
        str, typer.Option("--db", help="SQLite file for the demo (never $SELFMODEL_DB).")
    ] = DEMO_DB,
    workspace: WorkspaceOption = None,
) -> None:
    """Ingest a bundled demo conversation, then show the self-model and a context block."""
    source = resources.files("selfmodel") / "data" / "demo_conversation.jsonl"
    query = "Suggest a weekend plan she would enjoy"
    with resources.as_file(source) as path, opened(db, workspace) as sm:
        new, duplicates, created = ingest_file(sm, path)
        console.print(f"{new} new observations, {duplicates} already known, {created} beliefs")
        print_profile(console, sm.profile(DEMO_USER), DEMO_USER)
        print_beliefs(sm, DEMO_USER, limit=30)
        print_context(sm.context(DEMO_USER, query), query)


@app.command("trace")
@friendly_errors
def trace_command(
    trace_id: Annotated[str, typer.Argument(help="A trace id (printed by `selfmodel context`).")],
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole trace as JSON.")] = False,
) -> None:
    """Show one `context` call: the query, each candidate's signals, the choice, the config."""
    from selfmodel.cli.trace import print_trace

    with opened(db, workspace) as sm:
        record = sm.trace(trace_id)
    print_trace(console, record, as_json=as_json)


@app.command("outcomes")
@friendly_errors
def outcomes_command(
    user: Annotated[str, typer.Argument(help="Your id of the user.")],
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    trace_id: Annotated[
        str | None, typer.Option("--trace", help="Only the outcomes of this trace.")
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only outcomes of this kind (e.g. rating).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print them as JSON.")] = False,
) -> None:
    """List a user's outcomes (feedback, implicit signals, metrics) in the order recorded."""
    with opened(db, workspace) as sm:
        found = sm.outcomes(user, trace_id=trace_id, kind=kind)
    if as_json:
        console.print_json(json.dumps([o.model_dump(mode="json") for o in found]))
        return
    table = Table(title=f"Outcomes of {escape(user)} ({len(found)})")
    for column in ("occurred", "kind", "name", "value", "label", "trace"):
        table.add_column(column)
    for o in found:
        table.add_row(
            f"{o.occurred_at:%Y-%m-%d %H:%M}",
            o.kind.value,
            escape(o.name or ""),
            "" if o.value is None else f"{o.value:g}",
            escape(o.label or ""),
            o.trace_id or "",
        )
    console.print(table)


# Command groups live in their own modules (which import this one), registered here.
from selfmodel.cli.admin import key_app, workspace_app  # noqa: E402
from selfmodel.cli.audit import audit_command  # noqa: E402
from selfmodel.cli.bench import bench_app  # noqa: E402
from selfmodel.cli.debugging import (  # noqa: E402
    as_of_command,
    lineage_command,
    replay_command,
    why_not_command,
)
from selfmodel.cli.eval import eval_app  # noqa: E402
from selfmodel.cli.experiment import experiment_app  # noqa: E402
from selfmodel.cli.report import report_command  # noqa: E402
from selfmodel.cli.retention import audit_log, retention_app  # noqa: E402
from selfmodel.cli.serve import serve  # noqa: E402
from selfmodel.cli.worker import worker  # noqa: E402

app.add_typer(workspace_app, name="workspace")
app.add_typer(key_app, name="key")
app.add_typer(bench_app, name="bench")
app.add_typer(eval_app, name="eval")
app.add_typer(experiment_app, name="experiment")
app.add_typer(retention_app, name="retention")
app.command("audit")(audit_command)
app.command("audit-log")(audit_log)
app.command("report")(report_command)
app.command("as-of")(as_of_command)
app.command("replay")(replay_command)
app.command("why-not")(why_not_command)
app.command("lineage")(lineage_command)
app.command()(serve)
app.command()(worker)


def main() -> None:
    """Entry point of the ``selfmodel`` script."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # A `kill` or a CI timeout ends a command as Ctrl-C does: what it started (a benchmark's
    # servers, a throwaway PostgreSQL cluster, temporary files) is stopped on the way out
    # instead of left running. `serve` and `worker` install their own graceful stops.
    signal.signal(signal.SIGTERM, _terminated)
    app()


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)
