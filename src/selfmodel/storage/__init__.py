"""Storage: one interface per concern, ``Store`` composing them, and two backends that implement
all of them (SQLite embedded; PostgreSQL for scale). See ``storage/base.py`` for the concerns."""

from selfmodel.domain import DeletedCounts, TraceRecord
from selfmodel.storage.alerts import AlertStore
from selfmodel.storage.base import Store
from selfmodel.storage.database import Database
from selfmodel.storage.evaluation import EvalStore
from selfmodel.storage.experiments import ExperimentStore
from selfmodel.storage.mirror import MirrorStore
from selfmodel.storage.model import AsOf, BeliefFilter, ModelStore
from selfmodel.storage.outcomes import OutcomeStore
from selfmodel.storage.queue import QueueStore
from selfmodel.storage.retention import RetentionStore
from selfmodel.storage.sqlite import SQLiteStore
from selfmodel.storage.tenancy import TenancyStore
from selfmodel.storage.traces import ItemUses, TraceStore
from selfmodel.storage.vectors import (
    BELIEF_VECTORS,
    OBSERVATION_VECTORS,
    ChangedBeliefs,
    ContextStart,
    StoredVectors,
    UserWatermark,
    VectorStore,
)

__all__ = [
    "BELIEF_VECTORS",
    "OBSERVATION_VECTORS",
    "AlertStore",
    "AsOf",
    "BeliefFilter",
    "ChangedBeliefs",
    "ContextStart",
    "Database",
    "DeletedCounts",
    "EvalStore",
    "ExperimentStore",
    "ItemUses",
    "MirrorStore",
    "ModelStore",
    "OutcomeStore",
    "QueueStore",
    "RetentionStore",
    "SQLiteStore",
    "Store",
    "StoredVectors",
    "TenancyStore",
    "TraceRecord",  # a domain record, importable from here for backward compatibility
    "TraceStore",
    "UserWatermark",
    "VectorStore",
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
