"""Per-scope search indexes (dense vectors + BM25), kept warm in the process.

A ``context`` call should cost one query embedding plus scoring. So the documents of a scope (a set
of users) are loaded once, with their stored vectors, and kept; after a write only what changed is
applied to them (see ``retrieval/freshness.py``), never a rebuild from the whole history.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from selfmodel.domain import Belief, Observation, Role
from selfmodel.extraction.lexicon import lexicon
from selfmodel.extraction.local import split_sentences
from selfmodel.retrieval.keyword import KeywordIndex, keyword_tokens
from selfmodel.retrieval.temporal import carries_time
from selfmodel.revision.confidence import decays_at

BELIEF = "belief"
OBSERVATION = "observation"
# Observations closer in time than this belong to one session (one sitting of a conversation).
SESSION_GAP = timedelta(hours=2)
NO_SESSION = -1
# Scopes kept warm per process (see ``IndexCache``).
MAX_WARM_SCOPES = 64

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


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
    # Said by the user (beliefs are always about the user); assistant turns are only context.
    from_user: bool = True
    # Beliefs: the record itself, so a read computes confidence as of its own moment.
    belief: Belief | None = None
    # Observations that only ask or chat ("How are you?", "Thanks!"): never a moment of a block.
    chatter: bool = False


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
        from_user=o.role == Role.USER,
        chatter=is_chatter(o.content),
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
        belief=b,
    )


def stands_in_for_its_moments(belief: Belief) -> bool:
    """Whether a belief says what the moments it was read from said, so the block can hold it
    instead of them. A trait or a stance sums many moments up and stands in for none: each of
    those moments said more than the pattern they share."""
    return belief.frame.trait is None and belief.frame.stance is None


class ScopeIndex:
    """Dense and keyword indexes over one scope's documents, updatable in place.

    Documents are addressed by position (0 … n-1). ``append``, ``replace`` and ``remove`` change
    the index without rebuilding it; callers that read and write it from several threads hold
    ``lock`` (the retriever does, for a refresh and for the scoring of one call).
    """

    def __init__(self, documents: list[Document], vectors: np.ndarray) -> None:
        if len(documents) != len(vectors):
            raise ValueError("every document needs exactly one vector")
        self.lock = threading.RLock()
        # What the store looked like when this index was last brought up to date (the loader's).
        self.sync: Any = None
        # Moves with every change of the documents: what was computed from one version (a
        # query's keyword match, see ``ranking.KeywordMatch``) is not used on another.
        self.version = 0
        self.documents: list[Document] = []
        self._positions: dict[str, int] = {}
        self._buffer = np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), np.float32)
        self._keyword = KeywordIndex()
        self._carries_time: list[bool] = []
        self._micros: list[int] = []
        self.user_ids = np.zeros(0, dtype=object)
        self.is_belief = np.zeros(0, dtype=bool)
        # Observations that stay out of every block: the evidence of beliefs the user rejected.
        self.withheld: set[str] = set()
        self.is_withheld = np.zeros(0, dtype=bool)
        self.withheld_positions: set[int] = set()
        # A belief stands in for the moments it was read from (see ``rank``): pairs of positions
        # (belief, observation), and when each belief fades out of the current model.
        self.stand_in_beliefs = np.zeros(0, dtype=np.int64)
        self.stand_in_moments = np.zeros(0, dtype=np.int64)
        self.decays_micros = np.zeros(0, dtype=np.int64)
        self.carries_time = np.zeros(0, dtype=bool)
        self.sessions = np.zeros(0, dtype=np.int64)
        self.session_count = 0
        # Each position's place in the canonical order (see ``_canonical_order``).
        self.order = np.zeros(0, dtype=np.int64)
        self.append(documents, vectors)

    def __len__(self) -> int:
        return len(self.documents)

    def __contains__(self, document_id: str) -> bool:
        return document_id in self._positions

    @property
    def vectors(self) -> np.ndarray:
        return self._buffer[: len(self.documents)]

    def get(self, document_id: str) -> Document | None:
        position = self._positions.get(document_id)
        return None if position is None else self.documents[position]

    # -- changes -----------------------------------------------------------------------------
    def append(self, documents: Sequence[Document], vectors: np.ndarray) -> None:
        """Add documents (with one vector each) at the end."""
        if len(documents) != len(vectors):
            raise ValueError("every document needs exactly one vector")
        if not documents:
            return
        n = len(self.documents)
        needed = n + len(documents)
        if needed > len(self._buffer) or self._buffer.shape[1] != vectors.shape[1]:
            # Room to grow (doubling): appends of a few items do not copy every vector.
            grown = np.zeros((max(needed, 2 * len(self._buffer)), vectors.shape[1]), np.float32)
            grown[:n] = self._buffer[:n]
            self._buffer = grown
        self._buffer[n:needed] = vectors
        for offset, doc in enumerate(documents):
            self._positions[doc.id] = n + offset
        self.documents.extend(documents)
        self._keyword.append(keyword_tokens([d.text for d in documents]))
        self._carries_time.extend(carries_time(d.text) for d in documents)
        self._micros.extend(_micros(d.occurred_at) for d in documents)
        self._derive()

    def replace(self, document: Document, vector: np.ndarray | None = None) -> None:
        """Swap in a new version of a document already indexed (same id); new vector if given."""
        position = self._positions[document.id]
        old = self.documents[position]
        self.documents[position] = document
        if vector is not None:
            self._buffer[position] = vector
        if document.text != old.text:
            self._keyword.replace(position, keyword_tokens([document.text])[0])
            self._carries_time[position] = carries_time(document.text)
        self._micros[position] = _micros(document.occurred_at)
        self._derive()

    def remove(self, document_ids: Sequence[str]) -> None:
        """Drop documents; the ones after them move down."""
        gone = sorted(self._positions[i] for i in set(document_ids) if i in self._positions)
        if not gone:
            return
        n = len(self.documents)
        keep = np.ones(n, dtype=bool)
        keep[gone] = False
        kept_vectors = self._buffer[:n][keep]
        self._buffer = np.zeros((max(len(self._buffer), 1), self._buffer.shape[1]), np.float32)
        self._buffer[: len(kept_vectors)] = kept_vectors
        self.documents = [d for d, k in zip(self.documents, keep, strict=True) if k]
        self._carries_time = [c for c, k in zip(self._carries_time, keep, strict=True) if k]
        self._micros = [m for m, k in zip(self._micros, keep, strict=True) if k]
        self._positions = {d.id: i for i, d in enumerate(self.documents)}
        self._keyword.remove(gone)
        self._derive()

    def _derive(self) -> None:
        """Recompute the per-document arrays the ranker reads (cheap: no text is re-read)."""
        self.version += 1
        self.user_ids = np.array([d.user_id for d in self.documents], dtype=object)
        self.is_belief = np.array([d.item_type == BELIEF for d in self.documents], dtype=bool)
        # Withheld: evidence of rejected beliefs, and moments that only ask or chat.
        self.is_withheld = np.array(
            [d.id in self.withheld or d.chatter for d in self.documents], dtype=bool
        )
        self.withheld_positions = set(np.flatnonzero(self.is_withheld).tolist())
        self._derive_stand_ins()
        self.carries_time = np.array(self._carries_time, dtype=bool)
        micros = np.array(self._micros, dtype=np.int64)
        self.sessions = _sessions(self.documents, micros)
        self.session_count = int(self.sessions.max()) + 1 if len(self.documents) else 0
        self.order = _canonical_order(self.documents, micros)

    def _derive_stand_ins(self) -> None:
        never = np.iinfo(np.int64).max
        beliefs: list[int] = []
        moments: list[int] = []
        decays = np.full(len(self.documents), never, dtype=np.int64)
        for position, doc in enumerate(self.documents):
            if doc.belief is None:
                continue
            fades = decays_at(doc.belief)
            if fades is not None:
                decays[position] = _micros(fades)
            if not stands_in_for_its_moments(doc.belief):
                continue
            for evidence_id in doc.evidence_ids:
                moment = self._positions.get(evidence_id)
                if moment is not None and self.documents[moment].item_type == OBSERVATION:
                    beliefs.append(position)
                    moments.append(moment)
        self.stand_in_beliefs = np.array(beliefs, dtype=np.int64)
        self.stand_in_moments = np.array(moments, dtype=np.int64)
        self.decays_micros = decays

    def current_beliefs(self, now: datetime) -> np.ndarray:
        """Positions' mask of beliefs still current at ``now`` (not faded)."""
        return self.is_belief & (self.decays_micros > _micros(now))

    def withhold(self, observation_ids: Sequence[str]) -> None:
        """Keep these observations out of every block from now on (still indexed)."""
        fresh = set(observation_ids) - self.withheld
        if fresh:
            self.withheld |= fresh
            self._derive()

    # -- scoring -----------------------------------------------------------------------------
    def dense_scores(self, query_vector: np.ndarray) -> np.ndarray:
        """Cosine of each document with the query (vectors are L2-normalised).

        Each row's products are summed on their own, in one fixed order (``einsum``'s own
        loop, not BLAS): a BLAS matrix-vector product blocks rows by their count and position,
        so one document's score could differ in the last bit between an index grown by appends
        and one built from the store's history — and a replay must reproduce a call exactly
        (docs/debugging.md). As fast as BLAS here (about 0.8 ms for 10 000 × 384).
        """
        if not self.documents:
            return np.zeros(0, dtype=np.float32)
        query = np.asarray(query_vector, dtype=np.float32)
        scores: np.ndarray = np.einsum("ij,j->i", self.vectors, query, optimize=False)
        return scores

    def keyword_scores(self, query: str) -> np.ndarray:
        tokens = keyword_tokens([query])[0]
        if not tokens:
            return np.zeros(len(self.documents), dtype=np.float32)
        return self._keyword.scores(tokens)


def is_chatter(text: str) -> bool:
    """True when every sentence of ``text`` asks a question or only exchanges pleasantries."""
    sentences = split_sentences(text)
    if not sentences:
        return True
    small_talk = lexicon().small_talk
    for sentence in sentences:
        # Names do not count: "Thank you, Caroline!" is as much a pleasantry as "Thank you!".
        found = _WORD.findall(sentence.text)
        words = [
            w.lower()
            for n, w in enumerate(found)
            if n == 0 or not w[:1].isupper() or w == "I" or w.startswith("I'")
        ]
        if sentence.text.rstrip().endswith("?"):
            continue
        if all(w in small_talk or w in _CHATTER_WORDS for w in words):
            continue
        return False
    return True


_WORD = re.compile(r"[A-Za-z']+")
# Words that, with the lexicon's small talk, make a sentence only a pleasantry ("Thank you so
# much!", "Good to see you!").
_CHATTER_WORDS = frozenset(
    ["you", "so", "much", "a", "lot", "to", "see", "good", "it", "that", "that's", "thank", "too",
     "all", "the", "best", "bye", "night", "morning", "talk", "soon", "later", "again", "very"]
)  # fmt: skip


def _micros(at: datetime) -> int:
    """Microseconds since the epoch: exact, so session gaps compare as they do on datetimes."""
    return (at - _EPOCH) // _MICROSECOND


def _canonical_order(documents: list[Document], micros: np.ndarray) -> np.ndarray:
    """Each position's rank in the order a fresh build loads documents: observations oldest
    first (then by id), then beliefs newest first (by id, descending).

    Ranking breaks score ties by this order, so ties fall the same way however the index grew.
    """
    n = len(documents)
    if not n:
        return np.zeros(0, dtype=np.int64)
    is_belief = np.array([d.item_type != OBSERVATION for d in documents], dtype=bool)
    ids = np.array([d.id for d in documents])
    id_rank = np.empty(n, dtype=np.int64)
    id_rank[np.argsort(ids, kind="stable")] = np.arange(n)
    by_id = np.where(is_belief, -id_rank, id_rank)
    by_time = np.where(is_belief, 0, micros)
    order = np.empty(n, dtype=np.int64)
    order[np.lexsort((by_id, by_time, is_belief))] = np.arange(n)
    return order


def _sessions(documents: list[Document], micros: np.ndarray) -> np.ndarray:
    """Session number of each observation (``NO_SESSION`` for beliefs), split at time gaps."""
    sessions = np.full(len(documents), NO_SESSION, dtype=np.int64)
    observed = np.array([d.item_type == OBSERVATION for d in documents], dtype=bool)
    where = np.flatnonzero(observed)
    if not len(where):
        return sessions
    order = where[np.argsort(micros[where], kind="stable")]
    gaps = np.diff(micros[order]) > SESSION_GAP // _MICROSECOND
    sessions[order] = np.concatenate(([0], np.cumsum(gaps)))
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

    def clear(self) -> None:
        """Drop every warm scope (the next call of each builds it from the store)."""
        with self._lock:
            self._entries.clear()
