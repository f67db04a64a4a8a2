"""``TraceStore``: traces of ``context`` calls, with every user each one read."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta

import psycopg
import pytest

from selfmodel.domain import User, Workspace
from selfmodel.storage import Store, TraceStore
from tests.store_contract.records import trace


def test_traces_round_trip_with_all_their_users(store: Store, ws: Workspace, maya: User) -> None:
    bob = store.get_or_create_user(ws.id, "bob")
    stored = trace(maya, bob)
    store.insert_trace(stored)
    got = store.get_trace(ws.id, stored.id)
    assert got is not None
    assert set(got.user_ids) == {maya.id, bob.id}
    assert (got.query, got.config, got.payload) == (stored.query, stored.config, stored.payload)
    assert (got.created_at, got.latency_ms) == (stored.created_at, stored.latency_ms)
    assert store.get_trace("ws_other", stored.id) is None


def test_an_unknown_trace_is_none(store: TraceStore, ws: Workspace) -> None:
    assert store.get_trace(ws.id, "trc_missing") is None


def test_a_users_traces_are_listed_oldest_first_with_all_their_users(
    store: Store, ws: Workspace, maya: User
) -> None:
    bob = store.get_or_create_user(ws.id, "bob")
    shared, mine, his = trace(maya, bob, query="first"), trace(maya, query="second"), trace(bob)
    for record in (shared, mine, his):
        store.insert_trace(record)
    listed = store.list_traces(ws.id, maya.id)
    assert [t.query for t in listed] == ["first", "second"]
    assert set(listed[0].user_ids) == {maya.id, bob.id}
    assert listed[1].payload == mine.payload
    assert store.list_traces("ws_other", maya.id) == []


def test_recent_traces_page_newest_first_and_tell_one_instant_apart_by_id(
    store: Store, ws: Workspace, maya: User
) -> None:
    bob = store.get_or_create_user(ws.id, "bob")
    first = trace(maya, query="first")
    # Two calls in one instant, and one of bob's alone.
    twins = sorted(
        (
            replace(
                trace(maya, bob, query="twin"), created_at=first.created_at + timedelta(seconds=1)
            )
            for _ in range(2)
        ),
        key=lambda t: t.id,
    )
    last = replace(trace(maya, query="last"), created_at=first.created_at + timedelta(seconds=2))
    for record in (first, *twins, last, trace(bob)):
        store.insert_trace(record)
    newest = [last, twins[1], twins[0], first]
    assert [t.id for t in store.recent_traces(ws.id, maya.id, limit=10)] == [t.id for t in newest]
    page = store.recent_traces(ws.id, maya.id, limit=2)
    assert [t.id for t in page] == [last.id, twins[1].id]
    assert set(page[1].user_ids) == {maya.id, bob.id}
    rest = store.recent_traces(ws.id, maya.id, limit=2, before=page[-1])
    assert [t.id for t in rest] == [twins[0].id, first.id]
    assert store.recent_traces(ws.id, maya.id, limit=2, before=rest[-1]) == []
    assert store.recent_traces("ws_other", maya.id, limit=10) == []


def test_a_trace_naming_an_unknown_user_is_refused_whole(
    store: Store, ws: Workspace, maya: User
) -> None:
    ghost = maya.model_copy(update={"id": "usr_nobody"})
    stored = trace(maya, ghost)
    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        store.insert_trace(stored)
    assert store.get_trace(ws.id, stored.id) is None  # not the trace without its users


def test_item_uses_count_the_users_traces_that_chose_the_item(
    store: Store, ws: Workspace, maya: User
) -> None:
    bob = store.get_or_create_user(ws.id, "bob")
    chose = {"chosen": [{"id": "bel_tea", "text": "likes tea"}, {"id": "obs_1"}]}
    first = replace(trace(maya, bob), payload=chose)
    later = replace(trace(maya), payload=chose, created_at=first.created_at + timedelta(hours=1))
    elsewhere = [
        replace(trace(maya), payload={"chosen": [{"id": "bel_teapot"}]}),  # another id
        replace(trace(maya), payload={"chosen": ["bel_tea"]}),  # not an item object
        replace(trace(maya), payload={"considered": [{"id": "bel_tea"}]}),  # not chosen
        replace(trace(maya), payload={"chosen": {"id": "bel_tea"}}),  # not a list
    ]
    earlier_his = replace(trace(bob), payload=chose, created_at=first.created_at - timedelta(1))
    for record in (first, later, *elsewhere, earlier_his):
        store.insert_trace(record)
    assert store.item_uses(ws.id, maya.id, "bel_tea") == (2, first.created_at, later.created_at)
    assert store.item_uses(ws.id, bob.id, "bel_tea") == (
        2,
        earlier_his.created_at,
        first.created_at,
    )
    assert store.item_uses(ws.id, maya.id, "bel_coffee") == (0, None, None)
    assert store.item_uses("ws_other", maya.id, "bel_tea") == (0, None, None)
