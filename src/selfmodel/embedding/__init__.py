"""Embeddings: the ``Embedder`` interface, local sentence-transformers, OpenAI-compatible APIs."""

from selfmodel.config import EmbeddingSettings
from selfmodel.embedding.base import Embedder
from selfmodel.embedding.openai import OpenAIEmbedder
from selfmodel.embedding.sentence_transformers import SentenceTransformerEmbedder
from selfmodel.errors import ConfigurationError

__all__ = ["Embedder", "OpenAIEmbedder", "SentenceTransformerEmbedder", "embedder_from_settings"]


def embedder_from_settings(settings: EmbeddingSettings) -> Embedder:
    """The embedder the settings ask for (nothing is loaded until the first ``embed``)."""
    if settings.embedder == "sentence-transformers" and not settings.embedding_model:
        raise ConfigurationError("SELFMODEL_EMBEDDING_MODEL must name a local model directory")
    if settings.embedder != "openai":  # a local model: the bundled MiniLM or the one named
        return SentenceTransformerEmbedder(
            settings.embedding_model if settings.embedder == "sentence-transformers" else None,
            batch_size=settings.embedding_batch_size,
            precision=settings.embedding_precision,
        )
    if not (settings.embedding_base_url and settings.embedding_model):
        raise ConfigurationError(
            "the openai embedder needs SELFMODEL_EMBEDDING_BASE_URL and SELFMODEL_EMBEDDING_MODEL"
        )
    return OpenAIEmbedder(
        settings.embedding_base_url,
        settings.embedding_model,
        api_key=settings.embedding_api_key,
        batch_size=settings.embedding_batch_size,
    )
