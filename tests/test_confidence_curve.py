"""The worked examples of docs/confidence.md, recomputed from the code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from selfmodel.domain import BeliefKind, ObservationKind, Occasion
from selfmodel.revision.confidence import (
    confidence,
    evidence_units,
    has_decayed,
    with_evidence,
)

START = datetime(2024, 3, 1, 9, tzinfo=UTC)


def occasions(days: int, *, units: float = 1.0) -> tuple[Occasion, ...]:
    """``days`` consistent plain statements, one a day."""
    found: tuple[Occasion, ...] = ()
    for day in range(days):
        found = with_evidence(found, START + timedelta(days=day), support=units)
    return found


@pytest.mark.parametrize(
    ("days", "expected"),
    [(1, 0.60), (2, 0.69), (3, 0.74), (5, 0.80), (8, 0.84), (14, 0.87), (30, 0.91)],
)
def test_the_documented_curve_of_consistent_occasions(days: int, expected: float) -> None:
    assert confidence(occasions(days), BeliefKind.PREFERENCE) == pytest.approx(expected, abs=0.006)


def test_saying_it_five_times_in_one_conversation_is_one_occasion() -> None:
    same_day: tuple[Occasion, ...] = ()
    for minute in range(5):
        same_day = with_evidence(same_day, START + timedelta(minutes=minute), support=1.0)
    assert confidence(same_day, BeliefKind.PREFERENCE) == pytest.approx(0.60, abs=0.005)


def test_one_fresh_contradiction_takes_fourteen_occasions_to_even_odds() -> None:
    held = occasions(14)
    contradicted = with_evidence(held, START + timedelta(days=20), against=1.0)
    assert confidence(held, BeliefKind.PREFERENCE) == pytest.approx(0.87, abs=0.006)
    assert confidence(contradicted, BeliefKind.PREFERENCE) == pytest.approx(0.50, abs=0.02)


def test_hedged_inferred_and_deliberate_evidence_weigh_differently() -> None:
    message = evidence_units(ObservationKind.MESSAGE, 1.0, stated=True)
    inferred = evidence_units(ObservationKind.MESSAGE, 1.0, stated=False)
    hedged = evidence_units(ObservationKind.MESSAGE, 0.5, stated=True)
    chosen = evidence_units(ObservationKind.SELECTION, 1.0, stated=True)
    values = [
        confidence(occasions(1, units=u), BeliefKind.PREFERENCE)
        for u in (hedged, inferred, message, chosen)
    ]
    assert values == sorted(values)
    assert values[2] == pytest.approx(0.60, abs=0.005)


def test_a_plan_fades_to_its_prior_in_months_and_an_experience_never_does() -> None:
    plan = occasions(1)
    later = START + timedelta(days=60)
    assert confidence(plan, BeliefKind.PLAN, later) < confidence(plan, BeliefKind.PLAN)
    assert has_decayed(plan, BeliefKind.PLAN, START + timedelta(days=200))
    assert not has_decayed(plan, BeliefKind.EXPERIENCE, START + timedelta(days=20 * 365))
    assert confidence(plan, BeliefKind.EXPERIENCE, later) == confidence(plan, BeliefKind.EXPERIENCE)
