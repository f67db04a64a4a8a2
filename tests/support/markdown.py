"""Reading checked examples out of the docs: tables after ``<!-- check: NAME -->`` markers."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
README = DOCS.parent / "README.md"


def checked_tables(path: Path) -> dict[str, list[dict[str, str]]]:
    """Every table that follows a ``<!-- check: NAME -->`` line, as rows keyed by header."""
    found: dict[str, list[dict[str, str]]] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        marker = re.fullmatch(r"<!-- check: ([\w-]+) -->", line.strip())
        if not marker:
            continue
        table = []
        for row in lines[number + 1 :]:
            if not row.startswith("|"):
                break
            table.append([cell.strip() for cell in row.strip().strip("|").split("|")])
        if not table:
            continue  # a marker before a fenced block (see ``fenced``)
        header, _separator, *rows = table
        found[marker.group(1)] = [dict(zip(header, row, strict=True)) for row in rows]
    return found


def fenced(path: Path, after: str, language: str = "") -> str:
    """The first fenced block (of ``language``) after the line containing ``after``."""
    text = path.read_text(encoding="utf-8")
    start = text.index(after)
    match = re.compile(rf"```{language}\n(.*?)```", re.S).search(text, start)
    assert match, f"no ```{language} block after {after!r} in {path.name}"
    return match.group(1)
