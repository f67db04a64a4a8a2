"""``context()``: retrieve, rank, fit into a token budget, assemble a block, and trace it all."""

from __future__ import annotations

import base64
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from selfmodel.domain import (
    Belief,
    BeliefStatus,
    ContextItem,
    ContextResult,
    TraceRecord,
    User,
    new_id,
)
from selfmodel.domain.time import human_date, utcnow
from selfmodel.embedding import Embedder
from selfmodel.extraction.language import Language
from selfmodel.retrieval.freshness import (
    IndexSource,
    ScopeLoader,
    ScopeLoaderAsOf,
    SyncState,
)
from selfmodel.retrieval.index import (
    BELIEF,
    OBSERVATION,
    Document,
    IndexCache,
    ScopeIndex,
    stands_in_for_its_moments,
)
from selfmodel.retrieval.intent import asks_about_disposition, is_request
from selfmodel.retrieval.ranking import (
    Candidate,
    KeywordMatch,
    RankingConfig,
    diversify,
    keyword_match,
    rank,
    without_names,
)
from selfmodel.retrieval.temporal import TemporalQuery, analyse
from selfmodel.retrieval.tokens import TokenCounter
from selfmodel.revision.confidence import current_confidence, current_status
from selfmodel.storage import TraceStore, UserWatermark

__all__ = [
    "BudgetStep",
    "Choice",
    "Retriever",
    "Scope",
]
# Items recorded in a trace beyond those chosen, so a replay can see what nearly made it.
TRACED_CANDIDATES = 40
PROFILE_TITLE = "Profile:"
BELIEFS_TITLE = "Beliefs (most relevant first):"
# At most this many profile lines lead a block (current facets, then communication preferences).
PROFILE_LINES = 6
# How a block names someone the product has given no display name (never the raw user id).
NEUTRAL_NAME = "the user"
MOMENTS_TITLE = "Relevant moments (oldest first):"
# Times a call reads its index when writes keep committing while it reads (then it answers,
# and its trace says the version is not settled).
SETTLE_ATTEMPTS = 3
# Indexes of the past kept warm for replays (a bench replays hundreds of traces of few versions).
PAST_SCOPES = 8


class RetrievalStore(IndexSource, TraceStore, Protocol):
    """What retrieval uses of a store: it reads the model and its vectors, and writes traces."""


@dataclass(frozen=True)
class Scope:
    """Whose self-model a context call reads: one or more users, optionally one area."""

    workspace_id: str
    users: tuple[User, ...]
    area_id: str | None = None
    # The users' watermarks read with them, if they were (``start_context``): the
    # call's first look at its index uses them instead of reading them again.
    watermark: tuple[UserWatermark, ...] = ()

    @property
    def key(self) -> tuple[str, frozenset[str], str | None]:
        return (self.workspace_id, frozenset(u.id for u in self.users), self.area_id)


@dataclass(frozen=True)
class _Call:
    """One ``context`` call's inputs once the query is embedded and analysed."""

    scope: Scope
    query: str
    matched: str
    names: dict[str, str]
    query_vector: np.ndarray
    temporal: TemporalQuery
    started: float
    now: datetime
    moments: bool = True
    request: bool = False
    personalized: bool = True
    experiments: tuple[dict[str, Any], ...] = ()
    on_choice: Callable[[Choice], None] | None = None
    disposition: bool = False  # asks what someone would do or like (see retrieval.intent)
    keywords: KeywordMatch | None = None  # computed while the query embedded, if it was


@dataclass
class Choice:
    """Every stage of one call's choice, kept so a replay or "why not X?" can read each."""

    candidates: list[Candidate]  # ranked by score (the pool), best first
    profile: list[Candidate]  # profile lines that lead the block
    diverse: list[Candidate]  # the pool after maximal marginal relevance
    ranked: list[Candidate]  # ``diverse`` without the moments a ranked belief holds
    covered: list[dict[str, str]]
    wanted: int  # how many of ``ranked`` were offered to the budget
    chosen: list[tuple[Candidate, int]]  # with the tokens each line costs
    used: int  # tokens of the block
    text: str


@dataclass(frozen=True)
class BudgetStep:
    """One candidate's turn at the token budget (a line costs ``cost`` plus a newline)."""

    cost: int
    used_before: int
    used_after: int
    taken: bool


class Retriever:
    """Hybrid retrieval over a scope's beliefs and observations, with warm per-scope indexes."""

    def __init__(
        self,
        store: RetrievalStore,
        embedder: Embedder,
        tokens: TokenCounter,
        config: RankingConfig | None = None,
        language: Language | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.tokens = tokens
        self.language = language or Language()
        self.config = config or RankingConfig()
        self.cache = IndexCache()
        # Indexes of the past (replays), keyed by the revisions they were read at and by the
        # users' revisions now: a deletion (forget, retention) moves the latter, so a past the
        # store no longer holds is never served from here.
        self._past: OrderedDict[tuple[object, ...], ScopeIndex] = OrderedDict()
        self._past_lock = threading.Lock()

    # -- index building ----------------------------------------------------------------------
    def _index(self, scope: Scope, *, marks: Sequence[UserWatermark] = ()) -> ScopeIndex:
        """The scope's warm index, brought up to date with the store (built on first use);
        ``marks``: the users' watermarks if just read."""
        loader = ScopeLoader(
            self.store,
            scope.workspace_id,
            [u.id for u in scope.users],
            scope.area_id,
            self.embedder.name,
            self.embedder.dim,
        )
        cached = self.cache.get(scope.key)
        if cached is None:
            index = loader.build()
        else:
            with cached.lock:
                index = loader.refresh(cached, marks)
        if index is not cached:
            self.cache.put(scope.key, index)
        return index

    # -- the call ----------------------------------------------------------------------------
    def context(
        self,
        scope: Scope,
        query: str,
        *,
        budget_tokens: int,
        limit: int | None = None,
        now: datetime | None = None,
        config: RankingConfig | None = None,
        moments: bool = True,
        personalized: bool = True,
        experiments: Sequence[Mapping[str, Any]] = (),
        on_choice: Callable[[Choice], None] | None = None,
    ) -> ContextResult:
        """``personalized=False`` answers from an empty self-model (the control of an
        experiment: no belief, no observation of the scope); ``experiments`` are recorded in
        the trace's config (the experiments and variants the call ran under). ``on_choice`` is
        given the choice once made (the engine counts its candidates for telemetry)."""
        started = time.perf_counter()
        config = config or self.config
        now = now or utcnow()
        names = {u.id: u.display_name or u.external_id for u in scope.users}
        matched = without_names(query, list(names.values())) if config.strip_names else query
        # The query embeds (on the embedding thread, for the local model) while this thread
        # brings the index up to date, reads the query and scores its words.
        embedding = self.embedder.start_embed_one(matched)
        index = (
            self._index(scope, marks=scope.watermark)
            if personalized
            else ScopeIndex([], np.zeros((0, self.embedder.dim), dtype=np.float32))
        )
        temporal = analyse(query, now)
        parsed = self.language.parse([query])[0]
        with index.lock:  # a write applied meanwhile makes ``rank`` score the words again
            keywords = keyword_match(index, matched)
        query_vector = embedding()
        call = _Call(
            scope,
            query,
            matched,
            names,
            query_vector,
            temporal,
            started,
            now,
            moments,
            is_request(parsed),
            personalized,
            tuple(dict(e) for e in experiments),
            on_choice,
            disposition=asks_about_disposition(parsed),
            keywords=keywords,
        )
        if not personalized:
            # An empty self-model reads no one's: the trace names the users' revisions at the
            # call (what a replay with personalization on would read) and is settled.
            with index.lock:
                version = self._model_version(scope, index, empty=True)
                return self._answer(call, index, config, budget_tokens, limit, version)
        # A write that commits while the index is read leaves it between two versions: read
        # again, so the trace names exactly the version it read (what a replay reads back).
        for _ in range(SETTLE_ATTEMPTS - 1):
            with index.lock:  # a refresh by another thread must not move documents under us
                version = self._model_version(scope, index)
                if version["settled"]:
                    return self._answer(call, index, config, budget_tokens, limit, version)
            index = self._index(scope)
        with index.lock:
            version = self._model_version(scope, index)
            return self._answer(call, index, config, budget_tokens, limit, version)

    def _model_version(
        self, scope: Scope, index: ScopeIndex, *, empty: bool = False
    ) -> dict[str, Any]:
        """Which version of the self-model the index holds: each user's revision when it was
        brought up to date (rows of revision ≤ those are exactly what it read), and whether
        that is certain — no write committed while it read (``settled``). ``empty``: the call
        read an empty self-model (personalization off); the users' revisions now are named."""
        sync = index.sync
        exact = not empty and isinstance(sync, SyncState) and sync.exact
        # An index known to hold exactly its revisions (see ``SyncState.exact``): no second
        # read.
        now = (
            sync.revisions
            if exact
            else self.store.user_revisions(scope.workspace_id, [u.id for u in scope.users])
        )
        seen = tuple(now) if empty else sync.revisions if isinstance(sync, SyncState) else ()
        if not empty and not exact and isinstance(sync, SyncState) and tuple(now) == seen:
            sync.confirm()  # no row past the revisions exists
        return {
            "revisions": {u.id: r for u, r in zip(scope.users, seen, strict=False)},
            "settled": bool(seen) and tuple(now) == tuple(seen),
            "read_at": utcnow().isoformat(),  # record time of the read
        }

    def _choose(
        self,
        call: _Call,
        index: ScopeIndex,
        config: RankingConfig,
        budget_tokens: int,
        limit: int | None,
    ) -> Choice:
        """Score, diversify and fit one call on an index held still (writes nothing)."""
        scope, now = call.scope, call.now
        candidates = self._rank(call, index, config)
        # Without a limit the block leads with the profile (current facets, how the person wants
        # to be answered); with one, the caller asked for the k most relevant items only.
        profile = self._profile(index, now) if limit is None else []
        in_profile = {c.index for c in profile}
        wanted = limit if limit is not None else config.candidate_pool
        diverse = diversify(
            index, [c for c in candidates if c.index not in in_profile], config, wanted * 2
        )
        ranked, covered = self._without_covered_moments(index, diverse)
        chosen, used = self._fit(index, [*profile, *ranked[:wanted]], budget_tokens, scope)
        text = self._assemble(index, chosen, scope, len(profile))
        return Choice(candidates, profile, diverse, ranked, covered, wanted, chosen, used, text)

    def _answer(
        self,
        call: _Call,
        index: ScopeIndex,
        config: RankingConfig,
        budget_tokens: int,
        limit: int | None,
        version: dict[str, Any],
    ) -> ContextResult:
        """Choose, then trace the call with everything a replay needs to run it again."""
        choice = self._choose(call, index, config, budget_tokens, limit)
        if call.on_choice is not None:
            call.on_choice(choice)
        latency_ms = (time.perf_counter() - call.started) * 1000
        trace_id = new_id("trc")
        items = [self._item(index, c, tokens) for c, tokens in choice.chosen]
        traced_config = self.traced_config(
            config, budget_tokens, limit, call.moments, call.personalized, call.experiments
        )
        self.store.insert_trace(
            TraceRecord(
                id=trace_id,
                workspace_id=call.scope.workspace_id,
                user_ids=tuple(u.id for u in call.scope.users),
                query=call.query,
                created_at=utcnow(),
                latency_ms=latency_ms,
                config=traced_config,
                payload={
                    **self.payload(call, index, choice, items),
                    # What the call read, so a replay reads the same (docs/debugging.md).
                    "model_version": version,
                    "users": [
                        {"id": u.id, "external_id": u.external_id, "display_name": u.display_name}
                        for u in call.scope.users
                    ],
                    "query_vector": base64.b64encode(
                        np.asarray(call.query_vector, dtype=np.float32).tobytes()
                    ).decode("ascii"),
                },
            )
        )
        return ContextResult(
            text=choice.text,
            items=items,
            tokens=choice.used,
            budget_tokens=budget_tokens,
            trace_id=trace_id,
            latency_ms=latency_ms,
            config=traced_config,
        )

    def traced_config(
        self,
        config: RankingConfig,
        budget_tokens: int,
        limit: int | None,
        moments: bool,
        personalized: bool = True,
        experiments: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        """The configuration a trace records (and a replay reads back)."""
        traced: dict[str, Any] = {
            "ranking": config.as_dict(),
            "embedder": self.embedder.name,
            "budget_tokens": budget_tokens,
            "limit": limit,
            "moments": moments,
        }
        if experiments or not personalized:
            traced["experiments"] = [dict(e) for e in experiments]
            traced["personalized"] = personalized
        return traced

    @staticmethod
    def payload(
        call: _Call, index: ScopeIndex, choice: Choice, items: Sequence[ContextItem]
    ) -> dict[str, Any]:
        """What a trace records of the choice itself: replaying the call recomputes exactly
        this (``selfmodel.retrieval.replay``)."""
        return {
            "area_id": call.scope.area_id,
            "now": call.now.isoformat(),
            "matched_query": call.matched,
            "temporal": call.temporal.as_dict(),
            "request": call.request,
            "disposition": call.disposition,
            "indexed_items": len(index),
            "candidates": [
                {
                    "id": index.documents[c.index].id,
                    "item_type": index.documents[c.index].item_type,
                    "text": index.documents[c.index].text,
                    "score": c.score,
                    "signals": c.signals,
                }
                for c in choice.candidates[:TRACED_CANDIDATES]
            ],
            "chosen": [item.model_dump(mode="json") for item in items],
            # Raw moments left out because a chosen belief already holds them.
            "covered_moments": choice.covered,
            "withheld_moments": len(index.withheld),
            "text": choice.text,
            "tokens": choice.used,
        }

    # -- the past, again ---------------------------------------------------------------------
    def index_as_of(self, scope: Scope, revisions: Mapping[str, int]) -> ScopeIndex:
        """The scope's index as it was at these user revisions (from the store's history)."""
        ids = [u.id for u in scope.users]
        then = tuple(revisions[i] for i in ids)
        now = self.store.user_revisions(scope.workspace_id, ids)
        key = (scope.workspace_id, tuple(ids), scope.area_id, then, now)
        with self._past_lock:
            found = self._past.get(key)
            if found is not None:
                self._past.move_to_end(key)
                return found
        found = self._build_as_of(scope, revisions)
        with self._past_lock:
            self._past[key] = found
            while len(self._past) > PAST_SCOPES:
                self._past.popitem(last=False)
        return found

    def _build_as_of(self, scope: Scope, revisions: Mapping[str, int]) -> ScopeIndex:
        return ScopeLoaderAsOf(
            self.store,
            scope.workspace_id,
            [u.id for u in scope.users],
            scope.area_id,
            self.embedder.name,
            self.embedder.dim,
            revisions,
        ).build()

    def call_again(
        self,
        scope: Scope,
        query: str,
        now: datetime,
        config: RankingConfig,
        *,
        moments: bool,
        query_vector: np.ndarray | None = None,
    ) -> _Call:
        """A past call's inputs, analysed again. ``query_vector``: the one the call used
        (embedding the query again may differ in the last bits when the embedder batches)."""
        names = {u.id: u.display_name or u.external_id for u in scope.users}
        matched = self.matched_query(scope, query, config)
        if query_vector is None:
            query_vector = self.embedder.embed_one(matched)
        parsed = self.language.parse([query])[0]
        return _Call(
            scope,
            query,
            matched,
            names,
            query_vector,
            analyse(query, now),
            time.perf_counter(),
            now,
            moments,
            is_request(parsed),
            disposition=asks_about_disposition(parsed),
        )

    @staticmethod
    def matched_query(scope: Scope, query: str, config: RankingConfig) -> str:
        """The form of ``query`` that is matched (and embedded) under ``config``."""
        names = [u.display_name or u.external_id for u in scope.users]
        return without_names(query, names) if config.strip_names else query

    def recompute(
        self,
        call: _Call,
        index: ScopeIndex,
        config: RankingConfig,
        *,
        budget_tokens: int,
        limit: int | None,
    ) -> tuple[Choice, dict[str, Any], list[ContextItem]]:
        """One context call computed again on ``index`` (writes no trace): its choice, the
        payload a trace of it records, and its items."""
        with index.lock:  # an index of the past may serve several replays at once
            choice = self._choose(call, index, config, budget_tokens, limit)
            items = [self._item(index, c, tokens) for c, tokens in choice.chosen]
            return choice, self.payload(call, index, choice, items), items

    def full_ranking(
        self, call: _Call, index: ScopeIndex, config: RankingConfig
    ) -> list[Candidate]:
        """Every document the ranker considers for ``call``, best first, with no pool cut:
        where an item outside the pool stood."""
        return self._rank(call, index, replace(config, candidate_pool=max(len(index), 1)))

    def _rank(self, call: _Call, index: ScopeIndex, config: RankingConfig) -> list[Candidate]:
        return rank(
            index,
            call.matched,
            call.query_vector,
            config,
            call.now,
            users=call.names,
            temporal=call.temporal,
            original_query=call.query,
            beliefs_only=not call.moments,
            request=call.request,
            disposition=call.disposition,
            keywords=call.keywords,
        )

    @staticmethod
    def _profile(index: ScopeIndex, now: datetime) -> list[Candidate]:
        """The scope's profile lines: each current single-valued facet, then how each person
        wants to be answered (communication preferences)."""
        facets: dict[tuple[str, str], tuple[int, Belief]] = {}
        answering: list[tuple[int, Belief]] = []
        for position in np.flatnonzero(index.is_belief & ~index.is_withheld).tolist():
            belief = index.documents[position].belief
            if belief is None:
                continue
            if current_status(belief, now) is not BeliefStatus.ACTIVE or belief.frame.negated:
                continue
            if belief.frame.facet is not None:
                key = (belief.user_id, belief.frame.facet.value)
                held = facets.get(key)
                if held is None or (belief.valid_from or belief.created_at) > (
                    held[1].valid_from or held[1].created_at
                ):
                    facets[key] = (position, belief)
            elif belief.frame.domain == "communication":
                answering.append((position, belief))
        chosen = sorted(facets.values(), key=lambda p: (p[1].user_id, p[1].frame.facet or ""))
        chosen += sorted(answering, key=lambda p: p[1].created_at)
        return [
            Candidate(
                index=position,
                score=1.0,
                signals={"profile": 1.0, "confidence": current_confidence(belief, now)},
            )
            for position, belief in chosen[:PROFILE_LINES]
        ]

    @staticmethod
    def _without_covered_moments(
        index: ScopeIndex, candidates: Sequence[Candidate]
    ) -> tuple[list[Candidate], list[dict[str, str]]]:
        """Raw moments only where they add what no belief in the running holds: a moment a
        ranked belief was read from is left out (and recorded as covered)."""
        holders: dict[str, str] = {}
        for c in candidates:
            doc = index.documents[c.index]
            if doc.belief is not None and stands_in_for_its_moments(doc.belief):
                for evidence_id in doc.evidence_ids:
                    holders.setdefault(evidence_id, doc.id)
        kept: list[Candidate] = []
        covered: list[dict[str, str]] = []
        for c in candidates:
            doc = index.documents[c.index]
            if doc.item_type == OBSERVATION and doc.id in holders:
                covered.append({"moment": doc.id, "held_by": holders[doc.id]})
                continue
            kept.append(c)
        return kept, covered

    def _fit(
        self, index: ScopeIndex, candidates: Sequence[Candidate], budget: int, scope: Scope
    ) -> tuple[list[tuple[Candidate, int]], int]:
        """Greedy by rank: take each item whose line still fits; skip (not stop at) big ones."""
        walk = self.budget_walk(index, candidates, budget, scope)
        chosen = [(c, step.cost) for c, step in zip(candidates, walk, strict=True) if step.taken]
        used = walk[-1].used_after if walk else 0
        return chosen, (used if chosen else 0)

    def budget_walk(
        self, index: ScopeIndex, candidates: Sequence[Candidate], budget: int, scope: Scope
    ) -> list[BudgetStep]:
        """Each offered candidate's turn at the budget: its line's tokens, the tokens used when
        its turn came, and whether it was taken (what "why not X?" reads a budget cut from)."""
        # The header and the section titles are paid for up front.
        used = self.tokens.count(self._header(scope)) + self.tokens.count(
            f"{PROFILE_TITLE}\n{BELIEFS_TITLE}\n{MOMENTS_TITLE}"
        )
        steps: list[BudgetStep] = []
        lines = [self._line(index.documents[c.index], c) for c in candidates]
        for cost in self.tokens.count_many(lines):
            taken = used + cost + 1 <= budget
            before = used
            if taken:
                used += cost + 1
            steps.append(BudgetStep(cost=cost, used_before=before, used_after=used, taken=taken))
        return steps

    def _item(self, index: ScopeIndex, candidate: Candidate, tokens: int) -> ContextItem:
        doc = index.documents[candidate.index]
        return ContextItem(
            id=doc.id,
            item_type=doc.item_type,
            user_id=doc.user_id,
            text=doc.text,
            score=candidate.score,
            tokens=tokens,
            occurred_at=doc.occurred_at,
            confidence=candidate.signals.get("confidence", doc.confidence),
            evidence_ids=list(doc.evidence_ids),
            signals=candidate.signals,
            reason=_reason(candidate),
            kind=doc.kind,
            speaker=doc.speaker,
        )

    # -- the block ---------------------------------------------------------------------------
    @staticmethod
    def _names(scope: Scope) -> str:
        if len(scope.users) == 1:
            return scope.users[0].display_name or NEUTRAL_NAME
        # Several people must be told apart: their product ids stand in for missing names.
        return " and ".join(u.display_name or u.external_id for u in scope.users)

    def _header(self, scope: Scope) -> str:
        return f"What is known about {self._names(scope)}:"

    @staticmethod
    def _line(doc: Document, candidate: Candidate) -> str:
        when = human_date(doc.occurred_at)
        if doc.item_type == BELIEF:
            confidence = candidate.signals.get("confidence", doc.confidence)
            if candidate.signals.get("profile"):
                return f"- {doc.text} (since {when})"
            return f"- {doc.text} ({doc.kind}, confidence {confidence:.0%}, since {when})"
        speaker = doc.speaker or "user"
        return f"- [{when}] {speaker}: {doc.text}"

    def _assemble(
        self,
        index: ScopeIndex,
        chosen: Sequence[tuple[Candidate, int]],
        scope: Scope,
        profile_lines: int,
    ) -> str:
        if not chosen:
            return ""
        profile = [(c, index.documents[c.index]) for c, _ in chosen if c.signals.get("profile")]
        rest = [(c, index.documents[c.index]) for c, _ in chosen if not c.signals.get("profile")]
        beliefs = [(c, d) for c, d in rest if d.item_type == BELIEF]
        moments = sorted(
            ((c, d) for c, d in rest if d.item_type == OBSERVATION), key=lambda p: p[1].occurred_at
        )
        parts = [self._header(scope)]
        for title, section in (
            (PROFILE_TITLE, profile),
            (BELIEFS_TITLE, beliefs),
            (MOMENTS_TITLE, moments),
        ):
            if section:
                parts.append(title)
                parts.extend(self._line(d, c) for c, d in section)
        return "\n".join(parts)


def _reason(candidate: Candidate) -> str:
    s = candidate.signals
    if s.get("profile"):
        return "profile: a current fact or how the person wants to be answered"
    found_by = []
    if s.get("dense_rank"):
        found_by.append(f"meaning #{int(s['dense_rank'])} (cos {s['dense']:.2f})")
    if s.get("keyword_rank"):
        found_by.append(f"keywords #{int(s['keyword_rank'])}")
    return "matched by " + " and ".join(found_by)
