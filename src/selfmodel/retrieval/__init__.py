"""Retrieval: hybrid search over beliefs and observations, ranking, budget fitting, traces."""

from selfmodel.retrieval.ranking import RankingConfig
from selfmodel.retrieval.retriever import Retriever, Scope
from selfmodel.retrieval.tokens import TokenCounter

__all__ = ["RankingConfig", "Retriever", "Scope", "TokenCounter"]
