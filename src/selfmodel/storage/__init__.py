"""Storage: the ``Store`` interface and its backends (SQLite embedded; PostgreSQL for scale)."""

from selfmodel.storage.base import BeliefFilter, DeletedCounts, Store, StoredVectors, TraceRecord
from selfmodel.storage.sqlite import SQLiteStore

__all__ = [
    "BeliefFilter",
    "DeletedCounts",
    "SQLiteStore",
    "Store",
    "StoredVectors",
    "TraceRecord",
    "is_postgres_url",
    "open_store",
]


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(location: str) -> bool:
    return location.startswith(POSTGRES_SCHEMES)


def open_store(location: str) -> Store:
    """Open the store at ``location``: a SQLite file path or a ``postgresql://`` URL."""
    if is_postgres_url(location):
        # Imported here so the embedded default never loads the PostgreSQL driver.
        from selfmodel.storage.postgres import PostgresStore

        return PostgresStore(location)
    return SQLiteStore(location)
