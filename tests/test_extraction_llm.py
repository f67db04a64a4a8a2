"""The LLM extractor end to end against a real local HTTP server speaking the OpenAI protocol."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from selfmodel.config import ExtractionSettings
from selfmodel.domain import BeliefKind, BeliefOrigin, Facet, Observation, Related, Role
from selfmodel.errors import ConfigurationError
from selfmodel.extraction import prompts
from selfmodel.extraction.base import ExtractionRequest
from selfmodel.extraction.llm import LLMExtractor, locate_quote
from selfmodel.extraction.local import LocalExtractor
from tests.support.openai_server import CHAT_PATH, EMBEDDINGS_PATH, OpenAIServer, Reply

SAID_AT = datetime(2023, 7, 3, 14, 30, tzinfo=UTC)
POTTERY = "Hi! I started pottery last week and I love it. How about you?"


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer(embedding_dim=16) as running:
        yield running


def request(text: str, obs_id: str = "obs_1", role: Role = Role.USER) -> ExtractionRequest:
    observation = Observation(
        id=obs_id, workspace_id="ws_1", user_id="usr_1", content=text,
        occurred_at=SAID_AT, recorded_at=SAID_AT, role=role,
    )  # fmt: skip
    return ExtractionRequest(observation=observation, subject="Melanie")


def extractor(server: OpenAIServer, **overrides: Any) -> LLMExtractor:
    options: dict[str, Any] = {"timeout_s": 2.0, "max_retries": 2, "backoff_s": 0.01}
    options.update(overrides)
    return LLMExtractor(base_url=server.base_url, model="test-model", api_key="sk-test", **options)


def belief(message: str = "1", **fields: Any) -> dict[str, Any]:
    base = {
        "message": message,
        "statement": "Melanie started pottery in the week of 26 June 2023",
        "kind": "experience",
        "strength": 1.0,
        "stated": False,
        "negated": False,
        "change": False,
        "contradicts": None,
        "facet": None,
        "value": None,
        "name": None,
        "topics": ["pottery"],
        "interests": ["pottery"],
        "related": [],
        "domain": None,
        "quote": "I started pottery last week",
        "valid_from": "2023-06-26",
    }
    base.update(fields)
    return base


def test_valid_answer_becomes_candidates_with_located_spans(server: OpenAIServer) -> None:
    server.script_chat(Reply.chat_json({"beliefs": [belief()]}))
    with extractor(server) as llm:
        [candidate] = llm.extract([request(POTTERY)])
    assert candidate.statement == "Melanie started pottery in the week of 26 June 2023"
    assert candidate.kind is BeliefKind.EXPERIENCE
    assert candidate.observation_id == "obs_1"
    assert candidate.span_start is not None and candidate.span_end is not None
    assert POTTERY[candidate.span_start : candidate.span_end] == "I started pottery last week"
    assert candidate.valid_from == datetime(2023, 6, 26, tzinfo=UTC)
    assert llm.fallback_count == 0


def test_the_llm_gives_the_same_structures_as_the_local_extractor(server: OpenAIServer) -> None:
    said = "I moved to Leeds with my dog Max. Please keep answers short."
    server.script_chat(
        Reply.chat_json(
            {
                "beliefs": [
                    belief(
                        statement="Melanie moved to Leeds with their dog Max",
                        kind="fact",
                        change=True,
                        facet="residence",
                        value="Leeds",
                        topics=["move", "Leeds", "dog"],
                        interests=[],
                        related=[{"relation": "pet", "name": "Max", "species": "dog"}],
                        quote="I moved to Leeds with my dog Max.",
                        valid_from=None,
                    ),
                    belief(
                        statement="Melanie wants the assistant to keep answers short",
                        kind="preference",
                        stated=True,
                        domain="communication",
                        quote="Please keep answers short.",
                        valid_from=None,
                    ),
                    belief(statement="Melanie's name is Melanie", kind="fact", name="Melanie"),
                ]
            }
        )
    )
    with extractor(server) as llm:
        moved, answers, named = llm.extract([request(said)])
    assert (moved.frame.facet, moved.frame.value, moved.frame.change) == (
        Facet.RESIDENCE,
        "Leeds",
        True,
    )
    assert moved.frame.related == (Related(relation="pet", name="Max", species="dog"),)
    assert moved.frame.topics == ("move", "leeds", "dog")
    assert answers.frame.domain == "communication" and answers.origin is BeliefOrigin.STATED
    assert (named.frame.facet, named.frame.value) == (Facet.NAME, "Melanie")


def test_a_stance_from_the_llm_is_the_one_statement_the_local_extractor_writes(
    server: OpenAIServer,
) -> None:
    said = "Thanks, Jon! Your support means a lot. Keep going, you got this!"
    server.script_chat(
        Reply.chat_json(
            {
                "beliefs": [
                    belief(
                        statement="Melanie is grateful for Jon's backing",
                        kind="opinion",
                        stated=True,
                        stance={"kind": "values_support", "person": "Jon"},
                        quote="Your support means a lot.",
                        valid_from=None,
                    ),
                    belief(
                        statement="Melanie cheers Jon on",
                        kind="relationship",
                        stance={"kind": "encourages", "person": "Jon"},
                        quote="Keep going, you got this!",
                        valid_from=None,
                    ),
                    belief(stance={"kind": "adores", "person": "Jon"}),  # not a stance: dropped
                ]
            }
        )
    )
    with extractor(server) as llm:
        support, cheering = llm.extract([request(said)])
    local = {c.frame.stance: c for c in LocalExtractor().extract([request(said)])}
    for candidate in (support, cheering):
        twin = local[candidate.frame.stance]
        assert (candidate.statement, candidate.kind, candidate.strength, candidate.origin) == (
            twin.statement,
            twin.kind,
            twin.strength,
            twin.origin,
        )
    assert support.statement == "Melanie values Jon's support"
    assert llm.invalid_belief_count == 1
    schema = prompts.RESPONSE_SCHEMA["properties"]["beliefs"]["items"]
    assert "stance" in schema["required"]


def test_the_turns_before_a_message_are_sent_for_context(server: OpenAIServer) -> None:
    before = request("Here are two options: 1) a hostel 2) a quiet hotel", obs_id="obs_0")
    offer = before.observation.model_copy(update={"role": Role.ASSISTANT})
    reply = request("The second one.").model_copy(update={"preceding": (offer,)})
    with extractor(server) as llm:
        llm.extract([reply])
    sent = server.requests_to(CHAT_PATH)[0]["messages"][1]["content"]
    assert '"before"' in sent and "a quiet hotel" in sent and '"role": "assistant"' in sent


def test_request_carries_model_key_schema_prompts_and_the_speaker(server: OpenAIServer) -> None:
    with extractor(server) as llm:
        llm.extract([request(POTTERY)])
    [sent] = server.requests_to(CHAT_PATH)
    assert sent["model"] == "test-model"
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["schema"] == prompts.RESPONSE_SCHEMA
    assert sent["messages"][0] == {"role": "system", "content": prompts.SYSTEM_PROMPT}
    user_turn = sent["messages"][1]["content"]
    assert "Melanie" in user_turn and "Monday 03 July 2023" in user_turn and "pottery" in user_turn
    assert LLMExtractor.version.endswith(prompts.PROMPT_VERSION)


def test_observations_are_sent_in_batches_and_mapped_back_by_message_id(
    server: OpenAIServer,
) -> None:
    kiln = belief("2", statement="Melanie owns a kiln", kind="fact", quote="I own a kiln")
    porto = belief("1", statement="Melanie lives in Porto", kind="fact", quote="I live in Porto")
    server.script_chat(
        Reply.chat_json({"beliefs": [kiln | {"valid_from": None}]}),
        Reply.chat_json({"beliefs": [porto | {"valid_from": None, "stated": True}]}),
    )
    requests = [
        request("Hello there!", "obs_a"),
        request("I own a kiln.", "obs_b"),
        request("I live in Porto.", "obs_c"),
    ]
    with extractor(server, batch_size=2) as llm:
        candidates = llm.extract(requests)
    assert len(server.requests_to(CHAT_PATH)) == 2
    assert [(c.observation_id, c.statement) for c in candidates] == [
        ("obs_b", "Melanie owns a kiln"),
        ("obs_c", "Melanie lives in Porto"),
    ]
    assert candidates[1].origin is BeliefOrigin.STATED


def test_only_user_observations_are_sent(server: OpenAIServer) -> None:
    with extractor(server) as llm:
        assert llm.extract([request("I love hiking.", role=Role.ASSISTANT)]) == []
    assert server.requests_to(CHAT_PATH) == []


def test_answer_in_a_code_fence_from_an_endpoint_ignoring_the_schema_is_accepted(
    server: OpenAIServer,
) -> None:
    fenced = "Here you go:\n```json\n" + json.dumps({"beliefs": [belief()]}) + "\n```"
    server.script_chat(Reply.chat(fenced))
    with extractor(server) as llm:
        candidates = llm.extract([request(POTTERY)])
    assert [c.kind for c in candidates] == [BeliefKind.EXPERIENCE]
    assert llm.fallback_count == 0


def test_beliefs_with_unknown_kinds_or_messages_are_dropped_and_counted(
    server: OpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.script_chat(
        Reply.chat_json(
            {"beliefs": [belief(kind="hobby"), belief(message="9"), belief(strength=0),
                         belief(statement="Melanie loves pottery", kind="preference",
                                quote="I love it")]}
        )
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="selfmodel.extraction"), extractor(server) as llm:
        candidates = llm.extract([request(POTTERY)])
    assert [c.statement for c in candidates] == ["Melanie loves pottery"]
    assert llm.invalid_belief_count == 3
    assert "dropped a belief" in caplog.text


def test_invalid_json_is_retried_then_succeeds(server: OpenAIServer) -> None:
    server.script_chat(Reply.chat("{not json"), Reply.chat_json({"beliefs": [belief()]}))
    with extractor(server) as llm:
        candidates = llm.extract([request(POTTERY)])
    assert len(candidates) == 1
    assert len(server.requests_to(CHAT_PATH)) == 2
    assert llm.fallback_count == 0


def test_server_errors_and_rate_limits_are_retried_with_backoff(server: OpenAIServer) -> None:
    server.script_chat(
        Reply.error(500),
        Reply.error(429, retry_after_s=0.01),
        Reply.chat_json({"beliefs": [belief()]}),
    )
    with extractor(server, max_retries=2) as llm:
        candidates = llm.extract([request(POTTERY)])
    assert len(candidates) == 1
    assert len(server.requests_to(CHAT_PATH)) == 3
    assert llm.fallback_count == 0


def test_persistent_failure_falls_back_to_local_extraction_and_is_logged_and_counted(
    server: OpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.script_chat(*[Reply.error(503)] * 3)
    with caplog.at_level(logging.WARNING, logger="selfmodel.extraction"), extractor(server) as llm:
        candidates = llm.extract([request(POTTERY)])
    assert len(server.requests_to(CHAT_PATH)) == 3  # one try and max_retries=2 retries
    assert llm.fallback_count == 1
    assert "503" in (llm.last_error or "")
    assert "using the local extractor instead" in caplog.text
    # The local extractor still read the message.
    assert [c.statement for c in candidates] == [
        "Melanie started pottery in the week of 26 June 2023 and they love it"
    ]


def test_timeouts_are_retried_then_fall_back(server: OpenAIServer) -> None:
    server.script_chat(Reply.slow(1.0), Reply.slow(1.0))
    with extractor(server, timeout_s=0.2, max_retries=1) as llm:
        candidates = llm.extract([request(POTTERY)])
    assert llm.fallback_count == 1
    assert "Timeout" in (llm.last_error or "")
    assert candidates  # from the local extractor


def test_client_errors_are_not_retried(server: OpenAIServer) -> None:
    server.script_chat(Reply.error(401))
    with extractor(server, max_retries=3) as llm:
        llm.extract([request(POTTERY)])
    assert len(server.requests_to(CHAT_PATH)) == 1
    assert llm.fallback_count == 1


def test_unreachable_endpoint_falls_back(server: OpenAIServer) -> None:
    base_url = server.base_url
    server.stop()
    with LLMExtractor(base_url=base_url, model="m", max_retries=1, backoff_s=0.01) as llm:
        candidates = llm.extract([request("I live in Porto.")])
    assert llm.fallback_count == 1
    assert [c.statement for c in candidates] == ["Melanie lives in Porto"]


def test_each_failed_batch_is_counted_separately(server: OpenAIServer) -> None:
    server.script_chat(Reply.chat("nope"), Reply.chat_json({"beliefs": []}))
    requests = [request("I live in Porto.", "obs_a"), request("I own a kiln.", "obs_b")]
    with extractor(server, batch_size=1, max_retries=0) as llm:
        candidates = llm.extract(requests)
    assert llm.fallback_count == 1
    assert [c.observation_id for c in candidates] == ["obs_a"]  # only the failed batch fell back


def test_missing_configuration_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        LLMExtractor(base_url="", model="m")
    with pytest.raises(ConfigurationError):
        LLMExtractor.from_settings(ExtractionSettings(extractor="llm"))


@pytest.mark.parametrize(
    ("quote", "found"),
    [
        ("I started pottery last week", "I started pottery last week"),
        ("i STARTED pottery", "I started pottery"),
        ("started   pottery\nlast week", "started pottery last week"),
        ("I never said this", None),
    ],
)
def test_quotes_are_located_in_the_message(quote: str, found: str | None) -> None:
    span = locate_quote(POTTERY, quote)
    assert (POTTERY[span[0] : span[1]] if span else None) == found


def test_server_embeddings_are_deterministic_unit_vectors(server: OpenAIServer) -> None:
    url = f"{server.base_url}/embeddings"
    first = httpx.post(url, json={"model": "e", "input": ["hello", "world"]}).json()
    again = httpx.post(url, json={"model": "e", "input": "hello"}).json()
    vectors = [item["embedding"] for item in first["data"]]
    assert len(vectors) == 2 and all(len(v) == 16 for v in vectors)
    assert vectors[0] == again["data"][0]["embedding"]
    assert vectors[0] != vectors[1]
    assert abs(sum(x * x for x in vectors[0]) - 1.0) < 1e-9
    assert len(server.requests_to(EMBEDDINGS_PATH)) == 2


def test_server_embedding_errors_can_be_scripted(server: OpenAIServer) -> None:
    server.script_embeddings(Reply.error(503))
    url = f"{server.base_url}/embeddings"
    assert httpx.post(url, json={"input": "x"}).status_code == 503
    assert httpx.post(url, json={"input": "x"}).status_code == 200
