"""The embedding interface: texts in, L2-normalised float32 vectors out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import numpy as np


class Embedder(ABC):
    """Turns texts into unit vectors, so a dot product is a cosine similarity."""

    #: Identifies the model; stored with every vector so a model change never mixes spaces.
    name: str

    @property
    @abstractmethod
    def dim(self) -> int: ...

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for ``texts``: shape (len(texts), dim), float32, each row of norm 1."""

    def warm_up(self) -> None:
        """Load now what the first call would load. Nothing by default: an embedder that runs
        elsewhere (a service) is not called before there is something to embed."""
        return

    def embed_one(self, text: str) -> np.ndarray:
        vector: np.ndarray = self.embed([text])[0]
        return vector

    def start_embed_one(self, text: str) -> Callable[[], np.ndarray]:
        """Begin embedding ``text``; the returned function waits for its vector.

        An embedder that runs elsewhere (another thread, a service) lets the caller do other
        work meanwhile; this default embeds at once.
        """
        vector = self.embed_one(text)
        return lambda: vector


def normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: np.ndarray = matrix / norms
    return unit
