"""The ranker's fast orderings equal the plain sorts they stand for, checked by hypothesis.

Ranks and the pool order decide which items a block holds and every trace's signals, so the
faster ways of computing them (one integer key instead of two sort keys; picking the best out
before sorting them) must agree with ``np.lexsort`` on everything, ties and signed zeros included.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from selfmodel.retrieval.ranking import _best_first_lazily, _ranks

# Few distinct values, so ties are common; signed zeros, infinities and NaN among them.
VALUES = [-1.0, -0.25, -0.0, 0.0, 0.25, 0.5, 1.0, float("inf"), float("-inf"), float("nan")]
values = st.one_of(st.sampled_from(VALUES), st.floats(width=32, allow_nan=False))


@st.composite
def scored(draw: st.DrawFn, dtype: type = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Scores and a canonical order (a permutation of 0 … n-1)."""
    scores = np.array(draw(st.lists(values, max_size=80)), dtype=dtype)
    order = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).permutation(len(scores))
    return scores, order


def _ranks_by_lexsort(scores: np.ndarray, order: np.ndarray, mask: np.ndarray) -> np.ndarray:
    by_score = np.lexsort((order, -scores))
    by_score = by_score[mask[by_score]]
    ranks = np.zeros(len(scores), dtype=np.int64)
    ranks[by_score] = np.arange(1, len(by_score) + 1)
    return ranks


@settings(max_examples=300, deadline=None)
@given(scored(), st.integers(0, 2**32 - 1))
def test_ranks_are_those_of_a_sort_by_score_then_canonical_order(
    case: tuple[np.ndarray, np.ndarray], seed: int
) -> None:
    scores, order = case
    mask = np.random.default_rng(seed).random(len(scores)) < 0.7
    everyone = np.ones(len(scores), dtype=bool)
    assert np.array_equal(_ranks(scores, order), _ranks_by_lexsort(scores, order, everyone))
    assert np.array_equal(_ranks(scores, order, mask), _ranks_by_lexsort(scores, order, mask))
    # Fused scores are float64: the same order through the two-key sort.
    wide = scores.astype(np.float64)
    assert np.array_equal(_ranks(wide, order, mask), _ranks_by_lexsort(wide, order, mask))


@settings(max_examples=300, deadline=None)
@given(scored(np.float64), st.integers(0, 100), st.integers(0, 2**32 - 1))
def test_the_pool_is_read_in_the_order_of_a_full_sort_however_far_it_is_read(
    case: tuple[np.ndarray, np.ndarray], first: int, seed: int
) -> None:
    scores, order = case
    positions = np.flatnonzero(np.random.default_rng(seed).random(len(scores)) < 0.7)
    full = np.lexsort((order, -scores))
    expected = full[np.isin(full, positions)].tolist()
    assert list(_best_first_lazily(scores, order, positions, first)) == expected
