"""Regenerate docs/cli.md from the real ``--help`` output (tests fail when it drifts).

python scripts/cli_docs.py          # rewrite docs/cli.md
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from typer.testing import CliRunner

from selfmodel.cli import app

DOC = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def command_names() -> list[list[str]]:
    """Every command as its words after ``selfmodel``: each top-level command, and after a group
    (``bench``, ``eval``, ``key`` …) each of its commands, so their options are documented too."""
    import typer.main

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    names: list[list[str]] = []
    for name in sorted(commands):
        names.append([name])
        # A group (typer's click, whichever it vendors) is what has commands of its own.
        names.extend([name, sub] for sub in getattr(commands[name], "commands", {}))
    return names


def render() -> str:
    runner = CliRunner()
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    parts = [
        "# Command line reference\n",
        "Generated from `selfmodel --help` by `scripts/cli_docs.py`; do not edit by hand.\n",
    ]
    for args in [[], *command_names()]:
        result = runner.invoke(app, [*args, "--help"], env=env, prog_name="selfmodel")
        title = " ".join(["selfmodel", *args])
        parts.append(f"## `{title}`\n\n```text\n{result.output.rstrip()}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {DOC}\n")
