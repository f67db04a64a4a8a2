"""Invariants of the confidence math (docs/confidence.md), checked by hypothesis."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from functools import reduce

from hypothesis import given, settings
from hypothesis import strategies as st

from selfmodel.domain import BeliefKind, ObservationKind
from selfmodel.revision.confidence import (
    KIND_POLICIES,
    EvidenceState,
    confidence,
    evidence_weight,
    has_decayed,
)

START = datetime(2023, 1, 1, tzinfo=UTC)
TOLERANCE = 1e-9

kinds = st.sampled_from(list(BeliefKind))
sources = st.sampled_from(list(ObservationKind))
strengths = st.floats(min_value=0.05, max_value=1.0)
offsets = st.floats(min_value=0.0, max_value=3 * 365.0)  # days after START


@st.composite
def evidence(draw: st.DrawFn, supports: bool | None = None) -> tuple[float, datetime]:
    """One piece of evidence: its log-odds weight and when it was observed."""
    stance = draw(st.booleans()) if supports is None else supports
    weight = evidence_weight(
        draw(sources), draw(strengths), stated=draw(st.booleans()), supports=stance
    )
    return weight, START + timedelta(days=draw(offsets))


def fold(items: list[tuple[float, datetime]], kind: BeliefKind) -> EvidenceState:
    return reduce(lambda s, e: s.add(e[0], e[1], kind), items, EvidenceState())


@given(kinds, st.lists(evidence(), max_size=30), offsets)
def test_confidence_is_always_a_probability(
    kind: BeliefKind, items: list[tuple[float, datetime]], later: float
) -> None:
    state = fold(items, kind)
    for now in (None, START + timedelta(days=later), START + timedelta(days=5000)):
        assert 0.0 <= confidence(state, kind, now) <= 1.0


@given(kinds, st.lists(evidence(), max_size=20), evidence(supports=True))
def test_more_independent_support_never_lowers_confidence(
    kind: BeliefKind, items: list[tuple[float, datetime]], extra: tuple[float, datetime]
) -> None:
    before = fold(items, kind)
    after = before.add(extra[0], extra[1], kind)
    # Compared at one moment after all the evidence, so decay does not mix in.
    now = max([t for _, t in [*items, extra]]) + timedelta(days=1)
    assert confidence(after, kind, now) >= confidence(before, kind, now) - TOLERANCE


@given(kinds, st.lists(evidence(), max_size=20), evidence(supports=False))
def test_contradiction_never_raises_confidence(
    kind: BeliefKind, items: list[tuple[float, datetime]], against: tuple[float, datetime]
) -> None:
    before = fold(items, kind)
    after = before.add(against[0], against[1], kind)
    now = max([t for _, t in [*items, against]]) + timedelta(days=1)
    assert confidence(after, kind, now) <= confidence(before, kind, now) + TOLERANCE


@given(kinds, st.lists(evidence(), min_size=1, max_size=20), st.randoms(use_true_random=False))
def test_the_order_of_independent_evidence_does_not_matter(
    kind: BeliefKind, items: list[tuple[float, datetime]], random: object
) -> None:
    shuffled = list(items)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    chronological = sorted(items, key=lambda e: e[1])
    now = max(t for _, t in items) + timedelta(days=30)
    expected = confidence(fold(chronological, kind), kind, now)
    for order in (shuffled, list(reversed(chronological))):
        assert abs(confidence(fold(order, kind), kind, now) - expected) < 1e-9


@given(kinds, st.lists(evidence(), min_size=1, max_size=20), st.lists(offsets, max_size=6))
@settings(max_examples=200)
def test_decay_moves_monotonically_toward_the_prior(
    kind: BeliefKind, items: list[tuple[float, datetime]], gaps: list[float]
) -> None:
    state = fold(items, kind)
    prior = KIND_POLICIES[kind].prior
    assert state.at is not None
    moments = [state.at]
    for gap in sorted(gaps):
        moments.append(state.at + timedelta(days=gap))
    distances = [abs(confidence(state, kind, now) - prior) for now in moments]
    assert all(b <= a + TOLERANCE for a, b in itertools.pairwise(distances))
    # Never past the prior: supported beliefs stay above it, contradicted ones below.
    for now in moments:
        if state.logit_sum >= 0:
            assert confidence(state, kind, now) >= prior - TOLERANCE
        else:
            assert confidence(state, kind, now) <= prior + TOLERANCE


@given(kinds, st.lists(evidence(supports=True), min_size=1, max_size=10))
def test_only_kinds_with_a_half_life_ever_decay(
    kind: BeliefKind, items: list[tuple[float, datetime]]
) -> None:
    state = fold(items, kind)
    far = START + timedelta(days=100 * 365)
    assert has_decayed(state, kind, far) == (KIND_POLICIES[kind].half_life_days is not None)
