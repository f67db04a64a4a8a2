"""``context()``: retrieve, rank, fit into a token budget, assemble a block, and trace it all."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from selfmodel.domain import (
    BeliefStatus,
    ContextItem,
    ContextResult,
    EvidenceStance,
    User,
    new_id,
)
from selfmodel.domain.time import human_date, utcnow
from selfmodel.embedding import Embedder
from selfmodel.retrieval.index import (
    BELIEF,
    OBSERVATION,
    Document,
    IndexCache,
    ScopeIndex,
    belief_document,
    observation_document,
)
from selfmodel.retrieval.ranking import (
    Candidate,
    RankingConfig,
    diversify,
    rank,
    without_names,
)
from selfmodel.retrieval.temporal import analyse
from selfmodel.retrieval.tokens import TokenCounter
from selfmodel.storage import BeliefFilter, Store, TraceRecord

OBSERVATION_VECTORS = "observation"
BELIEF_VECTORS = "belief"
# Items recorded in a trace beyond those chosen, so a replay can see what nearly made it.
TRACED_CANDIDATES = 40
BELIEFS_TITLE = "Beliefs (most relevant first):"
MOMENTS_TITLE = "Relevant moments (oldest first):"


@dataclass(frozen=True)
class Scope:
    """Whose self-model a context call reads: one or more users, optionally one context."""

    workspace_id: str
    users: tuple[User, ...]
    context_id: str | None = None

    @property
    def key(self) -> tuple[str, frozenset[str], str | None]:
        return (self.workspace_id, frozenset(u.id for u in self.users), self.context_id)


class Retriever:
    """Hybrid retrieval over a scope's beliefs and observations, with warm per-scope indexes."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        tokens: TokenCounter,
        config: RankingConfig | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.tokens = tokens
        self.config = config or RankingConfig()
        self.cache = IndexCache()

    def invalidate(self, workspace_id: str, user_id: str) -> None:
        self.cache.invalidate(workspace_id, user_id)

    # -- index building ----------------------------------------------------------------------
    def _index(self, scope: Scope) -> ScopeIndex:
        cached = self.cache.get(scope.key)
        if cached is not None:
            return cached
        user_ids = [u.id for u in scope.users]
        ws = scope.workspace_id
        model = self.embedder.name
        documents: list[Document] = []
        vectors: list[np.ndarray] = []

        observations = self.store.list_observations(ws, user_ids)
        if scope.context_id is not None:
            observations = [o for o in observations if o.context_id in (None, scope.context_id)]
        obs_vectors = self.store.get_vectors(ws, user_ids, OBSERVATION_VECTORS, model)
        by_id = dict(zip(obs_vectors.ids, obs_vectors.matrix, strict=True))
        for o in observations:
            if o.id in by_id:
                documents.append(observation_document(o))
                vectors.append(by_id[o.id])

        beliefs = self.store.list_beliefs(
            ws,
            BeliefFilter(
                user_ids=tuple(user_ids),
                statuses=(BeliefStatus.ACTIVE,),
                context_id=scope.context_id,
            ),
        )
        evidence = self.store.list_evidence(ws, [b.id for b in beliefs])
        supporting: dict[str, list[str]] = {}
        for e in evidence:
            if e.stance == EvidenceStance.SUPPORTS:
                supporting.setdefault(e.belief_id, []).append(e.observation_id)
        bel_vectors = self.store.get_vectors(ws, user_ids, BELIEF_VECTORS, model)
        by_id = dict(zip(bel_vectors.ids, bel_vectors.matrix, strict=True))
        for b in beliefs:
            if b.id in by_id:
                documents.append(belief_document(b, tuple(supporting.get(b.id, ()))))
                vectors.append(by_id[b.id])

        dim = self.embedder.dim
        matrix = np.stack(vectors) if vectors else np.zeros((0, dim), dtype=np.float32)
        index = ScopeIndex(documents, matrix)
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
    ) -> ContextResult:
        started = time.perf_counter()
        config = config or self.config
        now = now or utcnow()
        index = self._index(scope)
        names = {u.id: u.display_name or u.external_id for u in scope.users}
        matched = without_names(query, list(names.values())) if config.strip_names else query
        query_vector = self.embedder.embed_one(matched)
        temporal = analyse(query, now)
        candidates = rank(
            index,
            matched,
            query_vector,
            config,
            now,
            users=names,
            temporal=temporal,
            original_query=query,
        )
        wanted = limit if limit is not None else config.candidate_pool
        diverse = diversify(index, candidates, config, wanted)
        chosen, used = self._fit(index, diverse, budget_tokens, scope)
        text = self._assemble(index, chosen, scope)
        latency_ms = (time.perf_counter() - started) * 1000
        trace_id = new_id("trc")
        items = [self._item(index, c, tokens) for c, tokens in chosen]
        traced_config = {
            "ranking": config.as_dict(),
            "embedder": self.embedder.name,
            "budget_tokens": budget_tokens,
            "limit": limit,
        }
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
                    "context_id": scope.context_id,
                    "now": now.isoformat(),
                    "matched_query": matched,
                    "temporal": temporal.as_dict(),
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

    def _fit(
        self, index: ScopeIndex, candidates: Sequence[Candidate], budget: int, scope: Scope
    ) -> tuple[list[tuple[Candidate, int]], int]:
        """Greedy by rank: take each item whose line still fits; skip (not stop at) big ones."""
        # The header and both section titles are paid for up front.
        used = self.tokens.count(self._header(scope)) + self.tokens.count(
            f"{BELIEFS_TITLE}\n{MOMENTS_TITLE}"
        )
        chosen: list[tuple[Candidate, int]] = []
        lines = [self._line(index.documents[c.index], scope) for c in candidates]
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
            confidence=doc.confidence,
            evidence_ids=list(doc.evidence_ids),
            signals=candidate.signals,
            reason=_reason(candidate),
            kind=doc.kind,
            speaker=doc.speaker,
        )

    # -- the block ---------------------------------------------------------------------------
    @staticmethod
    def _names(scope: Scope) -> str:
        return " and ".join(u.display_name or u.external_id for u in scope.users)

    def _header(self, scope: Scope) -> str:
        return f"What is known about {self._names(scope)}:"

    @staticmethod
    def _line(doc: Document, scope: Scope) -> str:
        when = human_date(doc.occurred_at)
        if doc.item_type == BELIEF:
            return f"- {doc.text} ({doc.kind}, confidence {doc.confidence:.0%}, since {when})"
        speaker = doc.speaker or "user"
        return f"- [{when}] {speaker}: {doc.text}"

    def _assemble(
        self, index: ScopeIndex, chosen: Sequence[tuple[Candidate, int]], scope: Scope
    ) -> str:
        if not chosen:
            return ""
        docs = [index.documents[c.index] for c, _ in chosen]
        beliefs = [d for d in docs if d.item_type == BELIEF]
        moments = sorted(
            (d for d in docs if d.item_type == OBSERVATION), key=lambda d: d.occurred_at
        )
        parts = [self._header(scope)]
        if beliefs:
            parts.append(BELIEFS_TITLE)
            parts.extend(self._line(d, scope) for d in beliefs)
        if moments:
            parts.append(MOMENTS_TITLE)
            parts.extend(self._line(d, scope) for d in moments)
        return "\n".join(parts)


def _reason(candidate: Candidate) -> str:
    s = candidate.signals
    found_by = []
    if s.get("dense_rank"):
        found_by.append(f"meaning #{int(s['dense_rank'])} (cos {s['dense']:.2f})")
    if s.get("keyword_rank"):
        found_by.append(f"keywords #{int(s['keyword_rank'])}")
    return "matched by " + " and ".join(found_by)
