"""Everything a store holds, read from outside it as an auditor would: what tests scan for the
marker strings they seed, to prove a deletion (forget, retention) left nothing behind."""

from __future__ import annotations

from pathlib import Path

import psycopg

from selfmodel import SelfModel


def stored_text(location: str) -> bytes:
    """Everything the store holds, as bytes: the SQLite file and its companions, or every row of
    every PostgreSQL table."""
    if location.startswith("postgresql://"):
        with psycopg.connect(location) as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                ).fetchall()
            ]
            rows = [
                str(row[0])
                for table in tables
                for row in conn.execute(f'SELECT t::text FROM "{table}" t').fetchall()
            ]
        return "\n".join(rows).encode()
    path = Path(location)
    return b"".join(p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name))


def location_of(sm: SelfModel) -> str:
    store = sm.store
    path = getattr(store, "path", None)
    return str(path) if path is not None else str(store.url)  # type: ignore[attr-defined]
