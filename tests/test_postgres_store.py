"""What the PostgreSQL store does beyond the contract both backends share: how it writes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import psycopg
import pytest

from selfmodel.storage.postgres import PostgresStore
from tests.store_contract.records import trace


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[PostgresStore]:
    store = PostgresStore(pg_url)
    try:
        yield store
    finally:
        store.close()


def test_a_large_trace_is_stored_compressed_with_lz4(pg_store: PostgresStore, pg_url: str) -> None:
    ws = pg_store.get_or_create_workspace("acme")
    maya = pg_store.get_or_create_user(ws.id, "maya")
    # A context call's trace: tens of kB of candidates, well over the size PostgreSQL compresses.
    candidates = [
        {"id": f"bel_{i}", "text": "likes hiking " * 4, "score": i / 7} for i in range(300)
    ]
    stored = replace(trace(maya), payload={"candidates": candidates})
    pg_store.insert_trace(stored)

    with psycopg.connect(pg_url) as conn:
        row = conn.execute(
            "SELECT pg_column_compression(payload) FROM traces WHERE id = %s", (stored.id,)
        ).fetchone()
    assert row == ("lz4",)
    got = pg_store.get_trace(ws.id, stored.id)
    assert got is not None and got.payload == stored.payload
