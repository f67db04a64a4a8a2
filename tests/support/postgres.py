"""The throwaway PostgreSQL cluster the tests share (``selfmodel.storage.local_postgres``), set
for speed, plus what only tests ask of it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Self

import psycopg

from selfmodel.storage.local_postgres import PG_BIN, LocalPostgres

__all__ = ["PG_BIN", "PostgresCluster"]

# Speed over durability: a test cluster is thrown away, and its server is never killed mid-test.
TEST_SETTINGS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    " -c max_connections=200 -c shared_buffers=64MB"
)


class PostgresCluster(LocalPostgres):
    @classmethod
    @contextmanager
    def running(cls, settings: str = TEST_SETTINGS) -> Iterator[Self]:
        with super().running(settings) as cluster:
            yield cluster

    def row_counts(self, url: str) -> dict[str, int]:
        """Rows per selfmodel table of a database, read with a separate connection."""
        with psycopg.connect(url) as conn:
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    " AND tablename <> 'selfmodel_schema'"
                )
            ]
            counts: dict[str, int] = {}
            for table in tables:
                row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
                counts[table] = int(row[0]) if row else 0
            return counts
