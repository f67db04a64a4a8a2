"""Per-scope search indexes (dense vectors + BM25), kept warm in the process.

A ``context`` call should cost one query embedding plus scoring. So the documents of a scope (a set
of users) are loaded once, with their stored vectors, and kept until a write to one of those users
invalidates them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

import bm25s
import numpy as np
import Stemmer

from selfmodel.domain import Belief, Observation, Role

BELIEF = "belief"
OBSERVATION = "observation"

_stemmer = Stemmer.Stemmer("english")


def keyword_tokens(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop-word-free, stemmed tokens: one tokenisation for documents and queries."""
    tokens = bm25s.tokenize(
        texts, stopwords="en", stemmer=_stemmer, show_progress=False, return_ids=False
    )
    return [list(t) for t in tokens]


@dataclass(frozen=True)
class Document:
    """One retrievable item: a belief or a raw observation."""

    id: str
    item_type: str  # BELIEF or OBSERVATION
    user_id: str
    text: str  # what is indexed and shown
    occurred_at: datetime  # observations: when said; beliefs: valid_from
    confidence: float  # observations count as 1.0: they are what was said
    evidence_ids: tuple[str, ...]  # observations this item stands for (itself, or a belief's)
    speaker: str | None = None
    kind: str | None = None


def observation_document(o: Observation) -> Document:
    return Document(
        id=o.id,
        item_type=OBSERVATION,
        user_id=o.user_id,
        text=o.content,
        occurred_at=o.occurred_at,
        confidence=1.0,
        evidence_ids=(o.id,),
        speaker=o.speaker or ("assistant" if o.role == Role.ASSISTANT else None),
        kind=o.kind.value,
    )


def belief_document(b: Belief, evidence_ids: tuple[str, ...]) -> Document:
    return Document(
        id=b.id,
        item_type=BELIEF,
        user_id=b.user_id,
        text=b.statement,
        occurred_at=b.valid_from or b.created_at,
        confidence=b.confidence,
        evidence_ids=evidence_ids,
        kind=b.kind.value,
    )


class ScopeIndex:
    """Dense and keyword indexes over one scope's documents."""

    def __init__(self, documents: list[Document], vectors: np.ndarray) -> None:
        if len(documents) != len(vectors):
            raise ValueError("every document needs exactly one vector")
        self.documents = documents
        self.vectors = vectors.astype(np.float32, copy=False)
        self._bm25: bm25s.BM25 | None = None
        if documents:
            self._bm25 = bm25s.BM25()
            self._bm25.index(keyword_tokens([d.text for d in documents]), show_progress=False)

    def __len__(self) -> int:
        return len(self.documents)

    def dense_scores(self, query_vector: np.ndarray) -> np.ndarray:
        if not self.documents:
            return np.zeros(0, dtype=np.float32)
        return self.vectors @ query_vector

    def keyword_scores(self, query: str) -> np.ndarray:
        if self._bm25 is None:
            return np.zeros(0, dtype=np.float32)
        tokens = keyword_tokens([query])[0]
        if not tokens:
            return np.zeros(len(self.documents), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)


class IndexCache:
    """Warm ``ScopeIndex`` objects keyed by (workspace, users, context)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, frozenset[str], str | None], ScopeIndex] = {}

    def get(self, key: tuple[str, frozenset[str], str | None]) -> ScopeIndex | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: tuple[str, frozenset[str], str | None], index: ScopeIndex) -> None:
        with self._lock:
            self._entries[key] = index

    def invalidate(self, workspace_id: str, user_id: str) -> None:
        with self._lock:
            for key in [k for k in self._entries if k[0] == workspace_id and user_id in k[1]]:
                del self._entries[key]
