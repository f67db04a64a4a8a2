"""``selfmodel workspace …`` and ``selfmodel key …``: the admin bootstrap of the HTTP API.

These work on the database directly (no server, no model loaded): create a workspace, mint its
first admin key, and from then on manage keys over the API too.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.table import Table

from selfmodel.cli.app import DbOption, friendly_errors
from selfmodel.cli.output import console
from selfmodel.config import Settings
from selfmodel.storage import open_store
from selfmodel.tenancy import Tenancy, parse_scope

workspace_app: typer.Typer = typer.Typer(
    help="Workspaces: isolated tenants of one database.", no_args_is_help=True
)
key_app: typer.Typer = typer.Typer(
    help="Workspace API keys for the HTTP API.", no_args_is_help=True
)

TargetWorkspace = Annotated[
    str, typer.Option("--workspace", "-w", help="The workspace (it must exist).")
]


@contextmanager
def _tenancy(db: str | None) -> Iterator[Tenancy]:
    settings = Settings()  # read (and checked) even with --db, as every command does
    store = open_store(db or settings.database.db)
    try:
        yield Tenancy(store)
    finally:
        store.close()


@workspace_app.command("create")
@friendly_errors
def workspace_create(
    name: Annotated[str, typer.Argument(help="Name of the new workspace.")],
    db: DbOption = None,
) -> None:
    """Create a workspace (refuses a name that exists)."""
    with _tenancy(db) as tenancy:
        ws = tenancy.create_workspace(name)
    console.print(f"created workspace {ws.name} ({ws.id})", highlight=False)


@workspace_app.command("list")
@friendly_errors
def workspace_list(db: DbOption = None) -> None:
    """List the workspaces of a database."""
    with _tenancy(db) as tenancy:
        for ws in tenancy.workspaces():
            console.print(f"{ws.name}\t{ws.id}", highlight=False)


@key_app.command("create")
@friendly_errors
def key_create(
    workspace: TargetWorkspace,
    scope: Annotated[str, typer.Option(help="admin, write or read.")] = "read",
    name: Annotated[str | None, typer.Option(help="A label for the key.")] = None,
    db: DbOption = None,
) -> None:
    """Mint an API key; the key is printed once, alone on the last line."""
    with _tenancy(db) as tenancy:
        minted = tenancy.mint_key(tenancy.workspace(workspace), parse_scope(scope), name)
    console.print(
        f"created {minted.record.scope} key {minted.record.id} for workspace {workspace}; "
        "store it now, it is not shown again:",
        highlight=False,
    )
    sys.stdout.write(minted.secret + "\n")


@key_app.command("list")
@friendly_errors
def key_list(workspace: TargetWorkspace, db: DbOption = None) -> None:
    """List a workspace's keys (never their secrets)."""
    with _tenancy(db) as tenancy:
        keys = tenancy.keys(tenancy.workspace(workspace))
    table = Table(title=f"API keys of {workspace}")
    for column in ("id", "prefix", "scope", "name", "created", "revoked"):
        table.add_column(column)
    for k in keys:
        table.add_row(
            k.id,
            k.prefix + "…",
            k.scope.value,
            k.name or "",
            k.created_at.strftime("%Y-%m-%d %H:%M"),
            k.revoked_at.strftime("%Y-%m-%d %H:%M") if k.revoked_at else "",
        )
    console.print(table)


@key_app.command("revoke")
@friendly_errors
def key_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (see `selfmodel key list`).")],
    workspace: TargetWorkspace,
    db: DbOption = None,
) -> None:
    """Revoke a key: it stops working at once."""
    with _tenancy(db) as tenancy:
        tenancy.revoke_key(tenancy.workspace(workspace), key_id)
    console.print(f"revoked {key_id}", highlight=False)
