"""Replay under another extractor: the self-model rebuilt from the same observations in a
throwaway store, diffed by evidence and text. The LLM extractor runs against a real local
OpenAI-compatible server; the local extractor is the real one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from selfmodel import SelfModel
from selfmodel.config import Settings
from selfmodel.domain.time import utcnow
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.errors import InvalidInputError, TraceNotFoundError
from selfmodel.server import create_app
from selfmodel.storage import AsOf
from tests.support.openai_server import OpenAIServer, Reply
from tests.support.server import new_workspace_key, running_server

USER = "maya"
SAID = [
    ("I started pottery last week and I love it.", "2023-07-03T14:30:00Z"),
    ("I work as a nurse at the city hospital.", "2023-07-04T09:00:00Z"),
    ("My favourite food is ramen.", "2023-07-05T19:00:00Z"),
]
# What the "LLM" reads in each message: its own wording, not the local extractor's.
LLM_READS = {
    "pottery": ("Maya has taken up pottery", "experience", ["pottery"]),
    "nurse": ("Maya is a hospital nurse", "fact", ["nursing"]),
}


def llm_answer(body: dict[str, Any]) -> Reply:
    prompt = body["messages"][-1]["content"]
    messages = json.loads(prompt[prompt.index("\n[") + 1 :])
    beliefs = []
    for message in messages:
        for word, (statement, kind, topics) in LLM_READS.items():
            if word in message["text"]:
                beliefs.append(
                    {
                        "message": message["id"], "statement": statement, "kind": kind,
                        "strength": 1.0, "stated": False, "negated": False, "change": False,
                        "contradicts": None, "facet": None, "value": None, "name": None,
                        "topics": topics, "interests": topics, "related": [], "domain": None,
                        "quote": message["text"], "valid_from": None,
                    }
                )  # fmt: skip
    return Reply.chat_json({"beliefs": beliefs})


@pytest.fixture
def llm_sm(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> Iterator[SelfModel]:
    with OpenAIServer() as server:
        server.default_chat = llm_answer
        settings = Settings.model_validate(
            {
                "extraction": {
                    "extractor": "llm",
                    "llm_base_url": server.base_url,
                    "llm_model": "test-model",
                    "llm_api_key": "sk-test",
                    "llm_timeout_s": 5,
                    "llm_max_retries": 0,
                }
            }
        )
        with SelfModel.open(str(tmp_path / "real.db"), settings=settings, embedder=embedder) as sm:
            for text, at in SAID:
                sm.observe(USER, [{"content": text, "occurred_at": at}])
            yield sm


def trace_of(sm: SelfModel) -> str:
    return sm.context(USER, "what does Maya do for work and fun?", budget_tokens=400).trace_id


def observation_ids(sm: SelfModel) -> set[str]:
    return {
        o.id
        for o in sm.store.observations_as_of(
            sm.workspace.id, sm.user(USER).id, AsOf(recorded_at=utcnow())
        )
    }


def counts(sm: SelfModel) -> tuple[int, int, int]:
    return (
        len(sm.beliefs(USER, status=None)),
        len(observation_ids(sm)),
        len(sm.store.list_traces(sm.workspace.id, sm.user(USER).id)),
    )


def evidence(items: list[Any]) -> set[tuple[str, ...]]:
    return {tuple(sorted(i.evidence_ids)) for i in items}


def test_replay_under_the_recorded_extractor_reproduces_the_evidence_chosen(
    llm_sm: SelfModel,
) -> None:
    trace_id = trace_of(llm_sm)
    recorded = llm_sm.trace(trace_id).payload["chosen"]
    result = llm_sm.replay(trace_id, {"extractor": "llm"})
    assert result.compared_by == "evidence_and_text"
    assert result.config["extractor"] == "llm"
    assert {tuple(sorted(i["evidence_ids"])) for i in recorded} == evidence(result.chosen)
    assert [i["text"] for i in recorded] == [i.text for i in result.chosen]
    assert not result.gained and not result.lost and result.reproduced


def test_replay_under_the_local_extractor_diffs_by_the_beliefs_it_reads(
    llm_sm: SelfModel,
) -> None:
    trace_id = trace_of(llm_sm)
    before = counts(llm_sm)
    result = llm_sm.replay(trace_id, {"extractor": "local"})
    assert counts(llm_sm) == before, "a replay writes nothing to the real store"
    assert not result.reproduced and "chosen" in result.differences
    lost = [i for i in result.items if i.change == "lost"]
    gained = [i for i in result.items if i.change == "gained"]
    # The LLM's wordings are gone; what the local extractor read stands on the same evidence.
    assert any("Maya has taken up pottery" in i.text for i in lost)
    assert any(i.item_type == "belief" for i in gained)
    # Each gained belief stands on a moment a lost one (or the recorded block) also covered.
    recorded = {o for i in lost for o in i.evidence_ids}
    assert all(set(i.evidence_ids) & recorded for i in gained if i.item_type == "belief")
    observed = {o for i in result.items for o in i.evidence_ids}
    assert observed <= observation_ids(llm_sm), "moments keep their ids in the rebuilt model"
    assert {i.id for i in gained}.isdisjoint({b.id for b in llm_sm.beliefs(USER, status=None)})


def test_a_replay_sees_only_the_observations_before_the_trace(llm_sm: SelfModel) -> None:
    trace_id = trace_of(llm_sm)
    llm_sm.observe(USER, [{"content": "I also started climbing.", "occurred_at": "2023-07-06"}])
    result = llm_sm.replay(trace_id, {"extractor": "llm"})
    assert not any("climbing" in i.text for i in result.chosen)
    assert result.reproduced


@pytest.mark.parametrize("name", ["gpt-9", 3, ""])
def test_an_unknown_extractor_is_refused(llm_sm: SelfModel, name: Any) -> None:
    trace_id = trace_of(llm_sm)
    with pytest.raises(InvalidInputError, match="unknown extractor"):
        llm_sm.replay(trace_id, {"extractor": name})


def test_another_embedder_is_refused_clearly(llm_sm: SelfModel) -> None:
    trace_id = trace_of(llm_sm)
    with pytest.raises(InvalidInputError, match="cannot change the embedder"):
        llm_sm.replay(trace_id, {"extractor": "local", "embedder": "other-model"})


def test_the_llm_extractor_needs_its_settings(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    with SelfModel.open(str(tmp_path / "local.db"), embedder=embedder) as sm:
        sm.observe(USER, "I started pottery last week.")
        trace_id = trace_of(sm)
        with pytest.raises(InvalidInputError, match="cannot build extractor 'llm'"):
            sm.replay(trace_id, {"extractor": "llm"})
        assert sm.replay(trace_id, {"extractor": "local"}).reproduced


def test_a_forgotten_users_trace_is_not_rebuilt(llm_sm: SelfModel) -> None:
    trace_id = trace_of(llm_sm)
    llm_sm.forget(USER)
    with pytest.raises(TraceNotFoundError):  # forgetting took the user's traces too
        llm_sm.replay(trace_id, {"extractor": "local"})


def test_http_replays_under_another_extractor(llm_sm: SelfModel) -> None:
    trace_id = trace_of(llm_sm)
    with running_server(create_app(llm_sm)) as url, httpx.Client(base_url=url) as http:
        key = new_workspace_key(llm_sm.store, llm_sm.workspace.name)
        headers = {"Authorization": f"Bearer {key}"}
        ok = http.post(
            f"/v1/traces/{trace_id}/replay",
            json={"config": {"extractor": "local"}},
            headers=headers,
        )
        bad = http.post(
            f"/v1/traces/{trace_id}/replay", json={"config": {"extractor": "nope"}}, headers=headers
        )
    assert ok.status_code == 200, ok.text
    assert ok.json()["compared_by"] == "evidence_and_text"
    assert bad.status_code == 422, bad.text
    assert "unknown extractor" in bad.text
