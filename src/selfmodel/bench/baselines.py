"""Baselines over raw turns that every retrieval benchmark runs beside the system.

Each ranks a conversation's turns (as units of text) for a query: BM25 alone, dense (MiniLM)
alone, reciprocal-rank fusion of the two, and that fusion with the system's own handling of
names in the query. They are what a product gets from its transcript with off-the-shelf search,
so the system's figures mean something only next to them, measured in the same run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import bm25s
import numpy as np

from selfmodel.retrieval.keyword import keyword_tokens
from selfmodel.retrieval.ranking import RankingConfig, named_users, without_names

# Reciprocal-rank fusion constant (Cormack et al., 2009): the usual 60, as the system uses.
BASELINE_RRF_K = 60


class RawTurnBaselines:
    """BM25, dense and RRF rankings (plain and name-aware) over one conversation's raw turns."""

    def __init__(self, units: list[str], vectors: np.ndarray, speakers: Sequence[str]) -> None:
        self.vectors = vectors
        self.bm25 = bm25s.BM25()
        self.bm25.index(keyword_tokens(units), show_progress=False)
        self.size = len(units)
        self.speakers = np.asarray(speakers)
        # The system maps user ids to names; here each speaker's name is its own id.
        self.names = {name: name for name in dict.fromkeys(speakers)}

    def rankings(
        self, question: str, embed_one: Callable[[str], np.ndarray]
    ) -> dict[str, list[int]]:
        """Each baseline's order of the turns (best first)."""
        query_vector = embed_one(question)
        keyword_order = self._keyword_order(question)
        dense_order = self._dense_order(query_vector)
        matched = without_names(question, list(self.names))
        matched_vector = query_vector if matched == question else embed_one(matched)
        named = named_users(question, self.names)
        # As in the system: only a question naming some (not all) speakers says whose turns
        # matter, and then theirs get the same factor the ranker gives (one source of truth).
        weights = np.ones(self.size)
        if named and len(named) < len(self.names):
            boost = 1.0 + RankingConfig().named_user_weight
            weights = np.where(np.isin(self.speakers, list(named)), boost, 1.0)
        return {
            "bm25": keyword_order,
            "dense": dense_order,
            "hybrid": self._fused(dense_order, keyword_order, np.ones(self.size)),
            # The system's weighting of words against meaning too: its lead is not that trick.
            "hybrid_names": self._fused(
                self._dense_order(matched_vector),
                self._keyword_order(matched),
                weights,
                keyword_weight=RankingConfig().keyword_weight / RankingConfig().dense_weight,
            ),
        }

    def _keyword_order(self, query: str) -> list[int]:
        tokens = keyword_tokens([query])[0]
        keyword = (
            np.asarray(self.bm25.get_scores(tokens), dtype=np.float64)
            if tokens
            else np.zeros(self.size)
        )
        return [int(i) for i in np.argsort(-keyword, kind="stable") if keyword[i] > 0]

    def _dense_order(self, query_vector: np.ndarray) -> list[int]:
        return [int(i) for i in np.argsort(-(self.vectors @ query_vector), kind="stable")]

    def _fused(
        self,
        dense: list[int],
        keyword: list[int],
        weights: np.ndarray,
        *,
        keyword_weight: float = 1.0,
    ) -> list[int]:
        fused = np.zeros(self.size)
        for rank, i in enumerate(dense, start=1):
            fused[i] += 1.0 / (BASELINE_RRF_K + rank)
        for rank, i in enumerate(keyword, start=1):
            fused[i] += keyword_weight / (BASELINE_RRF_K + rank)
        return [int(i) for i in np.argsort(-(fused * weights), kind="stable")]


__all__ = ["BASELINE_RRF_K", "RawTurnBaselines"]
