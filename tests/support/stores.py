"""The stores tests run on: each backend, and a store filled once and copied for every test.

Filling a store takes the engine's real work (extraction, embeddings, revision); a copy of the
filled file or database takes milliseconds. Each test still gets a store of its own: a copy of
the SQLite file, or a PostgreSQL database made from the filled one as its template.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from selfmodel import SelfModel
from selfmodel.embedding import Embedder
from selfmodel.storage import is_postgres_url
from tests.support.postgres import PostgresCluster

# The contract suite and the engine tests run once per backend (tests/conftest.py).
BACKENDS = ["sqlite", "postgres"]
DB_FILE = "selfmodel.db"


@contextmanager
def filled_store(
    request: pytest.FixtureRequest,
    backend: str,
    embedder: Embedder,
    fill: Callable[[SelfModel], None],
) -> Iterator[str]:
    """A store of ``backend`` ("sqlite" or "postgres") filled by ``fill`` and closed (a closed
    SQLite store is one whole file; nobody is connected to the database): where it is."""
    if backend == "postgres":
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        with cluster.database() as url:
            _fill(url, embedder, fill)
            yield url
        return
    folder: Path = request.getfixturevalue("tmp_path_factory").mktemp("filled")
    location = str(folder / DB_FILE)
    _fill(location, embedder, fill)
    yield location


def _fill(location: str, embedder: Embedder, fill: Callable[[SelfModel], None]) -> None:
    with SelfModel.open(location, embedder=embedder) as sm:
        fill(sm)


@contextmanager
def copy_of_store(request: pytest.FixtureRequest, filled: str, folder: Path) -> Iterator[str]:
    """A copy of the store at ``filled`` (from ``filled_store``), in ``folder`` for SQLite: its
    location; a PostgreSQL copy is dropped afterwards."""
    if is_postgres_url(filled):
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        with cluster.database(like=filled) as url:
            yield url
        return
    location = folder / DB_FILE
    shutil.copy(filled, location)
    yield str(location)
