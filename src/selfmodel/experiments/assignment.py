"""Deterministic assignment: a user's bucket and variant follow from hashing, nothing else.

``sha256`` of a namespace, a key (the layer's name, or the experiment's salt) and the product's
own user id gives the same answer in every process, on every machine, after every restart, and
in any language that has SHA-256 — a product can reproduce an assignment offline.

Two hashes are used, in different namespaces so they are independent:

- the *bucket* (0 … ``BUCKETS`` − 1) decides whether the user is in the experiment at all. In a
  layer, the bucket is the layer's (keyed by the layer's name) and each experiment of the layer
  owns a disjoint range of buckets: a user is in at most one experiment of a layer. Outside
  layers, the bucket is keyed by the experiment's salt and the experiment owns
  ``[0, traffic × BUCKETS)``.
- the *variant draw*, uniform in [0, 1) and keyed by the experiment's salt, picks the variant by
  the cumulative weights; it is independent of the bucket, so the users of a layer range are
  split between variants like any others.

This is the layered design of Tang et al., "Overlapping Experiment Infrastructure: More, Better,
Faster Experimentation" (KDD 2010).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from selfmodel.domain.experiments import BUCKETS, Experiment, Variant

_SEPARATOR = "\x1f"  # unit separator: no name or id holds it (names are [a-z0-9_.:-])
_DRAW_BYTES = 8
_DRAW_SPACE = 1 << (8 * _DRAW_BYTES)


def _draw(namespace: str, key: str, user: str) -> int:
    digest = hashlib.sha256(_SEPARATOR.join((namespace, key, user)).encode("utf-8")).digest()
    return int.from_bytes(digest[:_DRAW_BYTES], "big")


def bucket(experiment: Experiment, user: str) -> int:
    """The user's bucket in the experiment's hash space (its layer's, when it has one)."""
    if experiment.layer is not None:
        return _draw("layer", experiment.layer, user) % BUCKETS
    return _draw("experiment", experiment.salt, user) % BUCKETS


def variant_draw(experiment: Experiment, user: str) -> float:
    """The user's uniform draw in [0, 1) that picks their variant."""
    return _draw("variant", experiment.salt, user) / _DRAW_SPACE


def pick_variant(variants: Sequence[Variant], draw: float) -> Variant:
    """The variant whose share of the cumulative weights holds ``draw``."""
    total = sum(v.weight for v in variants)
    edge = 0.0
    for v in variants:
        edge += v.weight / total
        if draw < edge:
            return v
    return variants[-1]  # draw within rounding of 1.0


def assign(experiment: Experiment, user: str) -> Variant | None:
    """The variant of ``user`` (the product's id), or None outside the experiment's buckets."""
    if not experiment.bucket_start <= bucket(experiment, user) < experiment.bucket_end:
        return None
    return pick_variant(experiment.variants, variant_draw(experiment, user))


def traffic_buckets(traffic: float) -> int:
    """How many buckets a traffic share takes (at least one)."""
    return max(1, round(traffic * BUCKETS))


def free_range(held: Iterable[tuple[int, int]], width: int) -> tuple[int, int] | None:
    """The first range of ``width`` buckets no held range overlaps (first fit), or None."""
    start = 0
    for low, high in sorted(held):
        if low - start >= width:
            break
        start = max(start, high)
    return (start, start + width) if start + width <= BUCKETS else None


__all__ = [
    "assign",
    "bucket",
    "free_range",
    "pick_variant",
    "traffic_buckets",
    "variant_draw",
]
