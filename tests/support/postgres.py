"""The throwaway PostgreSQL cluster the tests share (``selfmodel.storage.local_postgres``), set
for speed, plus what only tests ask of it."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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


# Fresh databases made ahead of the tests that ask for one.
SPARE_DATABASES = 2


class PostgresCluster(LocalPostgres):
    """The shared cluster; a fresh database is made ahead of the test that asks for it, and a
    used one dropped after it, on a thread of their own: the server's work on another core,
    not in the test's time (each takes a tenth of a second or more, for a few hundred tests)."""

    _housekeeper: ThreadPoolExecutor
    _spares: deque[Future[str]]
    _drops: list[Future[None]]

    @classmethod
    @contextmanager
    def running(cls, settings: str = TEST_SETTINGS) -> Iterator[Self]:
        with super().running(settings) as cluster:
            cluster._housekeeper = ThreadPoolExecutor(1, thread_name_prefix="pg-housekeeper")
            cluster._spares = deque()
            cluster._drops = []
            try:
                yield cluster
            finally:
                cluster._housekeeper.shutdown(wait=True)
            for dropped in cluster._drops:
                dropped.result()  # a failed drop is an error of the run, not lost on a thread

    @contextmanager
    def database(self, like: str | None = None) -> Iterator[str]:
        """A fresh database at the current schema (made ahead), or a copy of ``like`` (made
        now); dropped afterwards, in the background."""
        if like is not None:
            url = self._create(like)
        else:
            while len(self._spares) < SPARE_DATABASES + 1:
                self._spares.append(self._housekeeper.submit(self._create))
            url = self._spares.popleft().result()
        try:
            yield url
        finally:
            self._drops.append(self._housekeeper.submit(self._drop, url))

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
