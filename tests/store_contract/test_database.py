"""``Database``, shared by every concern: transactions are all or nothing across concerns, commit
for every connection, and never hold up readers on other threads; text PostgreSQL cannot hold
(NUL) is refused by every backend alike."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from selfmodel.domain import User, Workspace
from selfmodel.errors import InvalidInputError
from selfmodel.storage import BeliefFilter, Store, open_store
from tests.store_contract.records import belief, card, enqueue, mirror_link, observation


def test_a_failed_transaction_writes_nothing_even_when_nested(
    store: Store, ws: Workspace, maya: User
) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.insert_observations([observation(maya, "outer write")])
        with store.transaction():
            store.insert_belief(belief(maya, "inner write"))
        raise RuntimeError("crash after both writes")
    assert store.list_observations(ws.id, [maya.id]) == []
    assert store.list_beliefs(ws.id, BeliefFilter(user_ids=(maya.id,), statuses=())) == []


def test_writes_of_every_concern_join_one_transaction(
    store: Store, ws: Workspace, maya: User
) -> None:
    """A job commits with the observations it is about, or not at all (and so for the rest)."""
    link = mirror_link(maya)
    with pytest.raises(RuntimeError), store.transaction():
        (obs,) = store.insert_observations([observation(maya, "I moved to Lisbon.")])
        enqueue(store, maya)
        store.put_vectors(ws.id, maya.id, "observation", "m", [(obs.id, np.ones(3, np.float32))])
        store.insert_mirror_link(link)
        store.insert_prompts([card(maya)])
        store.update_workspace_settings(ws.id, {"pii_policy": "keep"})
        raise RuntimeError("crash before commit")
    assert store.list_observations(ws.id, [maya.id]) == []
    assert store.list_jobs(ws.id) == []
    assert store.get_vectors(ws.id, [maya.id], "observation", "m").ids == []
    assert store.list_prompts(ws.id, maya.id) == []
    assert store.get_mirror_link(ws.id, link.id) is None
    assert store.get_workspace("acme") == ws


def test_a_committed_transaction_is_visible_to_another_connection(
    store: Store, db_location: str, ws: Workspace, maya: User
) -> None:
    with store.transaction():
        store.insert_observations([observation(maya, "kept")])
        enqueue(store, maya)
    other = open_store(db_location)
    try:
        assert [o.content for o in other.list_observations(ws.id, [maya.id])] == ["kept"]
        assert len(other.list_jobs(ws.id)) == 1
        assert other.schema_version == store.schema_version > 0
    finally:
        other.close()


def test_reads_on_other_threads_neither_wait_for_nor_see_an_open_write(
    store: Store, maya: User
) -> None:
    """A write transaction in progress on one thread does not hold up reads on others (they
    see the last commit), while the writing thread reads its own uncommitted rows."""
    opened, release = threading.Event(), threading.Event()
    seen_inside: list[int] = []

    def write() -> None:
        with store.transaction():
            store.insert_observations([observation(maya, "I moved to Lisbon.", "w1")])
            seen_inside.append(len(store.list_observations(maya.workspace_id, [maya.id])))
            opened.set()
            release.wait(timeout=30)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert opened.wait(timeout=30)
        outside: list[int] = []
        reader = threading.Thread(
            target=lambda: outside.append(
                len(store.list_observations(maya.workspace_id, [maya.id]))
            )
        )
        reader.start()
        reader.join(timeout=10)
        assert not reader.is_alive(), "a read waited for another thread's open transaction"
        assert outside == [0]
        assert seen_inside == [1]
    finally:
        release.set()
        writer.join(timeout=30)
    assert len(store.list_observations(maya.workspace_id, [maya.id])) == 1


def test_text_holding_nul_is_refused_by_every_backend_and_writes_nothing(
    store: Store, ws: Workspace, maya: User
) -> None:
    """PostgreSQL cannot store U+0000 in text or jsonb; SQLite refuses it too, so the backends
    answer the same input the same way (an input error, never a driver failure)."""
    with pytest.raises(InvalidInputError, match="NUL"):
        store.get_or_create_user(ws.id, "ma\x00ya")
    with pytest.raises(InvalidInputError, match="NUL"):
        store.get_user(ws.id, "ma\x00ya")
    with pytest.raises(InvalidInputError, match="NUL"):
        store.insert_observations([observation(maya, "I moved to \x00Lisbon.")])
    tagged = observation(maya, "I moved to Lisbon.").model_copy(update={"metadata": {"t\x00": 1}})
    with pytest.raises(InvalidInputError, match="NUL"):
        store.insert_observations([tagged])
    deep = observation(maya, "I moved to Lisbon.").model_copy(
        update={"metadata": {"deep": ["x", {"y": "a\x00"}]}}
    )
    with pytest.raises(InvalidInputError, match="NUL"):
        store.insert_observations([deep])
    assert [u.external_id for u in store.list_users(ws.id)] == ["maya"]
    assert store.list_observations(ws.id, [maya.id]) == []
    # The six characters \u0000 are text like any other (JSON writes a NUL the same way).
    spelled = observation(maya, "I moved to Lisbon.").model_copy(
        update={"metadata": {"note": "a literal \\u0000"}}
    )
    store.insert_observations([spelled])
    stored = store.list_observations(ws.id, [maya.id])
    assert [o.metadata for o in stored] == [{"note": "a literal \\u0000"}]
