"""Per-scope search indexes (dense vectors + BM25), kept warm in the process.

A ``context`` call should cost one query embedding plus scoring. So the documents of a scope (a set
of users) are loaded once, with their stored vectors, and kept until a write to one of those users
invalidates them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

import bm25s
import numpy as np
import Stemmer

from selfmodel.domain import Belief, Observation, Role
from selfmodel.retrieval.temporal import carries_time

BELIEF = "belief"
OBSERVATION = "observation"
# Observations closer in time than this belong to one session (one sitting of a conversation).
SESSION_GAP = timedelta(hours=2)
NO_SESSION = -1
# Scopes kept warm per process (see ``IndexCache``).
MAX_WARM_SCOPES = 64

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
        self.user_ids = np.array([d.user_id for d in documents], dtype=object)
        self.carries_time = np.array([carries_time(d.text) for d in documents], dtype=bool)
        self.sessions = _sessions(documents)
        self.session_count = int(self.sessions.max()) + 1 if len(documents) else 0
        self._bm25: bm25s.BM25 | None = None
        tokens = keyword_tokens([d.text for d in documents])
        # bm25s cannot index an empty vocabulary (every text only stop words, e.g. "ok", "?").
        if any(tokens):
            self._bm25 = bm25s.BM25()
            self._bm25.index(tokens, show_progress=False)

    def __len__(self) -> int:
        return len(self.documents)

    def dense_scores(self, query_vector: np.ndarray) -> np.ndarray:
        if not self.documents:
            return np.zeros(0, dtype=np.float32)
        return self.vectors @ query_vector

    def keyword_scores(self, query: str) -> np.ndarray:
        if self._bm25 is None:
            return np.zeros(len(self.documents), dtype=np.float32)
        tokens = keyword_tokens([query])[0]
        if not tokens:
            return np.zeros(len(self.documents), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)


def _sessions(documents: list[Document]) -> np.ndarray:
    """Session number of each observation (``NO_SESSION`` for beliefs), split at time gaps."""
    sessions = np.full(len(documents), NO_SESSION, dtype=np.int64)
    order = sorted(
        (i for i, d in enumerate(documents) if d.item_type == OBSERVATION),
        key=lambda i: documents[i].occurred_at,
    )
    current = NO_SESSION
    previous: datetime | None = None
    for i in order:
        at = documents[i].occurred_at
        if previous is None or at - previous > SESSION_GAP:
            current += 1
        sessions[i] = current
        previous = at
    return sessions


class IndexCache:
    """Warm ``ScopeIndex`` objects keyed by (workspace, users, context), least recently used out.

    Bounded because a scope holds its vectors in memory (10 000 items × 384 floats ≈ 15 MB): a
    process serving many users keeps the active ones warm and rebuilds the rest on demand.
    """

    def __init__(self, max_scopes: int = MAX_WARM_SCOPES) -> None:
        self._lock = threading.Lock()
        self.max_scopes = max_scopes
        self._entries: OrderedDict[tuple[str, frozenset[str], str | None], ScopeIndex] = (
            OrderedDict()
        )

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple[str, frozenset[str], str | None]) -> ScopeIndex | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple[str, frozenset[str], str | None], index: ScopeIndex) -> None:
        with self._lock:
            self._entries[key] = index
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_scopes:
                self._entries.popitem(last=False)

    def invalidate(self, workspace_id: str, user_id: str) -> None:
        with self._lock:
            for key in [k for k in self._entries if k[0] == workspace_id and user_id in k[1]]:
                del self._entries[key]
