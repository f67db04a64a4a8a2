"""Recorded evaluation runs: which suite ran under which configuration, and each item's scores.

They are workspace records, not a user's data: an item is named by its id in the suite and
scored with numbers only, so forgetting a person never has to look here (no text, no user id).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class EvalItemScore:
    """How one suite item fared: evidence recall at ``k``, forbidden phrases shown, cost."""

    item_id: str
    recall: float  # evidence found in the top-k block / evidence the item names, in [0, 1]
    evidence_found: int
    evidence_total: int
    violations: int  # must-not-contain phrases the block held
    tokens: int
    latency_ms: float
    category: str | None = None


@dataclass(frozen=True)
class EvalRun:
    """One run of a suite: what ran (suite, data, configuration, code) and what came out."""

    id: str
    workspace_id: str
    suite: str
    suite_kind: str  # "golden" or "locomo"
    dataset_sha256: str
    config_sha256: str
    k: int
    started_at: datetime
    finished_at: datetime
    item_count: int
    mean_recall: float | None  # None only for a run without items (never recorded by the CLI)
    config: dict[str, Any] = field(default_factory=dict)
    code_version: dict[str, str | None] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)  # violations, tokens, latency


__all__ = ["EvalItemScore", "EvalRun"]
