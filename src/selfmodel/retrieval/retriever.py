"""``context()``: retrieve, rank, fit into a token budget, assemble a block, and trace it all."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
    BELIEF_VECTORS,
    OBSERVATION_VECTORS,
    IndexSource,
    ScopeLoader,
)
from selfmodel.retrieval.index import (
    BELIEF,
    OBSERVATION,
    Document,
    IndexCache,
    ScopeIndex,
    stands_in_for_its_moments,
)
from selfmodel.retrieval.intent import is_request
from selfmodel.retrieval.ranking import (
    Candidate,
    RankingConfig,
    diversify,
    rank,
    without_names,
)
from selfmodel.retrieval.temporal import TemporalQuery, analyse
from selfmodel.retrieval.tokens import TokenCounter
from selfmodel.revision.confidence import current_confidence, current_status
from selfmodel.storage import TraceStore

__all__ = ["BELIEF_VECTORS", "OBSERVATION_VECTORS", "Retriever", "Scope"]
# Items recorded in a trace beyond those chosen, so a replay can see what nearly made it.
TRACED_CANDIDATES = 40
PROFILE_TITLE = "Profile:"
BELIEFS_TITLE = "Beliefs (most relevant first):"
# At most this many profile lines lead a block (current facets, then communication preferences).
PROFILE_LINES = 6
# How a block names someone the product has given no display name (never the raw user id).
NEUTRAL_NAME = "the user"
MOMENTS_TITLE = "Relevant moments (oldest first):"


class RetrievalStore(IndexSource, TraceStore, Protocol):
    """What retrieval uses of a store: it reads the model and its vectors, and writes traces."""


@dataclass(frozen=True)
class Scope:
    """Whose self-model a context call reads: one or more users, optionally one area."""

    workspace_id: str
    users: tuple[User, ...]
    area_id: str | None = None

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

    def invalidate(self, workspace_id: str, user_id: str) -> None:
        """A write in this process touched the user: their warm scopes refresh on next use."""
        self.cache.invalidate(workspace_id, user_id)

    # -- index building ----------------------------------------------------------------------
    def _index(self, scope: Scope) -> ScopeIndex:
        """The scope's warm index, brought up to date with the store (built on first use)."""
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
                index = loader.refresh(cached)
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
    ) -> ContextResult:
        """``personalized=False`` answers from an empty self-model (the control of an
        experiment: no belief, no observation of the scope); ``experiments`` are recorded in
        the trace's config (the experiments and variants the call ran under)."""
        started = time.perf_counter()
        config = config or self.config
        now = now or utcnow()
        names = {u.id: u.display_name or u.external_id for u in scope.users}
        matched = without_names(query, list(names.values())) if config.strip_names else query
        # The query embeds (on the embedding thread, for the local model) while this thread
        # brings the index up to date and reads the query.
        embedding = self.embedder.start_embed_one(matched)
        index = (
            self._index(scope)
            if personalized
            else ScopeIndex([], np.zeros((0, self.embedder.dim), dtype=np.float32))
        )
        temporal = analyse(query, now)
        request = is_request(self.language.parse([query])[0])
        query_vector = embedding()
        with index.lock:  # a refresh by another thread must not move documents under us
            return self._answer(
                _Call(
                    scope,
                    query,
                    matched,
                    names,
                    query_vector,
                    temporal,
                    started,
                    now,
                    moments,
                    request,
                    personalized,
                    tuple(dict(e) for e in experiments),
                ),
                index,
                config,
                budget_tokens,
                limit,
            )

    def _answer(
        self,
        call: _Call,
        index: ScopeIndex,
        config: RankingConfig,
        budget_tokens: int,
        limit: int | None,
    ) -> ContextResult:
        """Score, diversify, fit and trace one call on an index held still."""
        scope, query, matched, now, temporal = (
            call.scope,
            call.query,
            call.matched,
            call.now,
            call.temporal,
        )
        names, query_vector, started = call.names, call.query_vector, call.started
        candidates = rank(
            index,
            matched,
            query_vector,
            config,
            now,
            users=names,
            temporal=temporal,
            original_query=query,
            beliefs_only=not call.moments,
            request=call.request,
        )
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
        latency_ms = (time.perf_counter() - started) * 1000
        trace_id = new_id("trc")
        items = [self._item(index, c, tokens) for c, tokens in chosen]
        traced_config = {
            "ranking": config.as_dict(),
            "embedder": self.embedder.name,
            "budget_tokens": budget_tokens,
            "limit": limit,
            "moments": call.moments,
        }
        if call.experiments:
            traced_config["experiments"] = list(call.experiments)
            traced_config["personalized"] = call.personalized
        self.store.insert_trace(
            TraceRecord(
                id=trace_id,
                workspace_id=scope.workspace_id,
                user_ids=tuple(u.id for u in scope.users),
                query=query,
                created_at=utcnow(),
                latency_ms=latency_ms,
                config=traced_config,
                payload={
                    "area_id": scope.area_id,
                    "now": now.isoformat(),
                    "matched_query": matched,
                    "temporal": temporal.as_dict(),
                    "request": call.request,
                    "indexed_items": len(index),
                    "candidates": [
                        {
                            "id": index.documents[c.index].id,
                            "item_type": index.documents[c.index].item_type,
                            "text": index.documents[c.index].text,
                            "score": c.score,
                            "signals": c.signals,
                        }
                        for c in candidates[:TRACED_CANDIDATES]
                    ],
                    "chosen": [item.model_dump(mode="json") for item in items],
                    # Raw moments left out because a chosen belief already holds them.
                    "covered_moments": covered,
                    "withheld_moments": len(index.withheld),
                    "text": text,
                    "tokens": used,
                },
            )
        )
        return ContextResult(
            text=text,
            items=items,
            tokens=used,
            budget_tokens=budget_tokens,
            trace_id=trace_id,
            latency_ms=latency_ms,
            config=traced_config,
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
        # The header and the section titles are paid for up front.
        used = self.tokens.count(self._header(scope)) + self.tokens.count(
            f"{PROFILE_TITLE}\n{BELIEFS_TITLE}\n{MOMENTS_TITLE}"
        )
        chosen: list[tuple[Candidate, int]] = []
        lines = [self._line(index.documents[c.index], c) for c in candidates]
        for candidate, cost in zip(candidates, self.tokens.count_many(lines), strict=True):
            if used + cost + 1 > budget:
                continue
            chosen.append((candidate, cost))
            used += cost + 1
        return chosen, (used if chosen else 0)

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
