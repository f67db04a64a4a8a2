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


def command_names() -> list[str]:
    import typer.main

    group = typer.main.get_command(app)
    return sorted(group.commands)  # type: ignore[attr-defined]


def render() -> str:
    runner = CliRunner()
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    parts = [
        "# Command line reference\n",
        "Generated from `selfmodel --help` by `scripts/cli_docs.py`; do not edit by hand.\n",
    ]
    for args in [[], *[[name] for name in command_names()]]:
        result = runner.invoke(app, [*args, "--help"], env=env, prog_name="selfmodel")
        title = " ".join(["selfmodel", *args])
        parts.append(f"## `{title}`\n\n```text\n{result.output.rstrip()}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {DOC}\n")
