"""``selfmodel retention …`` and ``selfmodel audit-log``: policies, runs, the audit log."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Annotated

import typer
from rich.table import Table

from selfmodel.cli.app import DbOption, WorkspaceOption, friendly_errors, opened
from selfmodel.cli.output import console
from selfmodel.domain.retention import RETENTION_FIELDS, Deletion, RetentionPolicy

retention_app: typer.Typer = typer.Typer(
    help="Retention policies: how long a workspace keeps what it was told.",
    no_args_is_help=True,
)

# What `retention set` takes instead of a number of days to keep that data for ever.
FOREVER = "forever"
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _days_option(what: str) -> object:
    return typer.Option(
        help=f"{what}: a number of days, or '{FOREVER}'. Left out: unchanged.",
        show_default=False,
    )


def _days(value: str) -> int | str | None:
    """A days option as the policy takes it ("forever": None); anything else is handed to the
    policy as given, whose check names the field and the bounds."""
    if value.strip().lower() == FOREVER:
        return None
    try:
        return int(value)
    except ValueError:
        return value


def print_policy(policy: RetentionPolicy, workspace: str) -> None:
    table = Table(title=f"Retention policy of {workspace}")
    table.add_column("policy")
    table.add_column("keep")
    for name in RETENTION_FIELDS:
        days = getattr(policy, name)
        table.add_row(name, FOREVER if days is None else f"{days} days")
    console.print(table)


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{table} {n}" for table, n in counts.items())


@retention_app.command("show")
@friendly_errors
def retention_show(
    db: DbOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False
) -> None:
    """Show the workspace's retention policy (by default everything is kept for ever)."""
    with opened(db, workspace) as sm:
        policy, name = sm.retention_policy(), sm.workspace.name
    if as_json:
        sys.stdout.write(policy.model_dump_json() + "\n")
    else:
        print_policy(policy, name)


@retention_app.command("set")
@friendly_errors
def retention_set(
    observations_max_age_days: Annotated[
        str | None, _days_option("Delete raw observations older than this (beliefs stay)")
    ] = None,
    inactive_user_days: Annotated[
        str | None, _days_option("Forget users inactive for this long")
    ] = None,
    traces_max_age_days: Annotated[
        str | None, _days_option("Delete traces of context calls older than this")
    ] = None,
    db: DbOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Change the workspace's retention policy; the worker applies it (see `retention run`)."""
    given = {
        "observations_max_age_days": observations_max_age_days,
        "inactive_user_days": inactive_user_days,
        "traces_max_age_days": traces_max_age_days,
    }
    changes = {name: _days(value) for name, value in given.items() if value is not None}
    if not changes:
        raise typer.BadParameter("name at least one policy to change (see --help)")
    with opened(db, workspace) as sm:
        policy = sm.set_retention_policy(changes)
        print_policy(policy, sm.workspace.name)


@retention_app.command("run")
@friendly_errors
def retention_run(
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be deleted; delete nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Apply the workspace's retention policy now (the worker also does, periodically)."""
    with opened(db, workspace) as sm:
        report = sm.run_retention(dry_run=dry_run)
    if as_json:
        sys.stdout.write(report.model_dump_json() + "\n")
        return
    verb = "would delete" if dry_run else "deleted"
    table = Table(title=f"Retention of {report.workspace}: {verb} {report.rows} rows")
    for column in ("action", "policy", "user", "rows", "verified"):
        table.add_column(column)
    for d in report.deletions:
        table.add_row(d.action.value, d.policy or "", d.user or "", _counts(d.counts), _verdict(d))
    console.print(table)


def _verdict(deletion: Deletion) -> str:
    if deletion.verified is None:
        return "dry run"
    return "yes" if deletion.verified else "NO: rows left, see the logs"


@friendly_errors
def audit_log(
    db: DbOption = None,
    workspace: WorkspaceOption = None,
    user: Annotated[
        str | None,
        typer.Option(help="Only deletions about the user with this id (found by its hash)."),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many records.")] = None,
    after: Annotated[
        str | None, typer.Option(help="Records after this record id (to page on).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Every deletion made by forget or a retention policy, oldest first.

    Records hold counts, never message text, and name users by a keyed hash of their id.
    """
    with opened(db, workspace) as sm:
        records, name = sm.audit_log(user=user, after=after, limit=limit), sm.workspace.name
    if as_json:
        sys.stdout.write(json.dumps([r.model_dump(mode="json") for r in records]) + "\n")
        return
    table = Table(title=f"Audit log of {name}")
    for column in ("id", "at", "action", "policy", "subject", "rows", "verified"):
        table.add_column(column)
    for r in records:
        table.add_row(
            r.id,
            r.at.strftime("%Y-%m-%d %H:%M:%S"),
            r.action.value,
            r.policy or "",
            r.subject or "",
            _counts(r.counts),
            "yes" if r.verified else "NO",
        )
    console.print(table)
