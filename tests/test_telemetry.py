"""OpenTelemetry spans: one per context call, observe, ingest and job run, with the GenAI
conventions' attributes and counts, ERROR on failure, never a word of what users said, and
none at all when turned off or when the api package is missing.

Each test hands its own ``TracerProvider`` (with an ``InMemorySpanExporter``) to
``SelfModel.open``: the global provider can be set once per process, so it is left alone here
and exercised in a child process instead."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from selfmodel import SelfModel, Settings, UserNotFoundError
from selfmodel.config import TelemetrySettings
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.ingest.files import Batch
from selfmodel.server import create_app
from selfmodel.telemetry import user_hash
from tests.support.processes import subprocess_env
from tests.support.server import asgi_client, new_workspace_key

# A word no attribute may ever contain: seeded into messages, statements, queries, areas.
MARKER = "zanzibarquokka"
CHILD_TIMEOUT_S = 180.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def open_traced(
    db_path: Path,
    embedder: SentenceTransformerEmbedder,
    exporter: InMemorySpanExporter,
    **telemetry: Any,
) -> SelfModel:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return SelfModel.open(
        str(db_path),
        embedder=embedder,
        settings=Settings(telemetry=TelemetrySettings(**telemetry)),
        tracer_provider=provider,
    )


@pytest.fixture
def traced(
    db_path: Path, embedder: SentenceTransformerEmbedder, exporter: InMemorySpanExporter
) -> Iterator[SelfModel]:
    with open_traced(db_path, embedder, exporter) as sm:
        yield sm


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def spans_named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == name]


def test_a_context_call_is_one_span_that_links_to_its_selfmodel_trace(
    traced: SelfModel, exporter: InMemorySpanExporter
) -> None:
    traced.observe("maya", "I love hiking in the mountains with my dog Biscuit.")
    traced.observe("maya", "I work as a nurse. Please keep answers short.")
    exporter.clear()
    result = traced.context("maya", "Where does she like to go?", budget_tokens=300)
    (span,) = exporter.get_finished_spans()
    assert span.name == "selfmodel.context"
    assert span.kind is SpanKind.INTERNAL
    assert span.status.status_code is StatusCode.UNSET
    attributes = attrs(span)
    assert attributes["gen_ai.operation.name"] == "search_memory"
    assert attributes["gen_ai.memory.store.id"] == traced.workspace.id
    assert attributes["selfmodel.workspace"] == traced.workspace.name
    # The OTel span leads to the trace `selfmodel replay` and the inspector read.
    assert attributes["selfmodel.trace_id"] == result.trace_id
    assert traced.trace(result.trace_id).id == result.trace_id
    assert attributes["selfmodel.items"] == len(result.items) > 0
    # Every candidate ranked, of which the trace keeps the first ones.
    traced_candidates = traced.trace(result.trace_id).payload["candidates"]
    assert attributes["selfmodel.candidates"] == len(traced_candidates) > 0
    assert attributes["selfmodel.profile_items"] >= 1  # the profile leads the block
    assert attributes["selfmodel.tokens"] == result.tokens
    assert attributes["selfmodel.budget_tokens"] == 300
    assert attributes["selfmodel.latency_ms"] == result.latency_ms
    assert attributes["selfmodel.users"] == 1
    assert attributes["selfmodel.area_given"] is False
    # No user id unless the settings ask for one, and no experiment when none runs.
    assert not {"user.id", "user.hash", "selfmodel.experiments", "selfmodel.limit"} & set(
        attributes
    )
    exporter.clear()
    traced.context("maya", "Where does she like to go?", limit=1)
    (limited,) = exporter.get_finished_spans()
    assert attrs(limited)["selfmodel.limit"] == 1
    assert attrs(limited)["selfmodel.items"] <= 1
    assert attrs(limited)["selfmodel.profile_items"] == 0  # k most relevant items only


def test_a_context_call_under_an_experiment_names_the_experiment_and_variant(
    traced: SelfModel, exporter: InMemorySpanExporter
) -> None:
    traced.observe("maya", "I love hiking.")
    traced.create_experiment(
        "pers", [{"name": "off", "config": {"personalized": False}}, {"name": "on"}]
    )
    exporter.clear()
    result = traced.context("maya", "hobbies?")
    (span,) = spans_named(exporter, "selfmodel.context")
    attributes = attrs(span)
    ran = result.config["experiments"]
    assert list(attributes["selfmodel.experiments"]) == [e["name"] for e in ran] == ["pers"]
    assert list(attributes["selfmodel.variants"]) == [e["variant"] for e in ran]
    assert attributes["selfmodel.variants"][0] in {"off", "on"}


def test_observe_is_a_span_with_what_the_revision_changed(
    traced: SelfModel, exporter: InMemorySpanExporter
) -> None:
    first = traced.observe("maya", [{"content": "I love hiking.", "id": "m1"}])
    again = traced.observe(
        "maya",
        [{"content": "I love hiking.", "id": "m1"}, {"content": "I really love hiking."}],
    )
    one, two = spans_named(exporter, "selfmodel.observe")
    for span, result in ((one, first), (two, again)):
        attributes = attrs(span)
        assert attributes["gen_ai.operation.name"] == "update_memory"
        assert attributes["gen_ai.memory.store.id"] == traced.workspace.id
        assert attributes["selfmodel.extractor"] == traced._c.extractor.name
        assert attributes["selfmodel.wait"] is True
        assert attributes["selfmodel.observations.new"] == len(result.new_observation_ids)
        assert attributes["selfmodel.observations.duplicates"] == result.duplicates
        assert attributes["selfmodel.beliefs.created"] == len(result.created)
        assert attributes["selfmodel.beliefs.reinforced"] == len(result.reinforced)
        assert attributes["selfmodel.beliefs.contradicted"] == len(result.contradicted)
        assert attributes["selfmodel.beliefs.superseded"] == len(result.superseded)
        assert "selfmodel.job_id" not in attributes
    assert attrs(one)["selfmodel.beliefs.created"] >= 1
    assert attrs(two)["selfmodel.observations.duplicates"] == 1
    assert attrs(two)["selfmodel.beliefs.reinforced"] >= 1


def test_ingest_is_a_span_around_one_observe_span_per_chunk(
    traced: SelfModel, exporter: InMemorySpanExporter
) -> None:
    batches = [
        Batch(user="maya", messages=[{"content": "I love hiking."}, {"content": "I'm a nurse."}]),
        Batch(user="bob", messages=[{"content": "I play chess."}]),
    ]
    summary = traced.ingest(batches, chunk_size=1)
    (ingest,) = spans_named(exporter, "selfmodel.ingest")
    observes = spans_named(exporter, "selfmodel.observe")
    assert len(observes) == 3
    assert all(
        s.parent is not None and s.parent.span_id == ingest.context.span_id for s in observes
    )
    attributes = attrs(ingest)
    assert attributes["gen_ai.operation.name"] == "update_memory"
    assert attributes["selfmodel.batches"] == 2
    assert attributes["selfmodel.messages"] == 3
    assert attributes["selfmodel.observations.new"] == summary.new == 3
    assert attributes["selfmodel.beliefs.created"] == summary.created


def test_a_queued_job_run_is_a_span_with_its_outcome_and_counts(
    traced: SelfModel, exporter: InMemorySpanExporter
) -> None:
    queued = traced.observe("maya", "I love hiking. I'm a nurse.", wait=False)
    (observe,) = spans_named(exporter, "selfmodel.observe")
    assert attrs(observe)["selfmodel.job_id"] == queued.job_id
    (run,) = traced.process_jobs("w1")
    (span,) = spans_named(exporter, "selfmodel.job")
    attributes = attrs(span)
    assert attributes["gen_ai.operation.name"] == "update_memory"
    assert attributes["gen_ai.memory.store.id"] == traced.workspace.id
    assert attributes["selfmodel.job_id"] == run.job_id == queued.job_id
    assert attributes["selfmodel.job.outcome"] == "done"
    assert attributes["selfmodel.observations"] == 1
    assert attributes["selfmodel.beliefs.created"] == len(traced.beliefs("maya")) >= 1
    assert span.status.status_code is StatusCode.UNSET


class _BrokenExtractor:
    name = "broken"
    version = "1"

    def extract(self, *args: object, **kwargs: object) -> object:
        raise ConnectionError(f"extraction backend unreachable for {MARKER}")


def test_a_failed_job_run_is_an_error_span_naming_only_the_error_class(
    db_path: Path, embedder: SentenceTransformerEmbedder, exporter: InMemorySpanExporter
) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with SelfModel.open(
        str(db_path),
        embedder=embedder,
        extractor=_BrokenExtractor(),  # type: ignore[arg-type]
        tracer_provider=provider,
    ) as sm:
        sm.observe("maya", "I love hiking.", wait=False)
        (run,) = sm.process_jobs("w1")
    assert run.error is not None and MARKER in run.error
    (span,) = spans_named(exporter, "selfmodel.job")
    assert span.status.status_code is StatusCode.ERROR
    attributes = attrs(span)
    assert attributes["error.type"] == "ConnectionError"
    assert attributes["selfmodel.job.outcome"] == "retry"
    assert attributes["selfmodel.extractor"] == "broken"
    assert MARKER not in json.dumps(_everything_in(span))


def test_an_error_in_a_read_is_an_error_span_with_an_exception_event_without_its_message(
    traced: SelfModel, exporter: InMemorySpanExporter
) -> None:
    with pytest.raises(UserNotFoundError, match=MARKER):
        traced.context(MARKER, "anything?")
    (span,) = exporter.get_finished_spans()
    assert span.name == "selfmodel.context"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "user_not_found"
    assert attrs(span)["error.type"] == "user_not_found"
    (event,) = span.events
    assert event.name == "exception"
    event_attributes = dict(event.attributes or {})
    assert event_attributes["exception.type"] == "selfmodel.errors.UserNotFoundError"
    assert event_attributes["exception.message"] == "user_not_found"
    # The message quotes the unknown user id: it stays out of the span, stacktrace included.
    assert MARKER not in json.dumps(_everything_in(span))


def _everything_in(span: ReadableSpan) -> dict[str, Any]:
    """Every string a tracing backend would receive for a span."""
    return {
        "name": span.name,
        "status": span.status.description,
        "attributes": {k: _plain(v) for k, v in (span.attributes or {}).items()},
        "events": [
            {"name": e.name, **{k: _plain(v) for k, v in (e.attributes or {}).items()}}
            for e in span.events
        ],
        "resource": {k: _plain(v) for k, v in span.resource.attributes.items()},
    }


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def test_no_span_carries_what_was_said_asked_or_stated(
    traced: SelfModel, exporter: InMemorySpanExporter
) -> None:
    area = f"{MARKER}-area"
    traced.observe("maya", f"I love hiking to {MARKER} lake with my dog.", area=area)
    traced.observe("maya", f"My favourite word is {MARKER}.", wait=False)
    traced.process_jobs("w1")
    traced.ingest([Batch(user="bob", messages=[{"content": f"I collect {MARKER} stamps."}])])
    traced.add_belief("maya", f"I dream of visiting {MARKER}.")
    traced.context("maya", f"What does she think of {MARKER}?", area=area)
    with pytest.raises(UserNotFoundError):
        traced.context(f"{MARKER}-nobody", f"{MARKER}?")
    spans = exporter.get_finished_spans()
    names = {s.name for s in spans}
    assert names == {"selfmodel.observe", "selfmodel.job", "selfmodel.ingest", "selfmodel.context"}
    # The block really does quote the marker: the span could have leaked it and did not.
    assert MARKER in traced.context("maya", f"{MARKER}?", area=area).text
    for span in spans:
        assert MARKER not in json.dumps(_everything_in(span)), span.name


@pytest.mark.anyio
async def test_calls_through_the_http_api_are_spans_in_the_requests_workspace(
    traced: SelfModel, exporter: InMemorySpanExporter
) -> None:
    key = new_workspace_key(traced.store, "acme")
    async with asgi_client(create_app(traced), key) as api:
        observed = await api.post(
            "/v1/users/ada/observations",
            json={"messages": [{"content": f"I love {MARKER} hikes."}]},
        )
        answered = await api.post("/v1/context", json={"user": "ada", "query": "hobbies?"})
        missing = await api.post("/v1/context", json={"user": "nobody", "query": "hobbies?"})
    assert (observed.status_code, answered.status_code, missing.status_code) == (201, 200, 404)
    acme = traced.store.get_workspace("acme")
    assert acme is not None and acme.id != traced.workspace.id
    (observe,) = spans_named(exporter, "selfmodel.observe")
    found, failed = spans_named(exporter, "selfmodel.context")
    for span in (observe, found, failed):
        assert attrs(span)["selfmodel.workspace"] == "acme"
        assert attrs(span)["gen_ai.memory.store.id"] == acme.id
        assert MARKER not in json.dumps(_everything_in(span))
    assert attrs(found)["selfmodel.trace_id"] == answered.json()["trace_id"]
    assert found.status.status_code is StatusCode.UNSET
    assert failed.status.status_code is StatusCode.ERROR
    assert attrs(failed)["error.type"] == "user_not_found"


def test_user_ids_are_off_by_default_hashed_or_plain_when_asked(
    db_path: Path, embedder: SentenceTransformerEmbedder, exporter: InMemorySpanExporter
) -> None:
    seen: dict[str, dict[str, Any]] = {}
    for mode in ("off", "hashed", "plain"):
        exporter.clear()
        with open_traced(db_path, embedder, exporter, otel_user_ids=mode) as sm:
            sm.observe("maya@example.com", "I love hiking.", wait=False)
            sm.process_jobs("w1")
            sm.context("maya@example.com", "hobbies?")
            with pytest.raises(UserNotFoundError):
                sm.context(f"{MARKER}@example.com", "hobbies?")
            workspace_id = sm.workspace.id
        *spans, unknown = exporter.get_finished_spans()
        # An id the engine refused is never named, whatever the setting.
        assert unknown.status.status_code is StatusCode.ERROR
        assert not {"user.id", "user.hash"} & set(attrs(unknown))
        assert {s.name for s in spans} == {
            "selfmodel.observe",
            "selfmodel.job",
            "selfmodel.context",
        }
        seen[mode] = {s.name: attrs(s) for s in spans}
    for attributes in seen["off"].values():
        assert not {"user.id", "user.hash"} & attributes.keys()
        assert "maya@example.com" not in json.dumps(attributes)
    expected_hash = user_hash(workspace_id, "maya@example.com")
    assert len(expected_hash) == 16 and "maya" not in expected_hash
    for attributes in seen["hashed"].values():
        assert attributes["user.hash"] == expected_hash and "user.id" not in attributes
        assert "maya@example.com" not in json.dumps(attributes)
    for attributes in seen["plain"].values():
        assert attributes["user.id"] == "maya@example.com" and "user.hash" not in attributes


def test_spans_turned_off_are_not_emitted(
    db_path: Path, embedder: SentenceTransformerEmbedder, exporter: InMemorySpanExporter
) -> None:
    with open_traced(db_path, embedder, exporter, otel_spans=False) as sm:
        sm.observe("maya", "I love hiking.")
        sm.observe("maya", "I'm a nurse.", wait=False)
        sm.process_jobs("w1")
        result = sm.context("maya", "hobbies?")
        with pytest.raises(UserNotFoundError):
            sm.context("nobody", "hobbies?")
    assert result.items
    assert exporter.get_finished_spans() == ()


def test_without_the_opentelemetry_package_the_engine_works_and_emits_nothing(
    db_path: Path,
    embedder: SentenceTransformerEmbedder,
    exporter: InMemorySpanExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A None entry in sys.modules makes the import fail as if the package were not installed.
    monkeypatch.setitem(sys.modules, "opentelemetry.trace", None)
    with open_traced(db_path, embedder, exporter) as sm:
        sm.observe("maya", "I love hiking.")
        assert sm.context("maya", "hobbies?").items
    assert exporter.get_finished_spans() == ()


GLOBAL_PROVIDER = """
import json, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from selfmodel import SelfModel

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer("the-app")
with SelfModel.open(sys.argv[1]) as sm, tracer.start_as_current_span("answer") as answer:
    sm.observe("maya", "I love hiking.")
    result = sm.context("maya", "hobbies?")
spans = exporter.get_finished_spans()
print(json.dumps({
    "spans": [
        {
            "name": s.name,
            "scope": s.instrumentation_scope.name,
            "parent": s.parent.span_id if s.parent else None,
            "trace_id": (s.attributes or {}).get("selfmodel.trace_id"),
        }
        for s in spans
    ],
    "answer": answer.get_span_context().span_id,
    "result_trace_id": result.trace_id,
}))
"""


@pytest.mark.slow
def test_spans_go_to_the_global_tracer_provider_inside_the_callers_span(tmp_path: Path) -> None:
    child = subprocess.run(
        [sys.executable, "-c", GLOBAL_PROVIDER, str(tmp_path / "selfmodel.db")],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    found = json.loads(child.stdout)
    mine = {s["name"]: s for s in found["spans"] if s["scope"] == "selfmodel"}
    assert set(mine) == {"selfmodel.observe", "selfmodel.context"}
    assert all(s["parent"] == found["answer"] for s in mine.values())
    assert mine["selfmodel.context"]["trace_id"] == found["result_trace_id"]
