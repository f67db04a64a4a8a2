"""A workspace and a user in the store under test (tests/conftest.py opens it per backend)."""

from __future__ import annotations

import pytest

from selfmodel.domain import User, Workspace
from selfmodel.storage import Store


@pytest.fixture
def ws(store: Store) -> Workspace:
    return store.get_or_create_workspace("acme")


@pytest.fixture
def maya(store: Store, ws: Workspace) -> User:
    return store.get_or_create_user(ws.id, "maya")
