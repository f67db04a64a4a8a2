"""Reading a SQLite file from outside the store, as an auditor would."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def row_counts(path: Path) -> dict[str, int]:
    """Rows per table of a SQLite file, read with a separate connection."""
    conn = sqlite3.connect(str(path))
    try:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not r[0].startswith("sqlite_")
        ]
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
    finally:
        conn.close()
