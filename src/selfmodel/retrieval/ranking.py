"""Ranking: fuse dense and keyword signals, weigh by confidence and recency, diversify.

Reciprocal-rank fusion (Cormack et al., 2009) combines rankings without calibrating their scores
against each other: score = Σ 1 / (RRF_K + rank). Confidence and recency then act as priors
(multiplicative, bounded), and maximal marginal relevance (Carbonell & Goldstein, 1998) keeps the
budget from being spent on near-duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from selfmodel.retrieval.index import BELIEF, ScopeIndex

RRF_K = 60


@dataclass(frozen=True)
class RankingConfig:
    """Every weight the ranker uses, named; recorded in each trace."""

    rrf_k: int = RRF_K
    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    # How much a belief's confidence moves its score: factor = 1 - w + w * confidence.
    confidence_weight: float = 0.3
    # Beliefs summarise evidence; a small boost lets a good belief outrank its own raw turn.
    belief_boost: float = 1.1
    # Recency: factor = 1 + w * 2^(-age / half_life). Small: old facts stay retrievable.
    recency_weight: float = 0.05
    recency_half_life_days: float = 90.0
    # MMR trade-off between relevance (1.0) and novelty.
    mmr_lambda: float = 0.8
    # How many fused candidates are considered for MMR and recorded in the trace.
    candidate_pool: int = 60

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


@dataclass
class Candidate:
    """One document with every signal that went into its score."""

    index: int
    score: float
    signals: dict[str, float] = field(default_factory=dict)


def _ranks(scores: np.ndarray, mask: np.ndarray | None = None) -> dict[int, int]:
    order = np.argsort(-scores, kind="stable")
    if mask is not None:
        order = order[mask[order]]
    return {int(i): r + 1 for r, i in enumerate(order)}


def rank(
    index: ScopeIndex,
    query: str,
    query_vector: np.ndarray,
    config: RankingConfig,
    now: datetime,
) -> list[Candidate]:
    """All documents worth considering, best first, each with its signal breakdown."""
    if not len(index):
        return []
    dense = index.dense_scores(query_vector)
    keyword = index.keyword_scores(query)
    dense_rank = _ranks(dense)
    keyword_rank = _ranks(keyword, keyword > 0)
    fused = np.zeros(len(index), dtype=np.float64)
    for i, r in dense_rank.items():
        fused[i] += config.dense_weight / (config.rrf_k + r)
    for i, r in keyword_rank.items():
        fused[i] += config.keyword_weight / (config.rrf_k + r)
    pool = np.argsort(-fused, kind="stable")[: config.candidate_pool * 2]
    candidates = []
    for i in pool:
        doc = index.documents[int(i)]
        confidence_factor = 1 - config.confidence_weight + config.confidence_weight * doc.confidence
        age_days = max((now - doc.occurred_at).total_seconds() / 86_400.0, 0.0)
        recency_factor = 1 + config.recency_weight * 2 ** (
            -age_days / config.recency_half_life_days
        )
        type_factor = config.belief_boost if doc.item_type == BELIEF else 1.0
        score = float(fused[i]) * confidence_factor * recency_factor * type_factor
        candidates.append(
            Candidate(
                index=int(i),
                score=score,
                signals={
                    "dense": float(dense[i]),
                    "dense_rank": float(dense_rank[int(i)]),
                    "keyword": float(keyword[i]),
                    "keyword_rank": float(keyword_rank.get(int(i), 0)),
                    "rrf": float(fused[i]),
                    "confidence_factor": confidence_factor,
                    "recency_factor": recency_factor,
                },
            )
        )
    candidates.sort(key=lambda c: -c.score)
    return candidates[: config.candidate_pool]


def diversify(
    index: ScopeIndex, candidates: list[Candidate], config: RankingConfig, limit: int
) -> list[Candidate]:
    """Maximal marginal relevance over the candidates' vectors; returns up to ``limit``."""
    if not candidates:
        return []
    top = candidates[0].score or 1.0
    relevance = np.array([c.score / top for c in candidates])
    vectors = index.vectors[[c.index for c in candidates]]
    chosen: list[int] = []
    remaining = list(range(len(candidates)))
    while remaining and len(chosen) < limit:
        if chosen:
            redundancy = (vectors[remaining] @ vectors[chosen].T).max(axis=1)
        else:
            redundancy = np.zeros(len(remaining))
        mmr = config.mmr_lambda * relevance[remaining] - (1 - config.mmr_lambda) * redundancy
        best = remaining[int(np.argmax(mmr))]
        chosen.append(best)
        remaining.remove(best)
        candidates[best].signals["mmr"] = float(mmr.max())
    return [candidates[i] for i in chosen]
