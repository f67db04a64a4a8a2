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
    "open_store",
]


def open_store(location: str) -> Store:
    """Open the store at ``location`` (a SQLite file path)."""
    if location.startswith(("postgresql://", "postgres://")):
        from selfmodel.errors import ConfigurationError

        raise ConfigurationError("PostgreSQL support is not installed in this version")
    return SQLiteStore(location)
