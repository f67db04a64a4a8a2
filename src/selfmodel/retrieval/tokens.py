"""Token counting that works offline: the bundled MiniLM's own WordPiece tokenizer.

It is a real tokenizer (not characters / 4); for English chat text its counts are within about
10 % of the BPE tokenizers chat models use, which is what a budget needs.
"""

from __future__ import annotations

import threading
from pathlib import Path

from tokenizers import Tokenizer

from selfmodel.embedding.sentence_transformers import bundled_minilm_path

_lock = threading.Lock()
_tokenizers: dict[str, Tokenizer] = {}
# Counts of lines already seen, per tokenizer: a warm scope offers mostly the same candidates
# call after call, and tokenizing sixty lines was a fifth of a warm call. Emptied when full.
MAX_CACHED_COUNTS = 100_000
_counts: dict[str, dict[str, int]] = {}


class TokenCounter:
    """Counts tokens of text with a ``tokenizer.json`` (default: the bundled MiniLM's)."""

    def __init__(self, tokenizer_file: str | Path | None = None) -> None:
        path = str(tokenizer_file or bundled_minilm_path() / "tokenizer.json")
        with _lock:
            if path not in _tokenizers:
                tokenizer = Tokenizer.from_file(path)
                tokenizer.no_truncation()
                tokenizer.no_padding()
                _tokenizers[path] = tokenizer
                _counts[path] = {}
        self._tokenizer = _tokenizers[path]
        self._counts = _counts[path]

    def count(self, text: str) -> int:
        if not text:
            return 0
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def count_many(self, texts: list[str]) -> list[int]:
        counts = self._counts
        missing = list(dict.fromkeys(t for t in texts if t not in counts))
        if missing:
            if len(counts) + len(missing) > MAX_CACHED_COUNTS:
                counts.clear()
            encodings = self._tokenizer.encode_batch(missing, add_special_tokens=False)
            counts.update(zip(missing, (len(e.ids) for e in encodings), strict=True))
        found = [counts.get(t) for t in texts]
        if None in found:  # another thread emptied the cache meanwhile: count these directly
            return [
                n if n is not None else self.count(t) for n, t in zip(found, texts, strict=True)
            ]
        return [n for n in found if n is not None]
