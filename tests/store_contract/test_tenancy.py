"""``TenancyStore``: workspaces and their settings, API keys, idempotency records."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from selfmodel.domain import ApiKey, Scope, Workspace, new_id
from selfmodel.domain.time import utcnow
from selfmodel.errors import StorageError
from selfmodel.storage import TenancyStore, open_store


def _key(ws: Workspace, name: str = "ci", minutes: int = 0) -> ApiKey:
    return ApiKey(
        id=new_id("key"),
        workspace_id=ws.id,
        prefix="sm_abc",
        scope=Scope.WRITE,
        created_at=utcnow() + timedelta(minutes=minutes),
        name=name,
    )


# -- workspaces --------------------------------------------------------------------------------
def test_workspaces_are_created_once_listed_by_name_and_keep_settings(
    store: TenancyStore,
) -> None:
    first = store.get_or_create_workspace("zeta")
    assert store.get_or_create_workspace("zeta") == first
    store.get_or_create_workspace("alpha")
    assert [w.name for w in store.list_workspaces()] == ["alpha", "zeta"]
    updated = store.update_workspace_settings(first.id, {"pii_policy": "keep"})
    assert updated.settings == {"pii_policy": "keep"}
    assert store.get_workspace("zeta") == updated
    assert store.get_workspace("nope") is None


def test_updating_settings_of_an_unknown_workspace_is_an_error(store: TenancyStore) -> None:
    with pytest.raises(StorageError):
        store.update_workspace_settings("ws_missing", {})


def test_concurrent_first_callers_get_the_same_workspace(
    store: TenancyStore, db_location: str
) -> None:
    got: list[Workspace] = []
    lock = threading.Lock()

    def create() -> None:
        own = open_store(db_location)  # its own connection(s), as a separate process would
        try:
            found = own.get_or_create_workspace("acme")
            with lock:
                got.append(found)
        finally:
            own.close()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 4 and len({w.id for w in got}) == 1
    assert [w.name for w in store.list_workspaces()] == ["acme"]


# -- API keys ----------------------------------------------------------------------------------
def test_api_keys_are_found_by_hash_and_revoked_once(store: TenancyStore, ws: Workspace) -> None:
    key = _key(ws)
    store.insert_api_key(key, "hash-1")
    found = store.find_api_key("hash-1")
    assert found is not None and found[0] == key and found[1] == ws
    assert store.find_api_key("hash-2") is None
    first = store.revoke_api_key(ws.id, key.id, utcnow())
    second = store.revoke_api_key(ws.id, key.id, utcnow() + timedelta(minutes=1))
    assert first is not None and second is not None and first.revoked_at == second.revoked_at
    assert store.revoke_api_key("ws_other", key.id, utcnow()) is None
    revoked = store.find_api_key("hash-1")
    assert revoked is not None and revoked[0].revoked_at == first.revoked_at  # the caller checks
    used = utcnow()
    store.touch_api_key(key.id, used)
    # A process flushing an older use later does not move the last use back.
    store.touch_api_key(key.id, used - timedelta(minutes=5))
    assert store.list_api_keys(ws.id)[0].last_used_at == used


def test_a_workspace_lists_its_own_keys_oldest_first(store: TenancyStore, ws: Workspace) -> None:
    later, earlier = _key(ws, "later", minutes=5), _key(ws, "earlier")
    store.insert_api_key(later, "hash-later")
    store.insert_api_key(earlier, "hash-earlier")
    other = store.get_or_create_workspace("other")
    store.insert_api_key(_key(other, "theirs"), "hash-theirs")
    assert store.list_api_keys(ws.id) == [earlier, later]
    assert [k.name for k in store.list_api_keys(other.id)] == ["theirs"]


# -- idempotency records -----------------------------------------------------------------------
def test_an_idempotency_key_is_reserved_once_replayed_and_released(
    store: TenancyStore, ws: Workspace
) -> None:
    old = utcnow() - timedelta(days=1)
    assert store.reserve_idempotency_key(ws.id, "k1", "h", expired_before=old) is None
    pending = store.reserve_idempotency_key(ws.id, "k1", "h", expired_before=old)
    assert pending is not None and pending.status_code == 0
    store.complete_idempotency_key(ws.id, "k1", 201, '{"ok":true}')
    done = store.reserve_idempotency_key(ws.id, "k1", "h", expired_before=old)
    assert done is not None and (done.status_code, done.response) == (201, '{"ok":true}')
    store.release_idempotency_key(ws.id, "k1")  # only in-flight reservations are released
    assert store.reserve_idempotency_key(ws.id, "k1", "h", expired_before=old) is not None
    assert store.reserve_idempotency_key(ws.id, "k2", "h", expired_before=old) is None
    store.release_idempotency_key(ws.id, "k2")
    assert store.reserve_idempotency_key(ws.id, "k2", "h", expired_before=old) is None
    future = utcnow() + timedelta(seconds=1)
    assert store.reserve_idempotency_key(ws.id, "k1", "h", expired_before=future) is None


def test_idempotency_keys_are_per_workspace(store: TenancyStore, ws: Workspace) -> None:
    other = store.get_or_create_workspace("other")
    old = utcnow() - timedelta(days=1)
    assert store.reserve_idempotency_key(ws.id, "k", "mine", expired_before=old) is None
    assert store.reserve_idempotency_key(other.id, "k", "theirs", expired_before=old) is None
    mine = store.reserve_idempotency_key(ws.id, "k", "again", expired_before=old)
    assert mine is not None and mine.request_hash == "mine"
