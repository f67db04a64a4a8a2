"""Debugging a context call: the self-model as of any moment, replay, "why not X?", lineage.

Every test runs the real pipeline on the bundled demo conversation, on both backends where the
store's history is what is under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from selfmodel import SelfModel
from selfmodel.domain import Belief, TraceRecord
from selfmodel.domain.debugging import Verdict
from selfmodel.domain.time import utcnow
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.errors import (
    InvalidInputError,
    NotFoundError,
    ReplayUnavailableError,
    TraceNotFoundError,
    UserNotFoundError,
)
from selfmodel.ingest.files import read_conversation_file
from selfmodel.retrieval import RankingConfig
from tests.support.rows import rows_of_user
from tests.support.statements import SQLiteStatements
from tests.support.stores import copy_of_store, filled_store

USER = "maya"


def demo_messages() -> list[dict[str, Any]]:
    source = resources.files("selfmodel") / "data" / "demo_conversation.jsonl"
    (batch,) = read_conversation_file(Path(str(source)))
    return list(batch.messages)


def observe_one(sm: SelfModel, message: dict[str, Any]) -> None:
    sm.observe(USER, [message])


def find(sm: SelfModel, words: str, status: str | None = None) -> Belief:
    found = [b for b in sm.beliefs(USER, status=status) if words in b.statement]
    assert found, f"no belief with {words!r}: {[b.statement for b in sm.beliefs(USER)]}"
    return found[0]


# -- the self-model as of any moment -----------------------------------------------------------
def test_beliefs_as_of_each_moment_equal_what_beliefs_returned_then(any_sm: SelfModel) -> None:
    sm = any_sm
    seen: list[tuple[datetime, datetime, list[Belief], str]] = []
    for n, message in enumerate(demo_messages()):
        observe_one(sm, message)
        if n == 6:  # the user corrects the model midway: later moments must not leak back
            sm.reject(find(sm, "nurse").id)
        if n == 9:
            sm.edit(find(sm, "pottery").id, "Maya makes bowls in her pottery class")
        valid = datetime.fromisoformat(message["occurred_at"].replace("Z", "+00:00"))
        then = sm.beliefs(USER, status=None, now=valid)
        trace = sm.context(USER, "what does she do for fun?", now=valid).trace_id
        seen.append((utcnow(), valid, then, trace))
    sm.confirm(find(sm, "vegetarian").id)

    assert len({len(b) for _, _, b, _ in seen}) > 3, "the model should have grown"
    for recorded, valid, then, trace_id in seen:
        by_time = sm.beliefs_as_of(USER, at=recorded, valid_at=valid, status=None)
        assert [b.belief for b in by_time.beliefs] == then
        by_trace = sm.beliefs_as_of(USER, trace_id=trace_id, status=None)
        assert [b.belief for b in by_trace.beliefs] == then
        assert by_trace.valid_at == valid and by_trace.revision is not None


def test_beliefs_as_of_carry_their_evidence_then(sm: SelfModel) -> None:
    hiking = [m for m in demo_messages() if "love hiking" in m["content"]]
    observe_one(sm, hiking[0])
    before = utcnow()
    early = find(sm, "hiking")
    for m in hiking[1:]:
        observe_one(sm, m)
    belief = sm.belief(early.id).belief
    now_evidence = {e.evidence.observation_id for e in sm.belief(belief.id).evidence}
    (then,) = [b for b in sm.beliefs_as_of(USER, at=before).beliefs if b.belief.id == belief.id]
    assert len(then.supported_by) == 1 and set(then.supported_by) < now_evidence
    assert then.belief.support_count < belief.support_count


def test_beliefs_as_of_refuses_both_moments_and_foreign_traces(sm: SelfModel) -> None:
    observe_one(sm, demo_messages()[4])
    sm.observe("lena", "I love cats.")
    trace = sm.context("lena", "pets?").trace_id
    with pytest.raises(InvalidInputError):
        sm.beliefs_as_of(USER, at=utcnow(), trace_id=trace)
    with pytest.raises(InvalidInputError, match="did not read"):
        sm.beliefs_as_of(USER, trace_id=trace)


def test_a_forgotten_user_has_no_past_either(any_sm: SelfModel, db_location: str) -> None:
    sm = any_sm
    for message in demo_messages()[:6]:
        observe_one(sm, message)
    sm.edit(find(sm, "marathon").id, "Maya runs a half marathon in June")
    trace = sm.context(USER, "running?").trace_id
    user_id = sm.user(USER).id
    assert sm.beliefs_as_of(USER, trace_id=trace).beliefs

    sm.forget(USER)

    with pytest.raises(UserNotFoundError):
        sm.beliefs_as_of(USER, at=utcnow())
    with pytest.raises(TraceNotFoundError):
        sm.replay(trace)
    assert rows_of_user(db_location, user_id) == {}


# -- replay ------------------------------------------------------------------------------------
def record_traces_of_every_shape(sm: SelfModel) -> list[str]:
    """Context calls of every shape, at many moments of the ingestion and its corrections."""
    sm.observe(USER, "Hello!")
    traces = [sm.context(USER, "anything?").trace_id]  # nothing known yet but a greeting
    messages = demo_messages()
    for n, message in enumerate(messages):
        observe_one(sm, message)
        if n == 1:
            traces.append(sm.context(USER, "anything?").trace_id)  # chatter only: empty block
        if n == 7:
            sm.reject(find(sm, "Lena got").id)
        if n == 12:
            sm.edit(find(sm, "vegetarian").id, "Maya eats no meat at all")
        traces += [
            sm.context(USER, "what does she like to do outdoors?").trace_id,
            sm.context(USER, "what should I cook for her?", moments=False).trace_id,
            sm.context(USER, "when is the half marathon?", limit=3).trace_id,
            sm.context(USER, "what did she do in March 2024?", budget_tokens=60).trace_id,
        ]
    traces += [
        sm.context(USER, "how is she feeling?", now=datetime(2024, 9, 1, tzinfo=UTC)).trace_id,
        sm.context(USER, "where does she work?", area="work").trace_id,
        sm.context([USER, "lena"], "who likes cats?").trace_id,
    ]
    return traces


def test_replay_under_the_recorded_config_reproduces_every_trace_exactly(
    any_sm: SelfModel,
) -> None:
    sm = any_sm
    sm.observe("lena", "I love cats and I live in Berlin.")
    traces = record_traces_of_every_shape(sm)
    sm.observe(USER, "I moved to Lisbon and I hate hiking now.")  # the present moves on

    results = [sm.replay(t) for t in traces]

    failed = [(r.trace_id, r.differences) for r in results if not r.reproduced]
    assert not failed
    assert len(results) > 70
    assert all(r.gained == [] and r.lost == [] for r in results)
    shapes = [sm.trace(t) for t in traces]
    assert any(not t.payload["chosen"] for t in shapes), "an empty block among them"
    assert any(t.payload["chosen"] and not t.config["moments"] for t in shapes)
    assert any(t.payload["temporal"]["windows"] for t in shapes)
    assert any(any(c["signals"].get("profile") for c in t.payload["chosen"]) for t in shapes)
    assert any(t.payload["withheld_moments"] for t in shapes)


def test_replay_reads_the_past_not_the_present(sm: SelfModel) -> None:
    for message in demo_messages()[:6]:
        observe_one(sm, message)
    trace = sm.context(USER, "what does she do for fun?")
    for message in demo_messages()[6:]:
        observe_one(sm, message)
    sm.reject(find(sm, "hiking").id)
    now = sm.context(USER, "what does she do for fun?")
    assert [i.id for i in now.items] != [i.id for i in trace.items]

    replayed = sm.replay(trace.trace_id)

    assert replayed.reproduced
    assert replayed.text_after == trace.text


def test_replay_under_another_config_diffs_items_ranks_signals_and_tokens(sm: SelfModel) -> None:
    for message in demo_messages():
        observe_one(sm, message)
    trace = sm.context(USER, "hiking in the mountains", budget_tokens=120)
    ranked = sm.context(USER, "hiking in the mountains", limit=6)  # no profile lines

    dense_only = sm.replay(ranked.trace_id, {"ranking": {"keyword_weight": 0.0}})
    wider = sm.replay(trace.trace_id, {"budget_tokens": 2000})

    assert not dense_only.reproduced and "candidates" in dense_only.differences
    kept = [i for i in dense_only.items if i.change == "kept"]
    assert any("rrf" in i.signals for i in kept)
    assert all(i.signals["rrf"].after < i.signals["rrf"].before for i in kept if "rrf" in i.signals)
    assert wider.gained and not wider.lost
    assert wider.tokens_after > wider.tokens_before == trace.tokens
    assert wider.config["budget_tokens"] == 2000 and wider.recorded_config == trace.config


@pytest.mark.parametrize(
    "config",
    [
        {"ranking": {"no_such_weight": 1}},
        {"ranking": {"keyword_weight": "high"}},
        {"ranking": {"recency_half_life_days": 0}},
        {"ranking": {"candidate_pool": 0}},
        {"ranking": {"dense_weight": float("nan")}},
        {"budget_tokens": 0},
        {"limit": True},
        {"embedder": "another-model"},
        {"colour": "blue"},
    ],
)
def test_replay_refuses_a_config_it_cannot_run(sm: SelfModel, config: dict[str, Any]) -> None:
    observe_one(sm, demo_messages()[4])
    trace = sm.context(USER, "running?").trace_id
    with pytest.raises(InvalidInputError):
        sm.replay(trace, config)


def test_a_trace_from_before_model_versions_can_be_read_not_replayed(sm: SelfModel) -> None:
    observe_one(sm, demo_messages()[4])
    trace = sm.trace(sm.context(USER, "running?").trace_id)
    payload = {k: v for k, v in trace.payload.items() if k not in ("model_version", "users")}
    old = TraceRecord(**{**trace.__dict__, "id": "trc_old", "payload": payload})
    sm.store.insert_trace(old)
    assert sm.trace("trc_old").query == "running?"
    with pytest.raises(ReplayUnavailableError):
        sm.replay("trc_old")


# -- why not X? --------------------------------------------------------------------------------
def observe_demo(sm: SelfModel) -> None:
    for message in demo_messages():
        observe_one(sm, message)


@pytest.fixture(scope="module")
def demo_store(
    request: pytest.FixtureRequest, embedder: SentenceTransformerEmbedder
) -> Iterator[str]:
    """The demo conversation observed once; each test gets a copy."""
    with filled_store(request, "sqlite", embedder, observe_demo) as location:
        yield location


@pytest.fixture
def demo_sm(
    request: pytest.FixtureRequest,
    demo_store: str,
    tmp_path: Path,
    embedder: SentenceTransformerEmbedder,
) -> Iterator[SelfModel]:
    with (
        copy_of_store(request, demo_store, tmp_path) as location,
        SelfModel.open(location, embedder=embedder) as sm,
    ):
        yield sm


def test_why_not_names_the_budget_the_rank_cutoff_and_the_chosen(demo_sm: SelfModel) -> None:
    sm = demo_sm
    tight = sm.context(USER, "hiking in the mountains", budget_tokens=45)
    top = sm.trace(tight.trace_id).payload["candidates"]
    chosen = {i.id for i in tight.items}
    assert chosen
    assert sm.why_not(tight.trace_id, tight.items[0].id).verdict is Verdict.CHOSEN
    budget_cut = [c["id"] for c in top if c["id"] not in chosen]
    answers = [sm.why_not(tight.trace_id, i) for i in budget_cut[:3]]
    cut_by_budget = [a.details for a in answers if a.verdict is Verdict.BUDGET]
    assert cut_by_budget, [(a.verdict, a.explanation) for a in answers]
    turn = cut_by_budget[0]
    assert turn["tokens_used_at_its_turn"] + turn["line_tokens"] + 1 > turn["budget_tokens"] == 45

    one = sm.context(USER, "hiking in the mountains", limit=1)
    second = [c["id"] for c in sm.trace(one.trace_id).payload["candidates"][1:4]]
    answers = [sm.why_not(one.trace_id, i) for i in second]
    cut = [a for a in answers if a.verdict is Verdict.RANK_CUTOFF]
    assert cut, [(a.verdict, a.explanation) for a in answers]
    first = cut[0].details
    assert first.get("rank", first.get("score_rank", 0)) > 1
    assert first["score"] <= first["cutoff_score"]


def test_why_not_names_a_near_duplicate_diversity_passed_over(
    request: pytest.FixtureRequest,
    demo_store: str,
    tmp_path: Path,
    embedder: SentenceTransformerEmbedder,
) -> None:
    # Diversity as strong as λ 0.6 (the default 0.95 passes over few near-duplicates).
    with (
        copy_of_store(request, demo_store, tmp_path) as location,
        SelfModel.open(
            location, embedder=embedder, ranking=replace(RankingConfig(), mmr_lambda=0.6)
        ) as sm,
    ):
        trace = sm.context(USER, "food", limit=2).trace_id
        considered = [c["id"] for c in sm.trace(trace).payload["candidates"][:8]]
        answers = [sm.why_not(trace, i) for i in considered]
    passed_over = [a for a in answers if a.verdict is Verdict.DIVERSITY]
    assert passed_over, [(a.verdict, a.explanation) for a in answers]
    close = passed_over[0].details
    # Ranked in by score alone, left out for what diversity had already picked.
    assert close["score_rank"] <= 2 * 2 and close["similarity"] > 0.5
    assert close["closest_chosen"] in considered


def test_why_not_names_a_belief_awaiting_the_user_and_moments_left_out(
    demo_sm: SelfModel,
) -> None:
    sm = demo_sm
    sm.reject(find(sm, "cat person").id)
    back = {
        "content": "I'm definitely a cat person, not a dog person.",
        "occurred_at": "2024-05-01T10:00:00Z",
    }
    sm.observe(USER, [back])
    returned = next(b for b in sm.beliefs(USER) if "after_rejection" in b.metadata)
    trace = sm.context(USER, "cats or dogs?", moments=False).trace_id
    novels = next(o for o in sm.export(USER)["observations"] if "novels" in o["content"])

    assert sm.why_not(trace, returned.id).verdict is Verdict.AWAITING_USER
    assert sm.why_not(trace, novels["id"]).verdict is Verdict.MOMENTS_OFF


def test_why_not_names_an_item_below_the_pool_and_the_retriever_that_missed_it(
    db_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    with SelfModel.open(
        str(db_path), embedder=embedder, ranking=replace(RankingConfig(), candidate_pool=2)
    ) as sm:
        for message in demo_messages():
            observe_one(sm, message)
        result = sm.context(USER, "hiking in the mountains")
        novels = next(o for o in sm.export(USER)["observations"] if "novels" in o["content"])
        answer = sm.why_not(result.trace_id, novels["id"])
    assert answer.verdict is Verdict.BELOW_POOL
    assert answer.details["keyword_rank"] is None and "keywords missed it" in answer.explanation
    assert answer.details["dense_rank"] > 2
    assert answer.details["score"] < answer.details["cutoff_score"]


def test_why_not_reads_rejected_superseded_decayed_and_not_yet_at_the_time(
    demo_sm: SelfModel,
) -> None:
    sm = demo_sm
    sm.observe(USER, [{"content": "I live in Leeds.", "occurred_at": "2024-04-20T10:00:00Z"}])
    sm.observe(
        USER, [{"content": "I moved to York last month.", "occurred_at": "2024-06-01T10:00:00Z"}]
    )
    leeds = find(sm, "Leeds", status="superseded")
    tired = find(sm, "exhausted")
    cats = find(sm, "cat person")
    sm.reject(cats.id)
    trace = sm.context(USER, "tell me about her", now=datetime(2024, 9, 1, tzinfo=UTC)).trace_id
    sm.observe(USER, "I adopted a kitten called Miso.")
    miso = find(sm, "Miso")

    superseded = sm.why_not(trace, leeds.id)
    assert superseded.verdict is Verdict.SUPERSEDED
    assert superseded.details["superseded_by"] == find(sm, "York").id
    assert sm.why_not(trace, tired.id).verdict is Verdict.DECAYED
    assert sm.why_not(trace, cats.id).verdict is Verdict.REJECTED
    assert sm.why_not(trace, miso.id).verdict is Verdict.NOT_YET
    rejected_evidence = sm.belief(cats.id).evidence[0].evidence.observation_id
    assert sm.why_not(trace, rejected_evidence).verdict is Verdict.WITHHELD


def test_why_not_names_moments_a_belief_holds_and_other_users(demo_sm: SelfModel) -> None:
    sm = demo_sm
    sm.observe("lena", "I teach pottery.")
    lena_said = sm.export("lena")["observations"][0]["id"]
    trace = sm.context(USER, "hiking in the mountains early in the morning")
    hiking = find(sm, "especially early")
    moment = sm.belief(hiking.id).evidence[0].evidence.observation_id

    assert sm.why_not(trace.trace_id, moment).verdict is Verdict.HELD_BY_BELIEF
    assert sm.why_not(trace.trace_id, lena_said).verdict is Verdict.NOT_IN_SCOPE
    with pytest.raises(NotFoundError):
        sm.why_not(trace.trace_id, "bel_nope")


# -- lineage -----------------------------------------------------------------------------------
def test_lineage_leads_from_an_item_to_its_history_evidence_and_extractor(
    demo_sm: SelfModel,
) -> None:
    sm = demo_sm
    result = sm.context(USER, "hiking in the mountains")
    belief = next(i for i in result.items if i.item_type == "belief")
    sm.edit(belief.id, "Maya hikes in the mountains at dawn")

    lineage = sm.lineage(result.trace_id, belief.id)

    assert lineage.belief_then is not None and lineage.belief_then.statement == belief.text
    assert lineage.belief_now is not None and lineage.belief_now.statement != belief.text
    assert [e.type.value for e in lineage.history][-1] == "edited"
    assert {e.evidence.observation_id for e in lineage.evidence} >= set(belief.evidence_ids)
    assert lineage.extractions and lineage.extractions[0].name == "local"
    assert lineage.extractions[0].version


def test_a_documents_dense_score_does_not_depend_on_the_others_indexed() -> None:
    import numpy as np

    from selfmodel.retrieval.index import Document, ScopeIndex

    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((700, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    docs = [
        Document(f"obs_{i:04d}", "observation", "u", "text", utcnow(), 1.0, (f"obs_{i:04d}",))
        for i in range(700)
    ]
    whole = ScopeIndex(docs, vectors).dense_scores(vectors[3])
    for start, stop in ((0, 5), (1, 333), (250, 700), (0, 699)):
        part = ScopeIndex(docs[start:stop], vectors[start:stop]).dense_scores(vectors[3])
        assert np.array_equal(part, whole[start:stop])


def test_a_write_from_another_process_is_read_before_a_trace_names_its_version(
    db_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    from selfmodel.retrieval import Scope
    from selfmodel.retrieval.freshness import SyncState

    with (
        SelfModel.open(str(db_path), embedder=embedder) as here,
        SelfModel.open(str(db_path), embedder=embedder) as there,
    ):
        here.observe(USER, demo_messages()[:3])
        here.context(USER, "hiking?")
        there.observe(USER, demo_messages()[3:6])  # another engine: this one's index is behind
        user = here.user(USER)
        scope = Scope(here.workspace.id, (user,))
        behind = here._c.retriever.cache.get(scope.key)
        assert behind is not None and isinstance(behind.sync, SyncState)
        (written,) = here.store.user_revisions(here.workspace.id, [user.id])
        assert behind.sync.revisions[0] < written  # the other engine's write is not in it

        trace = here.trace(here.context(USER, "hiking?").trace_id)

        version = trace.payload["model_version"]
        now = here.store.user_revisions(here.workspace.id, [user.id])[0]
        assert version["settled"] and version["revisions"] == {user.id: now}
        assert here.replay(trace.id).reproduced


def test_a_warm_call_that_finds_nothing_new_names_its_version_from_one_read(
    db_path: Path, embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The revisions read with the users, unchanged since the index was filled, prove what the
    index holds: the trace is settled without reading them again."""
    statements = SQLiteStatements(monkeypatch)
    with SelfModel.open(str(db_path), embedder=embedder) as sm:
        sm.observe(USER, demo_messages()[:3])
        sm.context(USER, "hiking?")  # the index is built (and read twice: it read rows)
        user = sm.user(USER)
        statements.take()
        trace = sm.trace(sm.context(USER, "what about work?").trace_id)
        user_reads = [s for s in statements.take() if "FROM users" in s]
        now = sm.store.user_revisions(sm.workspace.id, [user.id])[0]
        assert trace.payload["model_version"]["settled"]
        assert trace.payload["model_version"]["revisions"] == {user.id: now}
        assert len(user_reads) == 1  # the users, their revisions with them
        assert sm.replay(trace.id).reproduced
