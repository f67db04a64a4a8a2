"""How personal is "personalized"? Metrics read from traces, outcomes and self-models.

- **specificity** of a context block: the share of its tokens that only this user's model could
  have supplied — items of the user's own (their beliefs and moments) whose meaning no item
  chosen for another user in the window matches (cosine of the name-stripped texts below
  ``SAME_MEANING``). An empty block — what an empty self-model gives — has specificity 0.
- **distinctiveness** of the blocks for one query: for every pair of users asked it, 1 − the
  cosine of their blocks' mean item embeddings (two empty blocks: 0, one empty: 1), averaged.
- **coverage**: the share of users served in the window (a trace read them) whose self-model
  holds at least ``min_beliefs`` active beliefs of confidence ≥ ``min_confidence``, and the
  users below it.
- **belief use**: over traces whose answers reported which items they used (an outcome with
  ``used_item_ids``), how often an offered belief was used, and the beliefs offered again and
  again that were never used (the tokens they cost).

Specificity and distinctiveness are given per variant of the experiments the traces ran under
(``config.experiments``), so "personalization off" shows what generic looks like.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import combinations
from typing import Any

import numpy as np

from selfmodel.domain import BeliefStatus, TraceRecord, User
from selfmodel.domain.personalization import (
    DEFAULT_DAYS,
    DEFAULT_MIN_BELIEFS,
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_MIN_OFFERS,
    BeliefUse,
    Coverage,
    IdleBelief,
    PersonalizationReport,
    UncoveredUser,
    VariantPersonalization,
)
from selfmodel.domain.time import to_utc, utcnow
from selfmodel.embedding import Embedder
from selfmodel.errors import InvalidInputError
from selfmodel.retrieval.ranking import without_names
from selfmodel.revision.confidence import current_confidence, current_status
from selfmodel.storage import BeliefFilter, Store

# Two items mean the same when the cosine of their name-stripped texts reaches this (MiniLM:
# paraphrases score 0.8–0.95, texts that merely share a topic 0.4–0.7).
SAME_MEANING = 0.8
NO_EXPERIMENT = "-"  # the variant label of traces that ran under no experiment
MOST_LISTED = 20
BELIEF = "belief"


@dataclass(frozen=True)
class Block:
    trace: TraceRecord
    user: User
    variant: str
    items: list[dict[str, Any]]
    tokens: int


def personalization_report(
    store: Store,
    workspace_id: str,
    embedder: Embedder,
    *,
    now: datetime | None = None,
    days: float = DEFAULT_DAYS,
    min_beliefs: int = DEFAULT_MIN_BELIEFS,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    min_offers: int = DEFAULT_MIN_OFFERS,
) -> PersonalizationReport:
    """The four metrics over the traces created in the ``days`` before ``now``."""
    if not (math.isfinite(days) and days > 0):
        raise InvalidInputError("days must be a positive number", field="days")
    if not 0 <= min_confidence <= 1:
        raise InvalidInputError("min_confidence must be in [0, 1]", field="min_confidence")
    if min_beliefs < 1 or min_offers < 1:
        raise InvalidInputError("min_beliefs and min_offers must be 1 or more", field="min")
    end = to_utc(now) if now is not None else utcnow()
    start = end - timedelta(days=days)
    users = {u.id: u for u in store.list_users(workspace_id)}
    blocks = blocks_between(store, workspace_id, users, start, end)
    return PersonalizationReport(
        start=start,
        end=end,
        variants=_variants(blocks, embedder),
        coverage=coverage(store, workspace_id, blocks, min_beliefs, min_confidence, end),
        belief_use=_belief_use(store, workspace_id, blocks, min_offers),
    )


def blocks_between(
    store: Store, workspace_id: str, users: dict[str, User], start: datetime, end: datetime
) -> list[Block]:
    found = []
    for user in users.values():
        for trace in store.list_traces(workspace_id, user.id):
            if trace.user_ids != (user.id,) or not start <= to_utc(trace.created_at) < end:
                continue  # several users' blocks are nobody's in particular
            experiments = trace.config.get("experiments") or []
            variant = (
                ", ".join(f"{e['name']}:{e['variant']}" for e in experiments)
                if experiments
                else NO_EXPERIMENT
            )
            chosen = [c for c in trace.payload.get("chosen", []) if isinstance(c, dict)]
            tokens = int(trace.payload.get("tokens", 0) or 0)
            found.append(Block(trace, user, variant, chosen, tokens))
    return found


def _names(user: User) -> list[str]:
    return [n for n in (user.display_name, user.external_id) if n]


@dataclass(frozen=True)
class _Embedded:
    """Every chosen item of the blocks, name-stripped and embedded once."""

    vectors: np.ndarray
    owners: np.ndarray
    where: dict[tuple[str, int], int]


def _embed(blocks: Sequence[Block], embedder: Embedder) -> _Embedded:
    texts: list[str] = []
    owner: list[str] = []
    where: dict[tuple[str, int], int] = {}
    for block in blocks:
        for n, item in enumerate(block.items):
            where[(block.trace.id, n)] = len(texts)
            texts.append(without_names(str(item.get("text", "")), _names(block.user)))
            owner.append(block.user.id)
    vectors = _unit(embedder.embed(texts)) if texts else np.zeros((0, embedder.dim))
    return _Embedded(vectors, np.array(owner, dtype=object), where)


def specificities(blocks: Sequence[Block], embedder: Embedder) -> dict[str, float]:
    """Each block's specificity, by trace id."""
    embedded = _embed(blocks, embedder)
    return {
        b.trace.id: _specificity(b, embedded.vectors, embedded.owners, embedded.where)
        for b in blocks
    }


def _variants(blocks: Sequence[Block], embedder: Embedder) -> list[VariantPersonalization]:
    embedded = _embed(blocks, embedder)
    vectors, owners, where = embedded.vectors, embedded.owners, embedded.where
    by_variant: dict[str, list[Block]] = defaultdict(list)
    for block in blocks:
        by_variant[block.variant].append(block)
    found = []
    for variant, members in sorted(by_variant.items()):
        specificity = [_specificity(b, vectors, owners, where) for b in members]
        distances = _distinctiveness(members, vectors, where)
        found.append(
            VariantPersonalization(
                variant=variant,
                traces=len(members),
                specificity=float(np.mean(specificity)),
                empty_blocks=sum(1 for b in members if not b.items),
                queries_compared=len(distances),
                distinctiveness=float(np.mean(distances)) if distances else None,
            )
        )
    return found


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.where(norms == 0, 1, norms), dtype=np.float64)


def _specificity(
    block: Block, vectors: np.ndarray, owners: np.ndarray, where: dict[tuple[str, int], int]
) -> float:
    if not block.items or block.tokens <= 0:
        return 0.0
    others = vectors[owners != block.user.id]
    specific = 0
    for n, item in enumerate(block.items):
        if item.get("user_id") != block.user.id:
            continue
        vector = vectors[where[(block.trace.id, n)]]
        if len(others) == 0 or float((others @ vector).max()) < SAME_MEANING:
            specific += int(item.get("tokens", 0) or 0)
    return min(1.0, specific / block.tokens)


def _query_key(query: str) -> str:
    return re.sub(r"\s+", " ", query.strip().lower())


def _distinctiveness(
    blocks: Sequence[Block], vectors: np.ndarray, where: dict[tuple[str, int], int]
) -> list[float]:
    """Per query asked for two users or more: the mean pairwise distance of their blocks."""
    by_query: dict[str, dict[str, np.ndarray | None]] = defaultdict(dict)
    for block in blocks:
        rows = [where[(block.trace.id, n)] for n in range(len(block.items))]
        centre = vectors[rows].mean(axis=0) if rows else None
        # The user's latest block for the query stands for them.
        by_query[_query_key(block.trace.query)][block.user.id] = centre
    found = []
    for per_user in by_query.values():
        if len(per_user) < 2:
            continue
        pairs = [_distance(a, b) for a, b in combinations(per_user.values(), 2)]
        found.append(float(np.mean(pairs)))
    return found


def _distance(a: np.ndarray | None, b: np.ndarray | None) -> float:
    if a is None or b is None:
        return 0.0 if a is None and b is None else 1.0
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return 1.0 - (float(a @ b) / norm if norm else 0.0)


def coverage(
    store: Store,
    workspace_id: str,
    blocks: Sequence[Block],
    min_beliefs: int,
    min_confidence: float,
    now: datetime,
) -> Coverage:
    active = {b.user.id: b.user for b in blocks}
    below = []
    for user in active.values():
        beliefs = store.list_beliefs(
            workspace_id,
            BeliefFilter(user_ids=(user.id,), statuses=(BeliefStatus.ACTIVE,)),
        )
        confident = sum(
            1
            for b in beliefs
            if current_status(b, now) is BeliefStatus.ACTIVE
            and current_confidence(b, now) >= min_confidence
        )
        if confident < min_beliefs:
            below.append(UncoveredUser(user=user.external_id, confident_beliefs=confident))
    below.sort(key=lambda u: (u.confident_beliefs, u.user))
    covered = len(active) - len(below)
    return Coverage(
        active_users=len(active),
        covered=covered,
        share=covered / len(active) if active else None,
        below=below[:MOST_LISTED],
    )


def _belief_use(
    store: Store, workspace_id: str, blocks: Sequence[Block], min_offers: int
) -> BeliefUse:
    by_trace = {b.trace.id: b for b in blocks}
    used_in: dict[str, set[str]] = defaultdict(set)
    for user_id in {b.user.id for b in blocks}:
        for outcome in store.list_outcomes(workspace_id, user_id):
            if outcome.trace_id in by_trace and outcome.used_item_ids is not None:
                used_in[outcome.trace_id].update(outcome.used_item_ids)
    offered: dict[str, int] = defaultdict(int)
    used: dict[str, int] = defaultdict(int)
    tokens: dict[str, int] = defaultdict(int)
    about: dict[str, tuple[str, str]] = {}
    for trace_id, ids in used_in.items():
        block = by_trace[trace_id]
        for item in block.items:
            if item.get("item_type") != BELIEF:
                continue
            belief_id = str(item.get("id"))
            offered[belief_id] += 1
            tokens[belief_id] += int(item.get("tokens", 0) or 0)
            used[belief_id] += belief_id in ids
            about[belief_id] = (block.user.external_id, str(item.get("text", "")))
    total_offered, total_used = sum(offered.values()), sum(used.values())
    idle = [
        IdleBelief(
            belief_id=belief_id,
            user=about[belief_id][0],
            text=about[belief_id][1],
            offered=n,
            tokens=tokens[belief_id],
        )
        for belief_id, n in offered.items()
        if n >= min_offers and used[belief_id] == 0
    ]
    idle.sort(key=lambda b: (-b.tokens, b.belief_id))
    return BeliefUse(
        reported_traces=len(used_in),
        offered=total_offered,
        used=total_used,
        use_rate=total_used / total_offered if total_offered else None,
        idle=idle[:MOST_LISTED],
    )


__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_MIN_BELIEFS",
    "DEFAULT_MIN_CONFIDENCE",
    "DEFAULT_MIN_OFFERS",
    "SAME_MEANING",
    "BeliefUse",
    "Coverage",
    "IdleBelief",
    "PersonalizationReport",
    "VariantPersonalization",
    "personalization_report",
]
