"""Invariants of the confidence math (docs/confidence.md), checked by hypothesis."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from functools import reduce

from hypothesis import given, settings
from hypothesis import strategies as st

from selfmodel.domain import BeliefKind, ObservationKind, Occasion
from selfmodel.revision.confidence import (
    CEILING,
    KIND_POLICIES,
    confidence,
    evidence_units,
    has_decayed,
    latest,
    with_evidence,
)

START = datetime(2023, 1, 1, tzinfo=UTC)
TOLERANCE = 1e-9

kinds = st.sampled_from(list(BeliefKind))
sources = st.sampled_from(list(ObservationKind))
strengths = st.floats(min_value=0.05, max_value=1.0)
offsets = st.floats(min_value=0.0, max_value=3 * 365.0)  # days after START

Piece = tuple[float, bool, datetime]  # units, supports, when


@st.composite
def evidence(draw: st.DrawFn, supports: bool | None = None) -> Piece:
    """One piece of evidence: its statement units, its stance and when it was observed."""
    stance = draw(st.booleans()) if supports is None else supports
    units = evidence_units(draw(sources), draw(strengths), stated=draw(st.booleans()))
    return units, stance, START + timedelta(days=draw(offsets))


def fold(items: list[Piece]) -> tuple[Occasion, ...]:
    return reduce(
        lambda occasions, e: with_evidence(
            occasions, e[2], support=e[0] if e[1] else 0.0, against=0.0 if e[1] else e[0]
        ),
        items,
        (),
    )


@given(kinds, st.lists(evidence(), max_size=30), offsets)
def test_confidence_is_a_probability_that_inference_never_lifts_to_certainty(
    kind: BeliefKind, items: list[Piece], later: float
) -> None:
    occasions = fold(items)
    for now in (None, START + timedelta(days=later), START + timedelta(days=5000)):
        assert 0.0 <= confidence(occasions, kind, now) <= CEILING < 1.0


@given(kinds, st.lists(evidence(), max_size=20), evidence(supports=True))
def test_more_support_never_lowers_confidence(
    kind: BeliefKind, items: list[Piece], extra: Piece
) -> None:
    before = fold(items)
    after = fold([*items, extra])
    now = max(t for _, _, t in [*items, extra]) + timedelta(days=1)
    assert confidence(after, kind, now) >= confidence(before, kind, now) - TOLERANCE


@given(kinds, st.lists(evidence(), max_size=20), evidence(supports=False))
def test_a_contradiction_never_raises_confidence(
    kind: BeliefKind, items: list[Piece], against: Piece
) -> None:
    before = fold(items)
    after = fold([*items, against])
    now = max(t for _, _, t in [*items, against]) + timedelta(days=1)
    assert confidence(after, kind, now) <= confidence(before, kind, now) + TOLERANCE


@given(kinds, st.lists(evidence(), min_size=1, max_size=20), st.randoms(use_true_random=False))
def test_the_order_of_evidence_does_not_matter(
    kind: BeliefKind, items: list[Piece], random: object
) -> None:
    shuffled = list(items)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    chronological = sorted(items, key=lambda e: e[2])
    now = max(t for _, _, t in items) + timedelta(days=30)
    expected = confidence(fold(chronological), kind, now)
    for order in (shuffled, list(reversed(chronological))):
        assert abs(confidence(fold(order), kind, now) - expected) < 1e-9


@given(kinds, evidence(supports=True), st.integers(min_value=2, max_value=20))
def test_repeating_a_statement_on_the_same_day_adds_nothing(
    kind: BeliefKind, piece: Piece, times: int
) -> None:
    once = fold([piece])
    again = fold([piece] * times)
    assert confidence(again, kind) == confidence(once, kind)


@given(
    kinds,
    st.booleans(),
    st.lists(evidence(), min_size=1, max_size=20),
    st.lists(offsets, max_size=6),
)
@settings(max_examples=200)
def test_decay_moves_one_sided_evidence_monotonically_toward_the_prior_never_past_it(
    kind: BeliefKind, supports: bool, items: list[Piece], gaps: list[float]
) -> None:
    occasions = fold([(units, supports, at) for units, _, at in items])
    prior = KIND_POLICIES[kind].prior
    at = latest(occasions)
    assert at is not None
    moments = [at, *(at + timedelta(days=gap) for gap in sorted(gaps))]
    values = [confidence(occasions, kind, now) for now in moments]
    distances = [abs(v - prior) for v in values]
    assert all(b <= a + TOLERANCE for a, b in itertools.pairwise(distances))
    side = values[0] >= prior
    assert all((v >= prior - TOLERANCE) == side or abs(v - prior) < 1e-6 for v in values)


@given(kinds, st.lists(evidence(supports=True), min_size=1, max_size=10))
def test_only_kinds_with_a_half_life_ever_decay(kind: BeliefKind, items: list[Piece]) -> None:
    far = START + timedelta(days=100 * 365)
    decays = KIND_POLICIES[kind].half_life_days is not None
    assert has_decayed(fold(items), kind, far) == decays
