"""The shape of storage: ``Store`` is exactly the union of the concern interfaces (every method
in one concern, none in two), and both backends implement each concern whole."""

from __future__ import annotations

import inspect

import pytest

from selfmodel.storage import (
    Database,
    EvalStore,
    ExperimentStore,
    MirrorStore,
    ModelStore,
    OutcomeStore,
    QueueStore,
    RetentionStore,
    Store,
    TenancyStore,
    TraceStore,
    VectorStore,
)
from selfmodel.storage.postgres import PostgresStore
from selfmodel.storage.sqlite import SQLiteStore

CONCERNS = (
    TenancyStore,
    ModelStore,
    VectorStore,
    TraceStore,
    QueueStore,
    MirrorStore,
    EvalStore,
    OutcomeStore,
    ExperimentStore,
    RetentionStore,
)
BACKENDS = (SQLiteStore, PostgresStore)


def members(cls: type) -> set[str]:
    """The public methods and properties of ``cls``, its own and inherited."""
    return {name for name in dir(cls) if not name.startswith("_")}


def test_a_store_is_its_concerns_and_nothing_else() -> None:
    assert Store.__bases__ == CONCERNS
    # The interfaces are protocols: subclassing is read from the MRO (issubclass would refuse).
    assert all(Database in concern.__mro__ for concern in CONCERNS)
    assert members(Store) == set().union(*(members(concern) for concern in CONCERNS))
    assert vars(Store).keys().isdisjoint(members(Store)), "declare methods in a concern"


def test_every_method_belongs_to_exactly_one_concern() -> None:
    shared = members(Database)
    assert shared == {"close", "transaction", "schema_version"}
    owner: dict[str, str] = {}
    for concern in CONCERNS:
        own = members(concern) - shared
        assert own, f"{concern.__name__} holds no method of its own"
        for name in own:
            assert name not in owner, f"{name} is in {owner[name]} and {concern.__name__}"
            owner[name] = concern.__name__


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.__name__)
@pytest.mark.parametrize("concern", (Database, *CONCERNS), ids=lambda c: c.__name__)
def test_each_backend_implements_each_concern_whole(backend: type, concern: type) -> None:
    assert concern in backend.__mro__
    assert not getattr(backend, "__abstractmethods__", ())
    for name in members(concern):
        declared = inspect.getattr_static(concern, name)
        implemented = inspect.getattr_static(backend, name)
        assert not getattr(implemented, "__isabstractmethod__", False), f"{name} is abstract"
        if isinstance(declared, property):
            assert isinstance(implemented, property), f"{name} is not a property"
            continue
        # Same parameters (names, kinds, defaults), so a call written against the interface
        # means the same on every backend.
        wanted = [
            (p.name, p.kind, p.default) for p in inspect.signature(declared).parameters.values()
        ]
        found = [
            (p.name, p.kind, p.default) for p in inspect.signature(implemented).parameters.values()
        ]
        assert found == wanted, (
            f"{backend.__name__}.{name} has other parameters than {concern.__name__}"
        )
