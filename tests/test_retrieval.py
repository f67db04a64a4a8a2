"""Retrieval: time-aware priors, named users, diversity, budgets, warm indexes and traces."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from selfmodel import SelfModel
from selfmodel.cli import app
from selfmodel.errors import TraceNotFoundError, UserNotFoundError
from selfmodel.retrieval import TokenCounter
from selfmodel.retrieval.index import IndexCache, ScopeIndex
from selfmodel.retrieval.ranking import named_users, without_names
from selfmodel.retrieval.temporal import analyse, carries_time

NOW = datetime(2023, 10, 1, 12, tzinfo=UTC)
runner = CliRunner()


def test_when_questions_are_recognised_and_others_are_not() -> None:
    assert analyse("When did Caroline go to the support group?", NOW).asks_when
    assert analyse("What year did Jon open his studio?", NOW).asks_when
    assert analyse("How long ago was her birthday?", NOW).asks_when
    assert not analyse("What does Melanie like to paint?", NOW).asks_when
    assert not analyse("Whenever possible, suggest a walk", NOW).asks_when


def test_a_named_month_and_year_becomes_a_window_covering_that_month() -> None:
    (window,) = analyse("What happened in May 2023?", NOW).windows
    assert window.contains(datetime(2023, 5, 31, 23, tzinfo=UTC))
    assert not window.contains(datetime(2023, 6, 1, tzinfo=UTC))


def test_relative_periods_resolve_against_now() -> None:
    (window,) = analyse("What did she do last summer?", NOW).windows
    assert window.contains(datetime(2023, 7, 15, tzinfo=UTC))
    assert not window.contains(datetime(2022, 7, 15, tzinfo=UTC))


def test_a_query_without_dates_names_no_window() -> None:
    assert analyse("What is her favourite food?", NOW).windows == ()


def test_texts_that_name_a_time_are_told_apart_from_those_that_do_not() -> None:
    assert carries_time("I went to the group yesterday")
    assert carries_time("We moved in 2019")
    assert not carries_time("I like dogs a lot")


def test_named_users_are_found_by_name_and_possessive_case_insensitively() -> None:
    users = {"u1": "Caroline", "u2": "Melanie"}
    assert named_users("What are melanie's pets called?", users) == {"u2"}
    assert named_users("How do they both relax?", users) == frozenset()


def test_names_are_taken_out_of_the_matched_query_but_never_leave_it_empty() -> None:
    assert without_names("What are Melanie's pets called?", ["Melanie"]) == "What are pets called?"
    assert without_names("Melanie?", ["Melanie"]) == "Melanie?"


def test_the_index_cache_evicts_the_least_recently_used_scope() -> None:
    import numpy as np

    cache = IndexCache(max_scopes=2)
    empty = ScopeIndex([], np.zeros((0, 4), dtype=np.float32))
    keys = [("ws", frozenset({u}), None) for u in ("a", "b", "c")]
    cache.put(keys[0], empty)
    cache.put(keys[1], empty)
    assert cache.get(keys[0]) is empty  # a is now the most recently used
    cache.put(keys[2], empty)
    assert cache.get(keys[1]) is None and cache.get(keys[0]) is empty and len(cache) == 2


@pytest.fixture
def conversation(sm: SelfModel) -> SelfModel:
    sm.observe(
        "ana",
        [
            {"content": "I adopted a grey cat called Miso.", "occurred_at": "2023-03-02T10:00:00Z"},
            {
                "content": "Yesterday I ran my first half marathon!",
                "occurred_at": "2023-05-08T09:00:00Z",
            },
            {
                "content": "I prefer tea over coffee in the morning.",
                "occurred_at": "2023-06-01T09:00:00Z",
            },
        ],
    )
    sm.observe(
        "ben",
        [
            {"content": "I adopted a dog called Rex.", "occurred_at": "2023-03-02T10:05:00Z"},
            {"content": "I love running by the river.", "occurred_at": "2023-05-09T09:00:00Z"},
        ],
    )
    return sm


def _owners(sm: SelfModel, user_ids: list[str]) -> list[str]:
    by_id = {u.id: u.external_id for u in sm.users()}
    return [by_id[u] for u in user_ids]


def test_a_query_naming_one_speaker_ranks_that_speakers_items_first(
    conversation: SelfModel,
) -> None:
    result = conversation.context(["ana", "ben"], "What pet did ben adopt?", limit=3, now=NOW)
    assert _owners(conversation, [result.items[0].user_id]) == ["ben"]
    assert result.items[0].signals["named_user_factor"] > 1.0


def test_a_when_question_prefers_the_turn_that_says_when(conversation: SelfModel) -> None:
    result = conversation.context(
        ["ana", "ben"], "When did ana run a half marathon?", limit=3, now=NOW
    )
    top = result.items[0]
    assert "half marathon" in top.text or "Yesterday" in top.text
    assert top.signals["when_factor"] > 1.0


def test_items_inside_a_named_period_are_boosted(conversation: SelfModel) -> None:
    result = conversation.context(["ana", "ben"], "What happened in May 2023?", limit=5, now=NOW)
    boosted = [i for i in result.items if i.signals["window_factor"] > 1.0]
    assert boosted and all(i.occurred_at.month == 5 for i in boosted)


def test_the_block_never_exceeds_the_budget_by_the_real_token_count(
    conversation: SelfModel,
) -> None:
    for budget in (40, 80, 400):
        result = conversation.context(
            ["ana", "ben"], "Tell me about their pets", budget_tokens=budget
        )
        assert result.tokens <= budget
        assert TokenCounter().count(result.text) <= budget


def test_the_block_groups_items_and_states_dates(conversation: SelfModel) -> None:
    result = conversation.context("ana", "What does she drink?", budget_tokens=500, now=NOW)
    assert result.text.startswith("What is known about the user:")  # never the raw id
    assert "since 2 March 2023" in result.text  # every line is dated


def test_an_item_whose_evidence_is_already_in_the_block_is_penalised_as_a_repeat() -> None:
    import numpy as np

    from selfmodel.retrieval.index import BELIEF, OBSERVATION, Document
    from selfmodel.retrieval.ranking import Candidate, RankingConfig, diversify

    def doc(id_: str, item_type: str, evidence: str) -> Document:
        return Document(id_, item_type, "u", id_, NOW, 1.0, (evidence,))

    # Orthogonal vectors: only shared evidence makes the belief a repeat of the turn.
    index = ScopeIndex(
        [
            doc("turn", OBSERVATION, "o1"),
            doc("belief", BELIEF, "o1"),
            doc("other", OBSERVATION, "o2"),
        ],
        np.eye(3, dtype=np.float32),
    )

    def pick(config: RankingConfig) -> list[str]:
        candidates = [Candidate(0, 1.0), Candidate(1, 0.99), Candidate(2, 0.95)]
        return [index.documents[c.index].id for c in diversify(index, candidates, config, 2)]

    assert pick(RankingConfig()) == ["turn", "other"]
    assert pick(RankingConfig(covered_redundancy=0.0)) == ["turn", "belief"]


def _mmr_written_out(
    vectors: Any, evidence: list[set[str]], scores: list[float], config: Any, limit: int
) -> list[int]:
    """Maximal marginal relevance as Carbonell & Goldstein state it, one item at a time (an
    item whose evidence is all in the block counts as a repeat)."""
    chosen: list[int] = []
    covered: set[str] = set()
    remaining = list(range(len(scores)))
    while remaining and len(chosen) < limit:
        marginal = []
        for i in remaining:
            closest = max((float(vectors[i] @ vectors[j]) for j in chosen), default=0.0)
            if chosen and evidence[i] and evidence[i] <= covered:
                closest = max(closest, config.covered_redundancy)
            lam = config.mmr_lambda
            marginal.append(lam * scores[i] / scores[0] - (1 - lam) * closest)
        best = remaining[marginal.index(max(marginal))]
        chosen.append(best)
        covered |= evidence[best]
        remaining.remove(best)
    return chosen


def test_diversity_picks_what_maximal_marginal_relevance_written_out_picks() -> None:
    import numpy as np

    from selfmodel.retrieval.index import BELIEF, OBSERVATION, Document
    from selfmodel.retrieval.ranking import Candidate, RankingConfig, diversify

    rng = np.random.default_rng(7)
    for round_ in range(40):
        config = RankingConfig(covered_redundancy=[1.0, 0.5, 0.0][round_ % 3])
        n = int(rng.integers(2, 70))
        # Near-duplicates among them, so redundancy decides some of the picks.
        base = rng.standard_normal((n // 2 + 1, 16))
        vectors = base[rng.integers(0, len(base), n)] + 0.3 * rng.standard_normal((n, 16))
        vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
        # Observations stand for themselves; beliefs for a few of them (or for none).
        evidence = [
            {f"o{i}"} if i % 3 else {f"o{j}" for j in rng.integers(0, n, rng.integers(0, 4))}
            for i in range(n)
        ]
        docs = [
            Document(f"o{i}", OBSERVATION if i % 3 else BELIEF, "u", "", NOW, 1.0, tuple(e))
            for i, e in enumerate(evidence)
        ]
        scores = sorted(rng.random(n).tolist(), reverse=True)
        limit = int(rng.integers(1, n + 1))
        candidates = [Candidate(i, s) for i, s in enumerate(scores)]
        chosen = diversify(ScopeIndex(docs, vectors), candidates, config, limit)
        assert [c.index for c in chosen] == _mmr_written_out(
            vectors, evidence, scores, config, limit
        )


def test_words_scored_while_the_query_embeds_rank_as_words_scored_after() -> None:
    import numpy as np

    from selfmodel.retrieval.index import OBSERVATION, Document
    from selfmodel.retrieval.ranking import RankingConfig, keyword_match, rank

    texts = ["I drink tea every morning.", "Coffee after lunch.", "Morning runs by the river."]
    rng = np.random.default_rng(3)

    def vectors(n: int) -> Any:
        v = rng.standard_normal((n, 8)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def doc(i: int, text: str) -> Document:
        return Document(f"o{i}", OBSERVATION, "u", text, NOW, 1.0, (f"o{i}",))

    def ranked(index: ScopeIndex, **kw: Any) -> list[tuple[int, float, dict[str, float]]]:
        found = rank(index, "tea in the morning", query, RankingConfig(), NOW, **kw)
        return [(c.index, c.score, c.signals) for c in found]

    index = ScopeIndex([doc(i, t) for i, t in enumerate(texts)], vectors(len(texts)))
    query = vectors(1)[0]
    words = keyword_match(index, "tea in the morning")
    assert ranked(index, keywords=words) == ranked(index)
    # A write applied between the words and the vector: the words are scored again.
    index.append([doc(3, "Green tea, then a morning swim.")], vectors(1))
    assert not words.fits(index, "tea in the morning")
    assert ranked(index, keywords=words) == ranked(index)
    assert any(position == 3 and signals["keyword"] > 0 for position, _, signals in ranked(index))


def test_a_second_call_reuses_the_warm_index_and_a_write_updates_it_in_place(
    sm: SelfModel,
) -> None:
    sm.observe("ana", "I collect vinyl records.")
    retriever = sm._c.retriever
    sm.context("ana", "music")
    (index,) = [retriever.cache.get(k) for k in list(retriever.cache._entries)]
    before = len(index)
    sm.context("ana", "records")
    assert len(retriever.cache) == 1
    sm.observe("ana", "I started learning the cello.")
    assert any("cello" in i.text for i in sm.context("ana", "cello lessons").items)
    assert retriever.cache.get(next(iter(retriever.cache._entries))) is index  # not rebuilt
    assert len(index) > before


def test_every_call_leaves_a_trace_with_each_candidates_signals(conversation: SelfModel) -> None:
    result = conversation.context(["ana", "ben"], "When did ana get a cat?", limit=2, now=NOW)
    trace = conversation.trace(result.trace_id)
    payload = trace.payload
    assert trace.query == "When did ana get a cat?"
    assert payload["matched_query"] == "When did get a cat?"
    assert payload["temporal"]["asks_when"] is True
    assert len(payload["candidates"]) >= len(result.items)
    assert {"dense", "keyword", "rrf", "session_bonus", "when_factor"} <= set(
        payload["candidates"][0]["signals"]
    )
    assert [c["id"] for c in payload["chosen"]] == [i.id for i in result.items]
    assert trace.config["ranking"]["rrf_k"] == 60 and trace.latency_ms > 0


def test_an_unknown_trace_is_a_clear_error(sm: SelfModel) -> None:
    with pytest.raises(TraceNotFoundError):
        sm.trace("trc_missing")


def test_the_trace_command_shows_a_stored_trace(tmp_path: Path, embedder: object) -> None:
    db = tmp_path / "t.db"
    with SelfModel.open(str(db), embedder=embedder) as model:  # type: ignore[arg-type]
        model.observe("ana", "I adopted a grey cat called Miso.")
        trace_id = model.context("ana", "pets").trace_id
    shown = runner.invoke(app, ["trace", trace_id, "--db", str(db)])
    assert shown.exit_code == 0, shown.output
    assert "pets" in shown.output and "Miso" in shown.output
    as_json = runner.invoke(app, ["trace", trace_id, "--db", str(db), "--json"])
    assert as_json.exit_code == 0 and trace_id in as_json.output
    missing = runner.invoke(app, ["trace", "trc_nope", "--db", str(db)])
    assert missing.exit_code == 1 and "no trace" in missing.output


def test_a_history_of_only_stop_words_still_answers_by_meaning(sm: SelfModel) -> None:
    sm.observe("ana", ["and then it was", "it is as it was", "and it was"])
    result = sm.context("ana", "what did she ask?", limit=2)
    assert len(result.items) == 2
    assert all(i.signals["keyword"] == 0.0 for i in result.items)


def test_questions_and_pleasantries_are_never_moments_of_a_block(sm: SelfModel) -> None:
    sm.observe(
        "ana",
        ["Hey Mel! Good to see you!", "How was the trip?", "Thanks so much!", "The trip was long."],
    )
    texts = [i.text for i in sm.context("ana", "How was the trip?").items]
    assert texts == ["The trip was long."]


def test_assistant_turns_rank_below_the_users_own_words(sm: SelfModel) -> None:
    sm.observe(
        "maya",
        [
            {"role": "assistant", "content": "Hiking trails near you include the ridge loop."},
            {"role": "user", "content": "Hiking in the hills every Sunday keeps me sane."},
        ],
    )
    result = sm.context("maya", "hiking", budget_tokens=400)
    # The user's words come first, as the belief read from them (which stands in for them).
    assert "hills every Sunday" in result.items[0].text
    assistant = next(i for i in result.items if i.speaker == "assistant")
    assert assistant.signals["speaker_factor"] == 0.5


def test_a_block_without_moments_holds_only_beliefs(sm: SelfModel) -> None:
    sm.observe(
        "maya",
        [
            {"content": "I love hiking in the mountains.", "occurred_at": "2023-05-01T10:00:00Z"},
            {"content": "The trail was muddy today.", "occurred_at": "2023-05-02T10:00:00Z"},
        ],
    )
    full = sm.context("maya", "What was the trail like outdoors?", now=NOW)
    beliefs_only = sm.context("maya", "What does she do outdoors?", now=NOW, moments=False)
    assert any(item.item_type == "observation" for item in full.items)
    assert beliefs_only.items and all(item.item_type == "belief" for item in beliefs_only.items)
    assert sm.trace(beliefs_only.trace_id).config["moments"] is False


def test_token_counts_from_the_cache_equal_fresh_ones_and_the_cache_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from selfmodel.retrieval import tokens

    counter = TokenCounter()
    lines = [
        "- Maya runs half marathons (12 May 2024)",
        "ok",
        "",
        "- Maya runs half marathons (12 May 2024)",
    ]
    fresh = [counter.count(line) for line in lines]
    assert counter.count_many(lines) == fresh
    assert counter.count_many(lines) == fresh  # now every line is cached
    monkeypatch.setattr(tokens, "MAX_CACHED_COUNTS", 3)
    many = [f"line number {i} of a long history" for i in range(10)]
    assert counter.count_many(many) == [counter.count(line) for line in many]
    assert len(counter._counts) <= 10
    assert counter.count_many(lines) == fresh
    assert len(counter._counts) <= 3


def test_a_scope_with_an_unknown_user_names_that_user_and_traces_nothing(sm: SelfModel) -> None:
    sm.observe("ana", "I collect vinyl records.")
    before = len(sm.traces("ana"))
    with pytest.raises(UserNotFoundError, match="'nobody'"):
        sm.context(["ana", "nobody"], "music")
    assert len(sm.traces("ana")) == before
    assert sm.context(["ana", "ana"], "music").items  # a name given twice is one user
