"""Reading a store's rows from outside it, as an auditor would, on either backend."""

from __future__ import annotations

import sqlite3

import psycopg

from selfmodel.storage import is_postgres_url


def rows_of_user(location: str, user_id: str) -> dict[str, int]:
    """Rows that mention ``user_id`` in any table (by a user_id column, or users.id)."""
    found: dict[str, int] = {}
    if is_postgres_url(location):
        with psycopg.connect(location) as conn:
            columns = conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = 'public' AND column_name IN ('user_id', 'id')"
            ).fetchall()
            for table, column in columns:
                if column == "id" and table != "users":
                    continue
                row = conn.execute(
                    f"SELECT count(*) FROM {table} WHERE {column} = %s", (user_id,)
                ).fetchone()
                if row and row[0]:
                    found[table] = int(row[0])
        return found
    conn = sqlite3.connect(location)
    try:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not r[0].startswith("sqlite_")
        ]
        for table in tables:
            names = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
            column = "id" if table == "users" else "user_id"
            if column not in names:
                continue
            count = conn.execute(
                f"SELECT count(*) FROM {table} WHERE {column} = ?", (user_id,)
            ).fetchone()[0]
            if count:
                found[table] = int(count)
    finally:
        conn.close()
    return found
