"""What an eval run ran under: the configuration (and its hash) and the code version.

The configuration is everything that can move a score: the ranking weights, how many items are
scored (``k``), the token budget, the extractor and the embedder (a local model's precision where
it is bfloat16: "auto" depends on the processor). It is hashed as canonical JSON,
so two runs under the same configuration carry the same ``config_sha256`` whatever the machine.
Secrets and endpoints are left out: a hash must not change because a key was rotated.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import subprocess
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import selfmodel
from selfmodel.config import MAX_BUDGET_TOKENS, EmbeddingSettings, Settings
from selfmodel.embedding.sentence_transformers import asked_for
from selfmodel.errors import InvalidInputError
from selfmodel.retrieval import RankingConfig

log = logging.getLogger("selfmodel.evaluation")

# recall@10 is what `selfmodel bench locomo` leads with; the same k keeps the two comparable.
DEFAULT_K = 10
MAX_K = 500
GIT_TIMEOUT_S = 5.0
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


@dataclass(frozen=True)
class EvalConfiguration:
    """The settings an eval run scores: its own ranking, k and budget over ``settings``."""

    settings: Settings = field(default_factory=Settings)
    ranking: RankingConfig = field(default_factory=RankingConfig)
    k: int = DEFAULT_K
    budget_tokens: int | None = None  # None: the settings' default budget

    def __post_init__(self) -> None:
        if not 1 <= self.k <= MAX_K:
            raise InvalidInputError(f"k must be between 1 and {MAX_K}", field="k")
        if self.budget_tokens is not None and not 1 <= self.budget_tokens <= MAX_BUDGET_TOKENS:
            raise InvalidInputError(
                f"budget must be between 1 and {MAX_BUDGET_TOKENS} tokens", field="budget"
            )

    @property
    def budget(self) -> int:
        if self.budget_tokens is not None:
            return self.budget_tokens
        return self.settings.retrieval.default_budget_tokens

    def as_dict(self) -> dict[str, Any]:
        embedding, extraction = self.settings.embedding, self.settings.extraction
        return {
            "k": self.k,
            "budget_tokens": self.budget,
            "ranking": self.ranking.as_dict(),
            "embedder": _embedder(embedding),
            "extractor": {
                "kind": extraction.extractor,
                "spacy_model": extraction.spacy_model,
                "llm_model": extraction.llm_model if extraction.extractor == "llm" else None,
            },
        }

    @property
    def sha256(self) -> str:
        canonical = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _embedder(embedding: EmbeddingSettings) -> dict[str, Any]:
    """The embedder as it is asked to compute here: a local model asked for bfloat16 (``auto``
    on a processor with it) says so; float32 adds nothing, so runs recorded before the setting
    keep their hash. (Read without loading the model: a bfloat16 graph refused at load, which
    the tests have never seen, would compute in float32 under this entry.)"""
    described: dict[str, Any] = {"kind": embedding.embedder, "model": embedding.embedding_model}
    if embedding.embedder != "openai" and asked_for(embedding.embedding_precision) == "bfloat16":
        described["precision"] = "bfloat16"
    return described


def ranking_with(overrides: list[str] | tuple[str, ...]) -> RankingConfig:
    """The default ``RankingConfig`` with ``name=value`` overrides (e.g. ``keyword_weight=0``
    turns keyword matching off: dense-only retrieval)."""
    defaults = RankingConfig()
    known = {f.name: getattr(defaults, f.name) for f in fields(RankingConfig)}
    changes: dict[str, Any] = {}
    for override in overrides:
        name, sep, text = override.partition("=")
        name, text = name.strip(), text.strip()
        if not sep or name not in known:
            raise InvalidInputError(
                f"--ranking {override!r}: expected NAME=VALUE with NAME one of "
                + ", ".join(sorted(known)),
                field="ranking",
            )
        changes[name] = _value(name, text, known[name])
    return replace(defaults, **changes)


def _value(name: str, text: str, default: Any) -> Any:
    problem = InvalidInputError(
        f"--ranking {name}={text!r}: not a {type(default).__name__}", field="ranking"
    )
    if isinstance(default, bool):
        if text.lower() not in _TRUE | _FALSE:
            raise problem
        return text.lower() in _TRUE
    try:
        value = int(text) if isinstance(default, int) else float(text)
    except ValueError:
        raise problem from None
    if not math.isfinite(value) or value < 0:
        raise InvalidInputError(
            f"--ranking {name}={text!r}: must be a finite number >= 0", field="ranking"
        )
    return value


def code_version() -> dict[str, str | None]:
    """The package version, and the git commit of the source tree when selfmodel runs from a
    checkout (None otherwise: an installed wheel has no commit, and that is no error)."""
    return {"package": selfmodel.__version__, "commit": _git_commit()}


def _git_commit() -> str | None:
    here = Path(selfmodel.__file__).resolve().parent
    # The package file must be tracked by the repository found: a virtualenv that happens to
    # live inside some other checkout must not lend it that checkout's commit.
    tracked = _git(here, "ls-files", "--error-unmatch", "__init__.py")
    commit = _git(here, "rev-parse", "HEAD") if tracked is not None else None
    return commit if commit and len(commit) == 40 else None


def _git(where: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(where), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("no git commit for the code version: %s", exc)
        return None
    return done.stdout.strip() if done.returncode == 0 else None


__all__ = [
    "DEFAULT_K",
    "MAX_K",
    "EvalConfiguration",
    "code_version",
    "ranking_with",
]
