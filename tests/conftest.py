"""Shared fixtures: real SQLite files in temp dirs and the real embedding model (loaded once)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from selfmodel import SelfModel
from selfmodel.client import Client
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.server import create_app
from selfmodel.storage import Store, is_postgres_url, open_store
from tests.support.postgres import PostgresCluster
from tests.support.server import new_workspace_key, running_server
from tests.support.statements import PostgresStatements, SQLiteStatements
from tests.support.stores import BACKENDS


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 from the bundled package; loaded once for the whole run."""
    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def exact_embedder() -> SentenceTransformerEmbedder:
    """The same model giving its own float32 vectors (``precision="float32"``), where a story
    hangs on a near tie that bfloat16 rounding can turn (it shares the loaded model)."""
    return SentenceTransformerEmbedder(precision="float32")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "selfmodel.db"


@pytest.fixture
def sm(db_path: Path, embedder: SentenceTransformerEmbedder) -> Iterator[SelfModel]:
    with SelfModel.open(str(db_path), embedder=embedder) as model:
        yield model


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL server for the whole run (see tests/support/postgres.py)."""
    with PostgresCluster.running() as cluster:
        yield cluster


@pytest.fixture
def pg_url(pg_cluster: PostgresCluster) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test."""
    with pg_cluster.database() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def db_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store lives, once per backend: a SQLite file path or a PostgreSQL URL."""
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return str(tmp_path / "selfmodel.db")


@pytest.fixture
def statements(
    db_location: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> SQLiteStatements | PostgresStatements:
    """What the database at ``db_location`` runs, for tests that count statements: ask before
    opening a store there (each backend sees only connections opened after)."""
    if is_postgres_url(db_location):
        return PostgresStatements(request.getfixturevalue("pg_cluster"), db_location)
    return SQLiteStatements(monkeypatch)


@pytest.fixture
def store(db_location: str) -> Iterator[Store]:
    """An open store of each backend: the storage contract suite runs once per backend."""
    opened = open_store(db_location)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def any_sm(db_location: str, embedder: SentenceTransformerEmbedder) -> Iterator[SelfModel]:
    """A ``SelfModel`` on each backend, for engine tests that must hold on both."""
    with SelfModel.open(db_location, embedder=embedder) as model:
        yield model


@pytest.fixture
def server(sm: SelfModel) -> Iterator[str]:
    """A real uvicorn server over ``sm`` on 127.0.0.1, for SDK and HTTP tests."""
    with running_server(create_app(sm)) as url:
        yield url


@pytest.fixture
def client(server: str, sm: SelfModel) -> Iterator[Client]:
    """An SDK client of ``server`` with a key of ``sm``'s workspace."""
    with Client(server, new_workspace_key(sm.store, sm.workspace.name)) as c:
        yield c
