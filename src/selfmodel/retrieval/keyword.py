"""Keyword search: BM25 over an inverted index that takes appends, replacements and removals.

``bm25s`` precomputes every (document, term) score into a sparse matrix, so adding one document
means re-indexing all of them. A warm scope grows by a few documents per write, so this index
keeps postings (term → {position: term frequency}) and document lengths instead, and computes
the scores of the query's terms at query time: an append costs the new document's tokens only.

The scores are those of ``bm25s`` (Lucene variant, k1 = 1.5, b = 0.75), computed the same way
— idf rounded to float32, each term's contribution stored as float32 and summed in query order —
so rankings are identical to a fresh ``bm25s`` index over the same documents.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import bm25s
import numpy as np
import Stemmer

# Okapi BM25 parameters, as bm25s (and Lucene) default them.
BM25_K1 = 1.5
BM25_B = 0.75
# Smoothing in the Lucene idf: log(1 + (N - df + 0.5) / (df + 0.5)).
IDF_SMOOTHING = 0.5

_stemmer = Stemmer.Stemmer("english")


def keyword_tokens(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop-word-free, stemmed tokens: one tokenisation for documents and queries."""
    if not texts:
        return []
    tokens = bm25s.tokenize(
        texts, stopwords="en", stemmer=_stemmer, show_progress=False, return_ids=False
    )
    return [list(t) for t in tokens]


class KeywordIndex:
    """BM25 over documents addressed by position; positions stay dense (0 … n-1).

    Postings refer to *slots* (one per document ever added, never reused) rather than positions,
    so a removal only drops the removed documents' postings and renumbers slot → position with
    one array operation, instead of rewriting every posting after it.
    """

    def __init__(self, k1: float = BM25_K1, b: float = BM25_B) -> None:
        self.k1 = k1
        self.b = b
        self._slots: list[int] = []  # position → slot
        # Each slot's tokens, kept so a replacement drops exactly its old postings.
        self._tokens: list[list[str]] = []
        self._lengths: list[int] = []  # slot → token count (0 once removed)
        self._total_length = 0
        self._postings: dict[str, dict[int, int]] = {}  # term → {slot: term frequency}
        self._slot_position: np.ndarray | None = None  # slot → position (-1: removed); lazy

    def __len__(self) -> int:
        return len(self._slots)

    def append(self, documents: Sequence[list[str]]) -> None:
        """Add documents (as tokens) at the end."""
        for tokens in documents:
            slot = len(self._tokens)
            self._add(slot, tokens)
            self._slots.append(slot)
            self._tokens.append(tokens)
            self._lengths.append(len(tokens))
            self._total_length += len(tokens)
        self._slot_position = None

    def replace(self, position: int, tokens: list[str]) -> None:
        """Give the document at ``position`` new tokens (its text changed)."""
        slot = self._slots[position]
        self._drop(slot)
        self._total_length += len(tokens) - self._lengths[slot]
        self._tokens[slot] = tokens
        self._lengths[slot] = len(tokens)
        self._add(slot, tokens)

    def remove(self, positions: Sequence[int]) -> None:
        """Remove documents; the ones after them move down to keep positions dense."""
        gone = set(positions)
        if not gone:
            return
        for position in gone:
            slot = self._slots[position]
            self._drop(slot)
            self._total_length -= self._lengths[slot]
            self._tokens[slot] = []
            self._lengths[slot] = 0
        self._slots = [s for i, s in enumerate(self._slots) if i not in gone]
        self._slot_position = None

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the query (repeated query terms count again)."""
        n = len(self._slots)
        scores = np.zeros(n, dtype=np.float32)
        if not n:
            return scores
        average_length = np.float64(self._total_length) / n
        lengths: np.ndarray | None = None
        for term in query_tokens:
            posting = self._postings.get(term)
            if not posting:
                continue
            if lengths is None:
                lengths = np.asarray(self._lengths, dtype=np.float64)
            df = len(posting)
            idf = np.float32(math.log(1 + (n - df + IDF_SMOOTHING) / (df + IDF_SMOOTHING)))
            slots = np.fromiter(posting.keys(), dtype=np.int64, count=df)
            tf = np.fromiter(posting.values(), dtype=np.float32, count=df)
            norm = self.k1 * ((1 - self.b) + self.b * lengths[slots] / average_length)
            contribution = (idf * (tf / (norm + tf))).astype(np.float32)
            scores[self._positions()[slots]] += contribution
        return scores

    def _positions(self) -> np.ndarray:
        if self._slot_position is None:
            mapping = np.full(len(self._tokens), -1, dtype=np.int64)
            mapping[np.asarray(self._slots, dtype=np.int64)] = np.arange(len(self._slots))
            self._slot_position = mapping
        return self._slot_position

    def _add(self, slot: int, tokens: list[str]) -> None:
        for term, tf in Counter(tokens).items():
            self._postings.setdefault(term, {})[slot] = tf

    def _drop(self, slot: int) -> None:
        for term in set(self._tokens[slot]):
            posting = self._postings[term]
            del posting[slot]
            if not posting:
                del self._postings[term]
