"""Experiments through the SDK over a real uvicorn socket: both clients, the library's types and
errors, and the same assignment the library computes."""

from __future__ import annotations

import asyncio

import pytest

from selfmodel import (
    Assignment,
    ConflictError,
    Experiment,
    ExperimentNotFoundError,
    ExperimentStatus,
    InvalidInputError,
    SelfModel,
    UserNotFoundError,
    Variant,
    VariantConfig,
)
from selfmodel.client import AsyncClient, Client, _calls
from tests.support.server import new_workspace_key

VARIANTS = [
    Variant(name="off", config=VariantConfig(personalized=False)),
    Variant(name="dense", weight=2, config=VariantConfig(ranking={"keyword_weight": 0.0})),
]


def test_the_client_defines_assigns_and_stops_as_the_library_does(
    client: Client, sm: SelfModel
) -> None:
    client.observe("maya", "I'm training for the Berlin marathon in April.")
    made = client.create_experiment("pers", VARIANTS, description="memory on or off")
    assert isinstance(made, Experiment) and made == sm.experiment("pers")
    assert made.variants == tuple(VARIANTS) and made.control == "off"
    got = client.assignment("maya", "pers")
    assert isinstance(got, Assignment) and got == sm.assignment("maya", "pers")
    answer = client.context("maya", "What is she training for?")
    assert answer.config["experiments"][0]["variant"] == got.variant
    dicts = client.create_experiment(
        "budget",
        [{"name": "small", "config": {"budget_tokens": 100}}, {"name": "big"}],
        layer="budget",
        traffic=0.5,
    )
    assert (dicts.layer, dicts.bucket_end) == ("budget", 5000)
    assert [x.name for x in client.experiments()] == ["pers", "budget"]
    stopped = client.stop_experiment("pers")
    assert stopped.status is ExperimentStatus.STOPPED
    assert client.experiments(status="running") == [sm.experiment("budget")]
    assert client.experiment(made.id) == stopped


def test_the_client_raises_the_library_errors(client: Client, sm: SelfModel) -> None:
    client.observe("maya", "I like tea.")
    with pytest.raises(ExperimentNotFoundError):
        client.experiment("nope")
    with pytest.raises(InvalidInputError):
        client.create_experiment("pers", VARIANTS[:1])
    with pytest.raises(InvalidInputError):
        client.create_experiment(
            "pers", [{"name": "a", "config": {"ranking": {"nope": 1}}}, {"name": "b"}]
        )
    client.create_experiment("pers", VARIANTS)
    with pytest.raises(ConflictError):
        client.create_experiment("pers", VARIANTS)
    with pytest.raises(UserNotFoundError):
        client.assignment("nobody", "pers")


def test_the_async_client_reads_every_page(
    server: str, sm: SelfModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    sm.observe("maya", "I like tea.")
    for n in range(3):
        sm.create_experiment(f"x{n}", [{"name": "a"}, {"name": "b"}], layer=f"l{n}")
    monkeypatch.setattr(_calls, "PAGE_SIZE", 2)

    async def read() -> tuple[list[Experiment], Assignment]:
        async with AsyncClient(server, new_workspace_key(sm.store, sm.workspace.name)) as client:
            return await client.experiments(), await client.assignment("maya", "x1")

    listed, got = asyncio.run(read())
    assert listed == sm.experiments() and len(listed) == 3
    assert got == sm.assignment("maya", "x1")
