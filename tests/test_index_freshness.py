"""Warm scope indexes: updated in place after writes, and fresh across processes sharing a store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import bm25s
import numpy as np
import pytest

from selfmodel import SelfModel
from selfmodel.domain import Observation, new_id
from selfmodel.domain.time import utcnow
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.retrieval.freshness import ScopeLoader
from selfmodel.retrieval.index import ScopeIndex
from selfmodel.retrieval.keyword import KeywordIndex, keyword_tokens
from selfmodel.storage import OBSERVATION_VECTORS, UserWatermark
from tests.support.statements import PostgresStatements, SQLiteStatements

CORPUS = [
    "I adopted a grey cat called Miso.",
    "Yesterday I ran my first half marathon!",
    "I prefer tea over coffee in the morning, tea tea.",
    "ok",
    "My sister moved to Lisbon last summer and I visited her in May.",
    "The marathon training plan says run four times a week.",
    "Coffee with my sister every Sunday.",
]
QUERIES = ["marathon running", "tea or coffee", "sister Lisbon visit", "cat", "nothing matches zzz"]


def _bm25s_scores(texts: list[str], query: str) -> np.ndarray:
    reference = bm25s.BM25()
    reference.index(keyword_tokens(texts), show_progress=False)
    tokens = keyword_tokens([query])[0]
    known = [t for t in tokens if t in reference.vocab_dict]
    if not known:
        return np.zeros(len(texts), dtype=np.float32)
    return np.asarray(reference.get_scores(known), dtype=np.float32)


def test_keyword_index_scores_exactly_as_a_fresh_bm25s_index() -> None:
    index = KeywordIndex()
    index.append(keyword_tokens(CORPUS))
    for query in QUERIES:
        ours = index.scores(keyword_tokens([query])[0])
        assert np.array_equal(ours, _bm25s_scores(CORPUS, query)), query


def test_keyword_index_after_appends_replacements_and_removals_equals_a_fresh_one() -> None:
    index = KeywordIndex()
    index.append(keyword_tokens(CORPUS[:3]))
    index.append(keyword_tokens(CORPUS[3:]))
    index.replace(1, keyword_tokens(["I ran the Lisbon marathon in May"])[0])
    index.remove([0, 3])
    texts = [CORPUS[i] for i in (2, 4, 5, 6)]
    texts.insert(0, "I ran the Lisbon marathon in May")
    for query in QUERIES:
        assert np.array_equal(
            index.scores(keyword_tokens([query])[0]), _bm25s_scores(texts, query)
        ), query


def test_an_empty_keyword_index_scores_nothing() -> None:
    assert KeywordIndex().scores(["cat"]).shape == (0,)


def _warm_index(sm: SelfModel, *users: str) -> ScopeIndex:
    retriever = sm._c.retriever
    keys = [k for k in retriever.cache._entries if len(k[1]) == len(users)]
    found = retriever.cache.get(keys[-1])
    assert found is not None
    return found


def _same_as_fresh(sm: SelfModel, index: ScopeIndex, users: list[str]) -> None:
    """The incrementally kept index holds what a build from the store would: docs and vectors."""
    ws = sm.workspace.id
    ids = [sm.user(u).id for u in users]
    fresh = ScopeLoader(sm.store, ws, ids, None, sm._c.embedder.name, sm._c.embedder.dim).build()
    assert {d.id: d for d in index.documents} == {d.id: d for d in fresh.documents}
    ours = dict(zip((d.id for d in index.documents), index.vectors, strict=True))
    for doc, vector in zip(fresh.documents, fresh.vectors, strict=True):
        assert np.allclose(ours[doc.id], vector)
    for query in QUERIES:
        ours_kw = dict(
            zip((d.id for d in index.documents), index.keyword_scores(query), strict=True)
        )
        theirs = dict(
            zip((d.id for d in fresh.documents), fresh.keyword_scores(query), strict=True)
        )
        assert ours_kw == pytest.approx(theirs), query


def test_writes_are_applied_to_the_warm_index_and_match_a_fresh_build(sm: SelfModel) -> None:
    sm.observe("ana", "I adopted a grey cat called Miso.")
    sm.context("ana", "pets")
    index = _warm_index(sm, "ana")
    sm.observe("ana", ["I ran my first half marathon!", "I love green tea."])
    belief = sm.add_belief("ana", "Ana runs half marathons")
    assert any(i.id == belief.id for i in sm.context("ana", "running").items)
    assert _warm_index(sm, "ana") is index  # updated in place, not rebuilt
    _same_as_fresh(sm, index, ["ana"])

    sm.edit(belief.id, "Ana runs full marathons now")
    texts = [i.text for i in sm.context("ana", "marathon").items]
    assert "Ana runs full marathons now" in texts and "Ana runs half marathons" not in texts
    sm.reject(belief.id)
    assert all(i.id != belief.id for i in sm.context("ana", "marathon").items)
    assert _warm_index(sm, "ana") is index
    _same_as_fresh(sm, index, ["ana"])


def test_an_observation_recorded_before_what_was_read_is_still_read(sm: SelfModel) -> None:
    """A row committed late, its clock earlier than rows already read: its revision is later."""
    sm.observe("ana", "I adopted a grey cat called Miso.")
    sm.context("ana", "pets")
    index = _warm_index(sm, "ana")
    u = sm.user("ana")
    late = Observation(
        id=new_id("obs"),
        workspace_id=sm.workspace.id,
        user_id=u.id,
        content="I keep bees on the roof.",
        occurred_at=utcnow(),
        recorded_at=utcnow() - timedelta(days=1),
    )
    with sm.store.transaction():
        sm.store.lock_user(sm.workspace.id, u.id)  # as every writer of a user's rows does
        sm.store.insert_observations([late])
        vector = sm._c.embedder.embed_one(late.content)
        sm.store.put_vectors(sm.workspace.id, u.id, OBSERVATION_VECTORS, sm._c.embedder.name,
                             [(late.id, vector)])  # fmt: skip
    assert any(i.id == late.id for i in sm.context("ana", "bees").items)
    assert _warm_index(sm, "ana") is index  # applied in place
    _same_as_fresh(sm, index, ["ana"])


def test_watermarks_read_before_another_refresh_do_not_undo_it(sm: SelfModel) -> None:
    """A call's watermarks, read with its users, may be older than its index by the time it
    looks (another call brought the index further): the index is neither rebuilt nor moved
    back, and what it holds stays what a fresh build holds."""
    sm.observe("ana", "I adopted a grey cat called Miso.")
    sm.context("ana", "pets")
    index = _warm_index(sm, "ana")
    u = sm.user("ana")
    ((_, early),) = sm.store.start_context(sm.workspace.id, ["ana"]).users
    sm.observe("ana", "I ran my first half marathon!")
    loader = ScopeLoader(
        sm.store, sm.workspace.id, [u.id], None, sm._c.embedder.name, sm._c.embedder.dim
    )
    assert loader.refresh(index) is index  # brought to the new revision
    moved = index.sync.revisions
    assert moved[0] > early.revision
    assert loader.refresh(index, [early]) is index
    assert index.sync.revisions == moved and index.sync.exact
    _same_as_fresh(sm, index, ["ana"])
    ((_, now),) = sm.store.start_context(sm.workspace.id, ["ana"]).users
    assert loader.refresh(index, [now]) is index and index.sync.exact


class _WriteBetweenReads:
    """``store`` as it is, but another engine observes once right after the refresh's read of
    new observations: a write that commits between two of its reads."""

    def __init__(self, store: object, other: SelfModel) -> None:
        self._store, self._other = store, other

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def list_observations_since(self, *args: object) -> object:
        found = self._store.list_observations_since(*args)  # type: ignore[attr-defined]
        self._other.observe("ana", "I love jazz.")
        return found


def test_a_write_that_commits_while_a_refresh_reads_is_caught_and_read_next_time(
    sm: SelfModel, db_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    """The beliefs' read sees a revision past the one the refresh started from (it read the new
    belief, the observations' read before it had not seen the message): the index is not known
    to be exact (a call reads the revisions again before naming its version), and the next
    refresh reads the rest."""
    sm.observe("ana", "I adopted a grey cat called Miso.")
    sm.context("ana", "pets")
    index = _warm_index(sm, "ana")
    u = sm.user("ana")
    sm.observe("ana", "I ran my first half marathon!")
    with SelfModel.open(str(db_path), embedder=embedder) as other:
        racing = ScopeLoader(
            _WriteBetweenReads(sm.store, other),  # type: ignore[arg-type]
            sm.workspace.id, [u.id], None, sm._c.embedder.name, sm._c.embedder.dim,
        )  # fmt: skip
        assert racing.refresh(index) is index
    assert not index.sync.exact

    def about_jazz() -> set[str]:
        return {d.item_type for d in index.documents if "jazz" in d.text}

    assert about_jazz() == {"belief"}
    assert _loader(sm, "ana").refresh(index) is index
    assert index.sync.exact and about_jazz() == {"belief", "observation"}
    _same_as_fresh(sm, index, ["ana"])


def test_marks_read_before_a_refresh_that_read_past_them_do_not_make_the_index_exact(
    sm: SelfModel,
) -> None:
    """Two calls on {ana, bob}. Call Y's refresh reads bob's rows past its marks (bob wrote
    again after Y read them): not exact. Call X's marks, read before that write, moved for
    ana only: its refresh confirms ana, but the index still holds bob's rows past the
    revision it names — not exact either, so the call reads the revisions again."""
    sm.observe("ana", "I adopted a grey cat called Miso.")
    sm.observe("bob", "I play the cello.")
    sm.context(["ana", "bob"], "pets")  # built, then its version read and confirmed
    index = _warm_index(sm, "ana", "bob")
    assert not index.sync.unconfirmed
    ws = sm.workspace.id

    def marks() -> list[UserWatermark]:
        return [m for _, m in sm.store.start_context(ws, ["ana", "bob"]).users]

    ids = [m.user_id for m in marks()]
    loader = ScopeLoader(sm.store, ws, ids, None, sm._c.embedder.name, sm._c.embedder.dim)
    sm.observe("bob", "I love jazz.")
    y_marks = marks()
    sm.observe("ana", "I ran my first half marathon!")
    x_marks = marks()
    sm.observe("bob", "I keep bees on the roof.")
    assert loader.refresh(index, y_marks) is index and not index.sync.exact  # read past bob
    assert loader.refresh(index, x_marks) is index
    assert not index.sync.exact  # ana confirmed, bob not
    assert loader.refresh(index) is index and index.sync.exact  # bob read again, confirmed
    _same_as_fresh(sm, index, ["ana", "bob"])


def test_an_observation_without_a_vector_waits_until_its_job_has_run(sm: SelfModel) -> None:
    sm.observe("ana", "I adopted a grey cat called Miso.")
    sm.context("ana", "pets")
    pending = sm.observe("ana", "I play the bassoon in an orchestra.", wait=False)
    assert all("bassoon" not in i.text for i in sm.context("ana", "bassoon").items)
    sm.process_jobs("test-worker")
    found = [i for i in sm.context("ana", "bassoon").items if "bassoon" in i.text]
    # The new message, or the belief read from it (which then stands in for it).
    assert found and set(found[0].evidence_ids) <= set(pending.new_observation_ids)


def _vector_lookups(ran: list[str]) -> list[str]:
    """The statements that read vectors alone, by item id (``get_vectors_by_id``)."""
    return [s for s in ran if s.lstrip().startswith("SELECT item_id, vector FROM vectors")]


def _loader(sm: SelfModel, user: str) -> ScopeLoader:
    return ScopeLoader(
        sm.store,
        sm.workspace.id,
        [sm.user(user).id],
        None,
        sm._c.embedder.name,
        sm._c.embedder.dim,
    )


def test_a_refresh_reads_what_changed_with_its_vectors(
    db_location: str,
    statements: SQLiteStatements | PostgresStatements,
    embedder: SentenceTransformerEmbedder,
) -> None:
    """A new observation and a new belief come with their vectors from the reads of what
    changed: no statement reads vectors alone."""
    with SelfModel.open(db_location, embedder=embedder) as sm:
        sm.observe("ana", "I adopted a grey cat called Miso.")
        sm.context("ana", "pets")
        index = _warm_index(sm, "ana")
        loader = _loader(sm, "ana")
        cello = sm.observe("ana", "I started learning the cello.")
        belief = sm.add_belief("ana", "Ana plays the cello")
        statements.take()
        assert loader.refresh(index) is index
        ran = statements.take()
        assert set(cello.new_observation_ids) <= {d.id for d in index.documents}
        assert index.get(belief.id) is not None
        assert _vector_lookups(ran) == []
        # The watermark, the observations and the beliefs written since (each with their
        # vectors, the beliefs with the messages supporting them): three statements fewer than
        # with the vectors and the evidence read apart.
        assert len(ran) == 3, ran
        assert not any(s.startswith("SELECT * FROM evidence") for s in ran), ran
        # The beliefs' read found the revision the refresh started from: known to be exact.
        assert index.sync.exact
        _same_as_fresh(sm, index, ["ana"])


def test_an_observation_stored_before_its_vector_is_indexed_once_the_vector_is(
    db_location: str,
    statements: SQLiteStatements | PostgresStatements,
    embedder: SentenceTransformerEmbedder,
) -> None:
    """It waits, and only what waits is looked up again, once the user's revision moves."""
    with SelfModel.open(db_location, embedder=embedder) as sm:
        sm.observe("ana", "I adopted a grey cat called Miso.")
        sm.context("ana", "pets")
        index = _warm_index(sm, "ana")
        loader = _loader(sm, "ana")
        (pending,) = sm.observe("ana", "I play the bassoon.", wait=False).new_observation_ids
        statements.take()
        loader.refresh(index)
        assert _vector_lookups(statements.take()) == []  # nothing waited before this read
        assert index.get(pending) is None and pending in index.sync.observations_waiting

        sm.process_jobs("test-worker")  # stores its vector
        statements.take()
        loader.refresh(index)
        assert len(_vector_lookups(statements.take())) == 1  # what waited, in one read
        assert not index.sync.exact  # read after the revision was: not known to be exact
        assert index.get(pending) is not None and not index.sync.observations_waiting
        loader.refresh(index)
        assert len(statements.take()) == 1  # nothing moved: the watermark alone
        _same_as_fresh(sm, index, ["ana"])


@pytest.fixture
def two_processes(
    db_location: str, embedder: SentenceTransformerEmbedder
) -> Iterator[tuple[SelfModel, SelfModel]]:
    """Two engines with their own stores over one database, as two API processes would be."""
    with (
        SelfModel.open(db_location, embedder=embedder) as writer,
        SelfModel.open(db_location, embedder=embedder) as reader,
    ):
        yield writer, reader


def _warm_pair(writer: SelfModel, reader: SelfModel) -> ScopeIndex:
    """Ana and Ben written by one process; their scope's index warm in the other."""
    writer.observe("ana", "I adopted a grey cat called Miso.")
    writer.observe("ben", "I brew my own beer.")
    assert reader.context(["ana", "ben"], "cat beer").items
    return _warm_index(reader, "ana", "ben")


def test_a_warm_index_sees_writes_made_by_another_process(
    two_processes: tuple[SelfModel, SelfModel],
) -> None:
    writer, reader = two_processes
    index = _warm_pair(writer, reader)

    cello = writer.observe("ana", "I started learning the cello.")
    belief = writer.add_belief("ben", "Ben plays chess on Sundays")
    items = reader.context(["ana", "ben"], "cello chess").items
    assert set(cello.new_observation_ids) <= {e for i in items for e in i.evidence_ids}
    assert belief.id in {i.id for i in items}
    assert _warm_index(reader, "ana", "ben") is index  # applied incrementally

    writer.reject(belief.id)
    assert belief.id not in {i.id for i in reader.context(["ana", "ben"], "chess").items}
    assert _warm_index(reader, "ana", "ben") is index


def test_rows_deleted_by_another_process_leave_a_warm_index(
    two_processes: tuple[SelfModel, SelfModel],
) -> None:
    """Retention and forget delete rows: the other process's index is built again without them."""
    writer, reader = two_processes
    index = _warm_pair(writer, reader)

    writer.set_retention_policy({"observations_max_age_days": 1})
    report = writer.run_retention(now=utcnow() + timedelta(days=2))
    assert report.deletions
    left = reader.context(["ana", "ben"], "cat beer").items
    assert left and all(i.item_type == "belief" for i in left)  # the messages went, not beliefs
    assert _warm_index(reader, "ana", "ben") is not index  # built again
    _same_as_fresh(reader, _warm_index(reader, "ana", "ben"), ["ana", "ben"])

    writer.observe("ana", "I keep bees on the roof.")
    assert reader.context(["ana", "ben"], "bees").items
    index = _warm_index(reader, "ana", "ben")
    writer.forget("ana")
    writer.observe("ana", "I am new here.")  # a new user of the same name: nothing of the old
    assert all("bees" not in i.text for i in reader.context(["ana", "ben"], "bees").items)


def test_ties_rank_the_same_however_the_index_grew() -> None:
    """Identical texts score alike; which comes first must not depend on insertion order."""
    from datetime import UTC, datetime

    from selfmodel.retrieval.index import BELIEF, OBSERVATION, Document
    from selfmodel.retrieval.ranking import RankingConfig, rank

    at = datetime(2023, 5, 8, tzinfo=UTC)
    docs = [
        Document(f"obs_{i}", OBSERVATION, "u", "I love tea", at, 1.0, (f"obs_{i}",))
        for i in range(3)
    ] + [Document(f"bel_{i}", BELIEF, "u", "I love tea", at, 1.0, ()) for i in range(3)]
    vector = np.ones((1, 4), dtype=np.float32) / 2
    fresh = ScopeIndex(docs, np.repeat(vector, len(docs), axis=0))
    grown = ScopeIndex([], np.zeros((0, 4), dtype=np.float32))
    for doc in reversed(docs):
        grown.append([doc], vector)

    def ids(index: ScopeIndex) -> list[str]:
        found = rank(index, "tea", vector[0], RankingConfig(), at)
        return [index.documents[c.index].id for c in found]

    assert ids(grown) == ids(fresh)
