"""Outcomes through the SDK over a real uvicorn socket: both clients, the library's types and
errors, an id made idempotent across a retry, and the pages of a long list read whole."""

from __future__ import annotations

import asyncio

import pytest

from selfmodel import (
    ConflictError,
    InvalidInputError,
    Outcome,
    OutcomeKind,
    SelfModel,
    TraceNotFoundError,
    UserNotFoundError,
)
from selfmodel.client import AsyncClient, Client, _calls
from tests.support.server import new_workspace_key


def test_the_client_records_and_lists_outcomes_as_the_library_does(
    client: Client, sm: SelfModel
) -> None:
    client.observe("maya", "I'm training for the Berlin marathon in April.")
    answer = client.context("maya", "What is she training for?")
    used = [answer.items[0].id]
    rating = client.record_outcome(
        "maya", "rating", trace_id=answer.trace_id, value=4, used_item_ids=used, id="r-1"
    )
    assert isinstance(rating, Outcome) and rating.kind is OutcomeKind.RATING
    assert rating.used_item_ids == tuple(used) and rating.value == 4.0
    assert (
        client.record_outcome(
            "maya",
            OutcomeKind.RATING,
            trace_id=answer.trace_id,
            value=4.0,
            used_item_ids=used,
            id="r-1",
        )
        == rating
    )
    metric = client.record_outcome(
        "maya", "metric", name="session.turns", value=12, occurred_at="2024-05-08T13:56:00Z"
    )
    assert client.outcomes("maya") == sm.outcomes("maya") == [rating, metric]
    assert client.outcomes("maya", kind="metric") == [metric]
    assert client.outcomes("maya", trace_id=answer.trace_id) == [rating]
    assert client.export("maya")["outcomes"][1]["name"] == "session.turns"


def test_the_client_raises_the_library_errors(client: Client, sm: SelfModel) -> None:
    client.observe("maya", "I like tea.")
    with pytest.raises(UserNotFoundError):
        client.record_outcome("nobody", "thumbs_up")
    with pytest.raises(UserNotFoundError):
        client.outcomes("nobody")
    with pytest.raises(TraceNotFoundError):
        client.record_outcome("maya", "thumbs_up", trace_id="trc_01a2b3c4d5e6f7a8b9c0d1e2")
    with pytest.raises(InvalidInputError):
        client.record_outcome("maya", "rating", value=9)
    with pytest.raises(InvalidInputError):
        client.record_outcome("maya", "metric", name="Not Safe", value=1)
    client.record_outcome("maya", "thumbs_up", id="fb-1")
    with pytest.raises(ConflictError):
        client.record_outcome("maya", "thumbs_down", id="fb-1")
    assert [o.kind for o in sm.outcomes("maya")] == [OutcomeKind.THUMBS_UP]


def test_the_async_client_reads_every_page(
    server: str, sm: SelfModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    sm.observe("maya", "I like tea.")
    for days in range(5):
        sm.record_outcome("maya", "returned", value=days)
    # Pages of two, so reading all of them takes three requests.
    monkeypatch.setattr(_calls, "PAGE_SIZE", 2)

    async def read() -> tuple[list[Outcome], Outcome]:
        async with AsyncClient(server, new_workspace_key(sm.store, sm.workspace.name)) as client:
            recorded = await client.record_outcome("maya", "continued")
            return await client.outcomes("maya"), recorded

    listed, recorded = asyncio.run(read())
    assert [o.value for o in listed[:5]] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert listed[5] == recorded and listed == sm.outcomes("maya")
