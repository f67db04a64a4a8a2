"""Shared fixtures: real SQLite files in temp dirs and the real embedding model (loaded once)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from selfmodel import SelfModel
from selfmodel.embedding import SentenceTransformerEmbedder


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 from the bundled package; loaded once for the whole run."""
    return SentenceTransformerEmbedder()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "selfmodel.db"


@pytest.fixture
def sm(db_path: Path, embedder: SentenceTransformerEmbedder) -> Iterator[SelfModel]:
    with SelfModel.open(str(db_path), embedder=embedder) as model:
        yield model
