"""Embeddings from any OpenAI-compatible ``/embeddings`` endpoint (hosted, vLLM, Ollama…)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import httpx
import numpy as np

from selfmodel.embedding.base import Embedder, normalise
from selfmodel.errors import ExternalServiceError

RETRYABLE_STATUS = {429, 500, 502, 503, 504}


class OpenAIEmbedder(Embedder):
    """Calls ``POST {base_url}/embeddings`` in batches, with bounded retries and backoff."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        batch_size: int = 64,
        timeout_s: float = 30.0,
        max_retries: int = 3,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = f"openai:{model}"
        self.batch_size = batch_size
        self.max_retries = max_retries
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout_s, headers=headers)
        self._dim: int | None = None

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self.embed(["dimension probe"]).shape[1])
        return self._dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        parts = [
            self._embed_batch(list(texts[i : i + self.batch_size]))
            for i in range(0, len(texts), self.batch_size)
        ]
        matrix = normalise(np.concatenate(parts))
        self._dim = int(matrix.shape[1])
        return matrix

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        last_error = "no attempt made"
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(min(0.25 * 2 ** (attempt - 1), 4.0))
            try:
                response = self._client.post(
                    f"{self.base_url}/embeddings", json={"model": self.model, "input": texts}
                )
            except httpx.HTTPError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code in RETRYABLE_STATUS:
                last_error = f"HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                raise ExternalServiceError(
                    f"embedding endpoint answered HTTP {response.status_code}: "
                    f"{response.text[:200]}"
                )
            try:
                data = sorted(response.json()["data"], key=lambda item: item["index"])
                matrix = np.array([item["embedding"] for item in data], dtype=np.float32)
            except (KeyError, TypeError, ValueError) as exc:
                raise ExternalServiceError(
                    f"embedding endpoint sent a malformed body: {exc}"
                ) from exc
            if matrix.shape[0] != len(texts):
                raise ExternalServiceError(
                    f"embedding endpoint returned {matrix.shape[0]} vectors for {len(texts)} texts"
                )
            return matrix
        raise ExternalServiceError(
            f"embedding endpoint failed after {self.max_retries + 1} attempts: {last_error}"
        )
